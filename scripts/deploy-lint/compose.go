package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// lintCompose loads a Compose file as `docker compose config` does: the Compose Specification's
// JSON schema, interpolation, then the model's consistency (networks, volumes, dependencies).
func lintCompose(path string) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs, Content: dt}},
		Environment: types.Mapping{},
	}
	project, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("lint", true)
		o.ResolvePaths = true
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d services (%v)\n", path, len(project.Services), project.ServiceNames())
	return nil
}
