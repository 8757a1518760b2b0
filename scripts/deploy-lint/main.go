// Command deploy-lint checks the deployment files offline, as CI cannot reach a container
// registry or run Grafana: Dockerfiles with BuildKit's own lint rules (those of `docker build
// --check`), Compose files as `docker compose config` loads them (the Compose Specification's
// schema, then the model), Grafana dashboards' PromQL with Prometheus's own parser (it prints the
// metric names each panel selects, for a test to check against the service's /metrics).
// Kubernetes manifests are decoded strictly into the API's own Go types (k8s.io/api).
// Usage: deploy-lint FILE... (.yaml/.yml: Kubernetes objects when they have an apiVersion, else
// Compose; .json: dashboard; else Dockerfile). Exit 1 on a warning or an error.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
)

// offline stands in for the registry: every base image is an empty linux/amd64 image, so the
// rules that look at a stage's base run without a network.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":[]}}`)
	return ref, digest.FromBytes(config), config, nil
}

// lintDockerfile prints each warning as FILE:LINE: RULE: detail (url); returns how many.
func lintDockerfile(path string) (int, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	ctx := context.Background()
	src := llb.Scratch()
	def, err := src.Marshal(ctx)
	if err != nil {
		return 0, err
	}
	smap := llb.NewSourceMap(&src, path, "Dockerfile", dt)
	smap.Definition = def
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{},
		SourceMap:    smap,
		MetaResolver: offline{},
	})
	if err != nil {
		return 0, err
	}
	for _, w := range res.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d: %s: %s (%s)\n", path, line, w.RuleName, w.Detail, w.URL)
	}
	if len(res.Warnings) == 0 {
		fmt.Printf("%s: no lint warnings\n", path)
	}
	return len(res.Warnings), nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: deploy-lint FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		if strings.HasSuffix(path, ".json") {
			if err := lintDashboard(path); err != nil {
				fmt.Printf("%s: %v\n", path, err)
				failed = true
			}
			continue
		}
		if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
			if dt, err := readFile(path); err == nil && isKubernetes(dt) {
				if err := lintKubernetes(path, dt); err != nil {
					fmt.Printf("%s: %v\n", path, err)
					failed = true
				}
				continue
			}
			if err := lintCompose(path); err != nil {
				fmt.Printf("%s: %v\n", path, err)
				failed = true
			}
			continue
		}
		n, err := lintDockerfile(path)
		if err != nil {
			fmt.Printf("%s: %v\n", path, err)
		}
		failed = failed || n > 0 || err != nil
	}
	if failed {
		os.Exit(1)
	}
}
