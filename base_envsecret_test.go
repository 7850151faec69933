package main

import (
	"strings"
	"testing"
)

// TestBuildEnvSecretIsNotTheBase: envsecret's ENV NPM_TOKEN right after
// FROM base:1 makes no layer, yet it is the build's secret: never listed
// under the base, and it fails CI however the base is found. BuildKit
// gives RUN echo a layer (the finding's); the legacy builder gives it
// none, so the build has no layer of its own: the daemon's search finds no
// proper prefix, and with --base the finding stays on layer 0, the build's
// all the same.
func TestBuildEnvSecretIsNotTheBase(t *testing.T) {
	needTestImages(t)
	needTool(t, "docker")
	t.Setenv("CI", "")
	dir := t.TempDir()
	for _, b := range []string{"legacy", "buildkit"} {
		ref := "layerscope-test/envsecret:" + b
		app, base := dir+"/envsecret-"+b+".tar", dir+"/base.tar"
		sh(t, "docker", "save", "-o", app, ref)
		if b == "legacy" {
			sh(t, "docker", "save", "-o", base, "layerscope-test/base:1")
		}
		buildLayer := map[string]int{"legacy": 0, "buildkit": 1}[b]
		for _, tc := range []struct {
			name       string
			args       []string
			baseLayers any
		}{
			{"the daemon's base", []string{ref}, map[string]any{"legacy": nil, "buildkit": float64(1)}[b]},
			{"--base archives", []string{"--base", base, app}, float64(1)},
		} {
			t.Run(b+", "+tc.name, func(t *testing.T) {
				code, stdout, stderr := layerscope(t, nil, append([]string{"--ci"}, tc.args...)...)
				if code != 1 || !strings.Contains(stdout, "FAIL  fail-on") {
					t.Errorf("exit %d, want 1 (fail-on):\n%s%s", code, stdout, stderr)
				}
				if _, fromBase, _ := strings.Cut(stdout, "From the base image"); strings.Contains(fromBase, "NPM_TOKEN") {
					t.Errorf("the build's NPM_TOKEN is listed under the base:\n%s", stdout)
				}
				if !strings.Contains(stdout, "NPM_TOKEN") || strings.Contains(stdout, "npm_k3Jf") {
					t.Errorf("want the finding named, its value never shown:\n%s", stdout)
				}
				rep := jsonReport(t, tc.args...)
				if s := rep["summary"].(map[string]any); s["baseLayers"] != tc.baseLayers {
					t.Fatalf("baseLayers = %v, want %v", s["baseLayers"], tc.baseLayers)
				}
				for _, f := range rep["findings"].([]any) {
					f := f.(map[string]any)
					if strings.Contains(f["message"].(string), "NPM_TOKEN") && (f["base"] == true || f["layer"] != float64(buildLayer)) {
						t.Errorf("the NPM_TOKEN finding: %v, want layer %d, not the base's", f, buildLayer)
					}
				}
			})
		}
	}
}
