package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// dashboard is the part of a Grafana dashboard's JSON that holds queries: panels (in rows too)
// and their targets' PromQL.
type dashboard struct {
	Panels []panel `json:"panels"`
}

type panel struct {
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Panels  []panel  `json:"panels"`
	Targets []target `json:"targets"`
}

type target struct {
	Expr string `json:"expr"`
}

// promql is Prometheus's parser with its default options (its own functions).
var promql = parser.NewParser(parser.Options{})

// grafanaVars stands in for Grafana's own interval variables, which it replaces before a query
// reaches Prometheus.
var grafanaVars = strings.NewReplacer("${__rate_interval}", "5m", "$__rate_interval", "5m",
	"${__interval}", "1m", "$__interval", "1m", "${__range}", "1h", "$__range", "1h")

// lintDashboard parses every panel's PromQL with Prometheus's own parser and prints, as JSON,
// the metric names each panel selects: {"panel title": ["metric", ...]}. A query that does not
// parse, or a panel without one, is an error.
func lintDashboard(path string) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d dashboard
	if err := json.Unmarshal(dt, &d); err != nil {
		return fmt.Errorf("not a dashboard: %w", err)
	}
	metrics := map[string][]string{}
	var walk func(ps []panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			if err := walk(p.Panels); err != nil {
				return err
			}
			if p.Type == "row" {
				continue // its panels, when collapsed, were walked above
			}
			if len(p.Targets) == 0 {
				return fmt.Errorf("panel %q has no query", p.Title)
			}
			names := map[string]bool{}
			for _, t := range p.Targets {
				expr, err := promql.ParseExpr(grafanaVars.Replace(t.Expr))
				if err != nil {
					return fmt.Errorf("panel %q: %w", p.Title, err)
				}
				parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
					if v, ok := node.(*parser.VectorSelector); ok {
						names[v.Name] = true
					}
					return nil
				})
			}
			for n := range names {
				metrics[p.Title] = append(metrics[p.Title], n)
			}
			sort.Strings(metrics[p.Title])
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return err
	}
	out, _ := json.Marshal(metrics)
	fmt.Println(string(out))
	return nil
}
