package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailOnEdgeCases: none stands alone, and an empty list is an error
// (it used to fall back to the default set, or drop none silently; on the
// sample, which holds secrets, both exited 1).
func TestFailOnEdgeCases(t *testing.T) {
	t.Setenv("CI", "")
	sampleAbs := abs(t, sample)
	for _, tc := range []struct {
		name   string
		config string // .layerscope.yaml, when not ""
		args   []string
		code   int
		want   string
	}{
		{"--fail-on= is an error", "", []string{"--fail-on="}, 2, "--fail-on is empty: write none"},
		{"--fail-on '' is an error", "", []string{"--fail-on", ""}, 2, "--fail-on is empty"},
		{"--fail-on none,secret is an error", "", []string{"--fail-on", "none,secret"}, 2, "--fail-on: none stands alone"},
		{"--fail-on base alone is an error", "", []string{"--fail-on", "base"}, 2, "name the categories or severities"},
		{"--fail-on none passes", "", []string{"--fail-on", "none"}, 0, "limit none"},
		{"--fail-on base,secret judges secrets", "", []string{"--fail-on", "base,secret"}, 1, "limit base,secret"},
		{"config fail-on: \"\" is an error", "fail-on: \"\"\n", nil, 2, "config file .layerscope.yaml: fail-on is empty"},
		{"config fail-on: [] is an error", "fail-on: []\n", nil, 2, "fail-on is empty"},
		{"config fail-on: [none, secret] is an error", "fail-on: [none, secret]\n", nil, 2, "none stands alone"},
		{"a flag wins over a bad config", "fail-on: []\n", []string{"--fail-on", "none"}, 0, "limit none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tc.config != "" {
				if err := os.WriteFile(".layerscope.yaml", []byte(tc.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := layerscope(t, nil, append([]string{"--ci", sampleAbs}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}

// TestBaseFlag: a --base that cannot be read is exit 2, naming the flag;
// the image itself as its base makes every layer the base's.
func TestBaseFlag(t *testing.T) {
	t.Setenv("CI", "")
	sampleAbs := abs(t, sample)
	for _, tc := range []struct {
		name  string
		args  []string
		stdin []byte
		code  int
		want  string
	}{
		{"a base that is not there", []string{"--base", "/nonexistent/base.tar", sampleAbs}, nil, 2, "--base /nonexistent/base.tar: /nonexistent/base.tar: no such file or directory"},
		{"both on standard input", []string{"--base", "-", "-"}, []byte("x"), 2, "--base - and an image on - cannot both read standard input"},
		{"the image as its own base: its layers' findings are the base's, its secrets fail all the same", []string{"--format", "json", "--base", sampleAbs, sampleAbs}, nil, 1, `"buildWastePercent": 0,`},
		{"the image as its own base, fail-on warning: the config's root user is not the base's", []string{"--fail-on", "warning", "--base", sampleAbs, sampleAbs}, nil, 1, "FAIL  fail-on            limit warning    value 1"},
		{"--base none", []string{"--format", "json", "--base", "none", sampleAbs}, nil, 1, `"wastePercent"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := layerscope(t, tc.stdin, append([]string{"--ci"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}

// onbase's figures by hand (testdata/dockerfiles/onbase/Dockerfile): the
// layers above its base (ownbase:legacy, 3 layers) hold 100,000 + 40,000
// bytes; the build removed /srv/a.bin (300,000 bytes of the base) and
// replaced its own /app/x.bin (100,000 bytes).
const (
	onbaseWasted  = 300_000 + 100_000
	onbaseRemoved = 300_000
	onbaseAbove   = 100_000 + 40_000
)

var onbasePercent = 100 * float64(onbaseWasted) / float64(onbaseAbove+onbaseRemoved)

// TestBaseOnRealImages: the base found by the daemon's prefix search, named
// by --base (a daemon image or an archive, the image an archive too), and a
// --base that is not the image's; the base's findings marked and not
// failing CI; buildWastePercent as computed by hand, with both builders.
func TestBaseOnRealImages(t *testing.T) {
	needTestImages(t)
	needTool(t, "docker")
	t.Setenv("CI", "")
	dir := t.TempDir()
	save := func(ref string) string {
		p := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".tar")
		if _, err := os.Stat(p); err != nil {
			sh(t, "docker", "save", "-o", p, ref)
		}
		return p
	}
	type want struct {
		base, from string
		layers     int
		percent    float64 // buildWastePercent; 0: not checked
		warning    string
	}
	cases := []struct {
		name string
		args []string
		want want
	}{
		{"debuser (FROM debian:12), by the daemon", []string{"layerscope-test/debuser:legacy"}, want{base: "layerscope-test/debian:12", from: "daemon", layers: 1}},
		{"debuser built by BuildKit, by the daemon", []string{"layerscope-test/debuser:buildkit"}, want{base: "layerscope-test/debian:12", from: "daemon", layers: 1}},
		{"whiteouts (FROM base:1), by the daemon", []string{"layerscope-test/whiteouts:buildkit"}, want{base: "layerscope-test/base:1", from: "daemon", layers: 1}},
		{"--base not a prefix: a warning, no base", []string{"--base", "layerscope-test/debian:12", "layerscope-test/onbase:legacy"}, want{warning: "is not this image's base"}},
		{"an archive without --base: no base", []string{save("layerscope-test/onbase:legacy")}, want{}},
	}
	for _, b := range []string{"legacy", "buildkit"} {
		ref := "layerscope-test/onbase:" + b
		cases = append(cases,
			struct {
				name string
				args []string
				want want
			}{"onbase:" + b + ", by the daemon", []string{ref}, want{base: "layerscope-test/ownbase:legacy", from: "daemon", layers: 3, percent: onbasePercent}},
			struct {
				name string
				args []string
				want want
			}{"onbase:" + b + ", an archive, --base an archive", []string{"--base", save("layerscope-test/ownbase:legacy"), save(ref)}, want{base: save("layerscope-test/ownbase:legacy"), from: "flag", layers: 3, percent: onbasePercent}},
			struct {
				name string
				args []string
				want want
			}{"onbase:" + b + ", --base a daemon image", []string{"--base", "layerscope-test/ownbase:legacy", ref}, want{base: "layerscope-test/ownbase:legacy", from: "flag", layers: 3, percent: onbasePercent}},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := jsonReport(t, tc.args...)
			s := rep["summary"].(map[string]any)
			warnings, _ := rep["warnings"].([]any)
			found := false
			for _, w := range warnings {
				found = found || (tc.want.warning != "" && strings.Contains(w.(string), tc.want.warning))
			}
			if found != (tc.want.warning != "") {
				t.Errorf("warnings %q, want one with %q", warnings, tc.want.warning)
			}
			layers := rep["layers"].([]any)
			if tc.want.base == "" {
				for _, k := range baseFields {
					if _, ok := s[k]; ok {
						t.Errorf("summary.%s = %v: want no base", k, s[k])
					}
				}
				return
			}
			base, _ := s["base"].(map[string]any)
			if base != nil && tc.want.from == "daemon" && base["name"] != tc.want.base && sameLayers(t, base["name"].(string), tc.want.base) {
				// Another image in the daemon has the base's very layers
				// (a retag, a laptop's own image): either is the base.
				t.Logf("the daemon names %v, whose layers are %s's", base["name"], tc.want.base)
				base["name"] = tc.want.base
			}
			if base == nil || base["name"] != tc.want.base || base["from"] != tc.want.from || s["baseLayers"] != float64(tc.want.layers) {
				t.Fatalf("base %v, %v layers: want %s from %s, %d layers", base, s["baseLayers"], tc.want.base, tc.want.from, tc.want.layers)
			}
			for i, l := range layers {
				if got := l.(map[string]any)["base"] == true; got != (i < tc.want.layers) {
					t.Errorf("layer %d: base = %v", i, got)
				}
			}
			p := s["buildWastePercent"].(float64)
			if p < 0 || p > 100 {
				t.Errorf("buildWastePercent = %v: out of 0-100", p)
			}
			if tc.want.percent == 0 {
				return
			}
			if p != tc.want.percent || s["buildWastedBytes"] != float64(onbaseWasted) || s["baseRemovedBytes"] != float64(onbaseRemoved) {
				t.Errorf("buildWastePercent %v, buildWastedBytes %v, baseRemovedBytes %v: want %v, %d, %d",
					p, s["buildWastedBytes"], s["baseRemovedBytes"], tc.want.percent, onbaseWasted, onbaseRemoved)
			}
			// The base's key: marked, and listed apart.
			keys := 0
			for _, f := range rep["findings"].([]any) {
				f := f.(map[string]any)
				if f["category"] == "secret" {
					keys++
					if f["base"] != true || f["layer"] != float64(2) {
						t.Errorf("the base's key: %v", f)
					}
				}
			}
			if keys != 1 {
				t.Errorf("%d secret findings, want the base's key", keys)
			}
		})
	}

	// The verdict: the base's key is listed as the base's, and fails CI
	// all the same: a secret fails whoever shipped it.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 1, "From the base image (choose a slimmer base or a distroless one)"},
		{[]string{"--fail-on", "error"}, 1, "FAIL  fail-on            limit error      value 1"},
		{[]string{"--fail-on", "base,secret"}, 1, "FAIL  fail-on            limit base,secret value 1"},
		{[]string{"--base", "none"}, 1, "FAIL  fail-on"},
	} {
		t.Run("verdict "+strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := layerscope(t, nil, append([]string{"--ci", "layerscope-test/onbase:buildkit"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}

// TestBaseSearchIsCheap: the daemon's prefix search inspects, it never
// exports: docker's event log shows the image's own export, not the
// base's.
func TestBaseSearchIsCheap(t *testing.T) {
	needTestImages(t)
	needTool(t, "docker")
	t.Setenv("CI", "")
	since := strings.TrimSpace(run1(t, "date", "+%s"))
	rep := jsonReport(t, "layerscope-test/debuser:legacy")
	if rep["summary"].(map[string]any)["base"] == nil {
		t.Fatal("no base found")
	}
	// Events are stamped in nanoseconds, --until in seconds: a margin.
	until := strings.TrimSpace(run1(t, "date", "-d", "+2 seconds", "+%s"))
	// Only the base's exports count: other tests may export other images
	// meanwhile.
	baseID := strings.TrimSpace(run1(t, "docker", "image", "inspect", "--format", "{{.Id}}", "layerscope-test/debian:12"))
	events := run1(t, "docker", "events", "--since", since, "--until", until, "--filter", "type=image", "--filter", "event=save", "--format", "{{.Actor.ID}}")
	if strings.Contains(events, baseID) {
		t.Errorf("the base search exported the base %s: %q", baseID, events)
	}
	if !strings.Contains(events, rep["image"].(map[string]any)["id"].(string)) {
		t.Errorf("the events lack the image's own export: %q (is the check blind?)", events)
	}
}

func run1(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// sameLayers reports whether two daemon images have the same layers.
func sameLayers(t *testing.T, a, b string) bool {
	t.Helper()
	layers := func(ref string) string {
		out, err := exec.Command("docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", ref).Output()
		if err != nil {
			return "(" + ref + ": " + err.Error() + ")"
		}
		return string(out)
	}
	return layers(a) == layers(b)
}
