package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// kubeKinds are the objects deploy/kubernetes may hold, as the API server's Go types define them.
var kubeKinds = map[string]func() any{
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/PersistentVolumeClaim":               func() any { return &corev1.PersistentVolumeClaim{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// isKubernetes says whether a YAML file holds Kubernetes objects (an apiVersion and a kind).
func isKubernetes(dt []byte) bool {
	return bytes.Contains(dt, []byte("\napiVersion:")) || bytes.HasPrefix(dt, []byte("apiVersion:"))
}

// lintKubernetes decodes every document of a manifest strictly into the Kubernetes API types:
// an unknown or misspelt field, a value of the wrong type, or a kind this project does not
// deploy is an error. Prints the objects found.
func lintKubernetes(path string, dt []byte) error {
	var found []string
	for i, doc := range strings.Split(string(dt), "\n---") {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			return fmt.Errorf("document %d: %v", i+1, err)
		}
		newObject, ok := kubeKinds[head.APIVersion+"/"+head.Kind]
		if !ok {
			return fmt.Errorf("document %d: unknown kind %s %s", i+1, head.APIVersion, head.Kind)
		}
		if head.Metadata.Name == "" {
			return fmt.Errorf("document %d: %s without metadata.name", i+1, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), newObject()); err != nil {
			return fmt.Errorf("%s %s: %v", head.Kind, head.Metadata.Name, err)
		}
		found = append(found, head.Kind+"/"+head.Metadata.Name)
	}
	sort.Strings(found)
	fmt.Printf("%s: %d Kubernetes objects (%s)\n", path, len(found), strings.Join(found, " "))
	return nil
}

func stripComments(doc string) string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
