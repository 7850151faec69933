package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// runDiffJSON runs `layerscope diff --ci --format json ARGS` and decodes
// the report.
func runDiffJSON(t *testing.T, wantCode int, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code, err := run(ctx, append([]string{"diff", "--ci", "--format", "json", "--dockerfile", "none"}, args...), nil, &out, &errb)
	if err != nil || code != wantCode {
		t.Fatalf("diff %q: exit %d, %v (want %d); stderr %s", args, code, err, wantCode, errb.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("diff %q: %v\n%s", args, err, out.String())
	}
	return v
}

func changedPaths(v map[string]any, change string) []string {
	var out []string
	for _, p := range v["paths"].([]any) {
		m := p.(map[string]any)
		if m["change"] == change {
			out = append(out, m["path"].(string))
		}
	}
	return out
}

func findingRules(v map[string]any, which string) []string {
	var out []string
	for _, f := range v["findings"].(map[string]any)[which].([]any) {
		out = append(out, f.(map[string]any)["rule"].(string))
	}
	slices.Sort(out)
	return out
}

// Issue 12: a single-stage Go image against its multi-stage rewrite, from
// both builders: the toolchain, the source and the caches go, their
// findings are fixed, and what ships falls.
func TestDiffGoMultiStageOnRealImages(t *testing.T) {
	needTestImages(t)
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			v := runDiffJSON(t, exitPass, "layerscope-test/gobuild:"+builder, "layerscope-test/gomulti:"+builder)
			if v["kind"] != "diff" || v["schemaVersion"] != 1.0 {
				t.Fatalf("kind %v, schemaVersion %v", v["kind"], v["schemaVersion"])
			}
			removed := changedPaths(v, "removed")
			for _, p := range []string{"/usr/local/go/bin/go", "/src/main.go", "/root/.cache/go-build/ab/abcdef-d", "/root/go/pkg/mod/cache/download.zip"} {
				if !slices.Contains(removed, p) {
					t.Errorf("%s not removed", p)
				}
			}
			if added := changedPaths(v, "added"); !slices.Equal(added, []string{"/server"}) {
				t.Errorf("added = %q, want /server", added)
			}
			sum := v["summary"].(map[string]any)
			if sum["contentBytesDelta"].(float64) >= 0 || sum["finalBytesDelta"].(float64) >= 0 {
				t.Errorf("shipped bytes did not fall: %v", sum)
			}
			if int(sum["removed"].(float64)) != len(removed) {
				t.Errorf("summary.removed %v, paths %d", sum["removed"], len(removed))
			}
			fixed := findingRules(v, "fixed")
			for _, r := range []string{"go-toolchain", "go-build-cache", "source-code", "run-as-root"} {
				if !slices.Contains(fixed, r) {
					t.Errorf("fixed %q lacks %s", fixed, r)
				}
			}
			if n := findingRules(v, "new"); len(n) != 0 {
				t.Errorf("new findings %q", n)
			}
			if v["sharedLayers"] != 0.0 {
				t.Errorf("sharedLayers %v: FROM scratch shares nothing", v["sharedLayers"])
			}
		})
		t.Run(builder+"/the other way round fails --fail-on toolchain and the growth rules", func(t *testing.T) {
			v := runDiffJSON(t, exitFail, "--fail-on", "toolchain", "--max-growth", "1MB", "--max-growth-percent", "5",
				"layerscope-test/gomulti:"+builder, "layerscope-test/gobuild:"+builder)
			failed := []string{}
			for _, r := range v["ci"].(map[string]any)["rules"].([]any) {
				if m := r.(map[string]any); m["pass"] == false {
					failed = append(failed, m["name"].(string))
				}
			}
			if want := []string{"max-growth", "max-growth-percent", "fail-on"}; !slices.Equal(failed, want) {
				t.Errorf("failed %q, want %q", failed, want)
			}
		})
	}
}

// An image against itself: nothing changed, every layer shared; also
// between sources (the daemon and its own export).
func TestDiffSelfOnRealImages(t *testing.T) {
	needTestImages(t)
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			ref := "layerscope-test/waste:" + builder
			v := runDiffJSON(t, exitPass, ref, ref)
			sum := v["summary"].(map[string]any)
			for _, k := range []string{"added", "removed", "changed", "contentBytesDelta", "finalBytesDelta", "wastedBytesDelta"} {
				if sum[k] != 0.0 {
					t.Errorf("%s = %v", k, sum[k])
				}
			}
			if len(v["paths"].([]any)) != 0 || len(findingRules(v, "new")) != 0 || len(findingRules(v, "fixed")) != 0 {
				t.Errorf("changes against itself: %v", v["paths"])
			}
			layers := v["old"].(map[string]any)["summary"].(map[string]any)["layers"]
			if v["sharedLayers"] != layers {
				t.Errorf("sharedLayers %v of %v", v["sharedLayers"], layers)
			}
		})
	}
}

// The command's arguments: the errors are one line and exit 2; an archive
// on standard input is one of the two.
func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	oldTar := filepath.Join(dir, "old.tar")
	newTar := filepath.Join(dir, "new.tar")
	base := it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "debian"))
	write := func(p string, img it.Image) {
		if err := os.WriteFile(p, it.Tar(it.DockerArchive(img)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(oldTar, it.Image{User: "1", Layers: [][]byte{base}})
	write(newTar, it.Image{User: "1", Layers: [][]byte{base, it.Layer(it.Reg("big", strings.Repeat("x", 2_000_000)))}})
	newBytes, _ := os.ReadFile(newTar)
	for _, tc := range []struct {
		name  string
		args  []string
		stdin []byte
		code  int
		out   string // in stdout, or in the error
	}{
		{"one image", []string{oldTar}, nil, exitError, "diff compares two images"},
		{"three images", []string{oldTar, newTar, oldTar}, nil, exitError, "diff compares two images"},
		{"two standard inputs", []string{"-", "-"}, nil, exitError, "at most one of OLD and NEW"},
		{"a format diff does not write", []string{"--format", "sarif", oldTar, newTar}, nil, exitError, "diff writes text or json"},
		{"a bad size", []string{"--max-growth", "lots", oldTar, newTar}, nil, exitError, "--max-growth"},
		{"a missing image names its side", []string{oldTar, filepath.Join(dir, "nope.tar")}, nil, exitError, "NEW "},
		{"text: the summary line first", []string{oldTar, newTar}, nil, exitPass, "+2.0 MB shipped: +1 file, −0 files, 0 changed\n"},
		{"growth within the limit", []string{"--max-growth", "3MB", oldTar, newTar}, nil, exitPass, "PASS  max-growth"},
		{"growth over the limit", []string{"--max-growth", "1MB", oldTar, newTar}, nil, exitFail, "FAIL  max-growth"},
		{"growth over the percent", []string{"--max-growth-percent", "50", oldTar, newTar}, nil, exitFail, "FAIL  max-growth-percent"},
		{"standard input for NEW", []string{"--max-growth", "1MB", oldTar, "-"}, newBytes, exitFail, "FAIL  max-growth"},
		{"growth flags belong to diff", []string{"--max-growth", "1MB", oldTar}, nil, exitError, "layerscope diff OLD NEW"},
		{"diff after a flag", []string{"--ci", "diff", oldTar, newTar}, nil, exitError, "diff comes first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"diff", "--ci", "--dockerfile", "none"}, tc.args...)
			if tc.name == "growth flags belong to diff" || tc.name == "diff after a flag" {
				args = append([]string{"--ci"}, tc.args...)
			}
			var out, errb bytes.Buffer
			code, err := run(ctx, args, bytes.NewReader(tc.stdin), &out, &errb)
			got := out.String()
			if err != nil {
				got = err.Error()
				if strings.Contains(got, "\n") {
					t.Errorf("error of several lines: %q", got)
				}
			}
			if code != tc.code || !strings.Contains(got, tc.out) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.out, got)
			}
		})
	}
	t.Run("the config's keys", func(t *testing.T) {
		cfg := filepath.Join(dir, "ci.yaml")
		if err := os.WriteFile(cfg, []byte("rules:\n  max-growth: 1MB\n  max-growth-percent: 100\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		v := runDiffJSON(t, exitFail, "--ci-config", cfg, oldTar, newTar)
		var from []string
		for _, r := range v["ci"].(map[string]any)["rules"].([]any) {
			m := r.(map[string]any)
			from = append(from, m["name"].(string)+"@"+filepath.Base(m["from"].(string)))
		}
		if want := []string{"max-growth@ci.yaml", "max-growth-percent@ci.yaml", "fail-on@default"}; !slices.Equal(from, want) {
			t.Errorf("rules %q, want %q", from, want)
		}
	})
}

// --baseline: an image judged against an earlier run's JSON report.
func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	base := it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "debian"))
	toolchain := it.Layer(it.Dir("usr/"), it.Dir("usr/local/"), it.Dir("usr/local/go/"), it.Dir("usr/local/go/bin/"), it.Reg("usr/local/go/bin/go", "go"))
	images := map[string]it.Image{
		"old":       {User: "1", Layers: [][]byte{base}},
		"big":       {User: "1", Layers: [][]byte{base, it.Layer(it.Reg("big", strings.Repeat("x", 2_000_000)))}},
		"toolchain": {User: "1", Layers: [][]byte{base, toolchain}},
	}
	path := map[string]string{}
	for name, img := range images {
		path[name] = filepath.Join(dir, name+".tar")
		if err := os.WriteFile(path[name], it.Tar(it.DockerArchive(img)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	saved := map[string]string{}
	for _, name := range []string{"old", "toolchain"} {
		saved[name] = filepath.Join(dir, name+".json")
		if code, err := run(ctx, []string{"--ci", "--dockerfile", "none", "--fail-on", "none", "--json", saved[name], path[name]}, nil, io.Discard, io.Discard); err != nil || code != exitPass {
			t.Fatalf("saving %s: %d %v", name, code, err)
		}
	}
	diffReport := filepath.Join(dir, "diff.json")
	if code, err := run(ctx, []string{"diff", "--ci", "--dockerfile", "none", "--json", diffReport, path["old"], path["big"]}, nil, io.Discard, io.Discard); err != nil || code != exitPass {
		t.Fatalf("saving a diff: %d %v", code, err)
	}
	garbage := filepath.Join(dir, "garbage.json")
	future := filepath.Join(dir, "future.json")
	os.WriteFile(garbage, []byte("not json"), 0o644)
	os.WriteFile(future, []byte(`{"schemaVersion": 2}`), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"growth within the limit", []string{"--baseline", saved["old"], "--max-growth", "3MB", path["big"]}, exitPass, "PASS  max-growth"},
		{"growth over the limit", []string{"--baseline", saved["old"], "--max-growth", "1MB", path["big"]}, exitFail, "FAIL  max-growth"},
		{"growth over the percent", []string{"--baseline", saved["old"], "--max-growth-percent", "10", path["big"]}, exitFail, "FAIL  max-growth-percent"},
		{"a new finding fails fail-on", []string{"--baseline", saved["old"], "--fail-on", "toolchain", path["toolchain"]}, exitFail, "FAIL  fail-on"},
		{"a finding the baseline had does not", []string{"--baseline", saved["toolchain"], "--fail-on", "toolchain", path["toolchain"]}, exitPass, "PASS  fail-on"},
		{"without a baseline it does", []string{"--fail-on", "toolchain", path["toolchain"]}, exitFail, "FAIL  fail-on"},
		{"a diff report is not a baseline", []string{"--baseline", diffReport, path["big"]}, exitError, "a diff report, not an image's"},
		{"not JSON", []string{"--baseline", garbage, path["big"]}, exitError, "not a layerscope JSON report"},
		{"another schema", []string{"--baseline", future, path["big"]}, exitError, "schemaVersion 2"},
		{"a missing file", []string{"--baseline", filepath.Join(dir, "nope.json"), path["big"]}, exitError, "--baseline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := run(ctx, append([]string{"--ci", "--dockerfile", "none", "--max-waste-percent", "disabled", "--min-efficiency", "disabled"}, tc.args...), nil, &out, io.Discard)
			got := out.String()
			if err != nil {
				got = err.Error()
			}
			if code != tc.code || !strings.Contains(got, tc.out) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.out, got)
			}
		})
	}
}

// Issue 12: --baseline against a saved report of a real image.
func TestBaselineOnRealImages(t *testing.T) {
	needTestImages(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			saved := filepath.Join(t.TempDir(), "multi.json")
			multi, single := "layerscope-test/gomulti:"+builder, "layerscope-test/gobuild:"+builder
			if code, err := run(ctx, []string{"--ci", "--dockerfile", "none", "--json", saved, multi}, nil, io.Discard, io.Discard); err != nil || code != exitPass {
				t.Fatalf("saving: %d %v", code, err)
			}
			var out bytes.Buffer
			code, err := run(ctx, []string{"--ci", "--dockerfile", "none", "--baseline", saved, "--fail-on", "toolchain", "--max-growth-percent", "50", single}, nil, &out, io.Discard)
			if err != nil || code != exitFail {
				t.Fatalf("exit %d, %v", code, err)
			}
			for _, want := range []string{"FAIL  max-growth-percent", "FAIL  fail-on", "compared with the baseline"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// Issue 12: a cleanup moved into the RUN that made the mess: the waste and
// its findings go, and every file stays the same.
func TestDiffCleanupInSameRunOnRealImages(t *testing.T) {
	needTestImages(t)
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			v := runDiffJSON(t, exitPass, "layerscope-test/waste:"+builder, "layerscope-test/wastefixed:"+builder)
			sum := v["summary"].(map[string]any)
			for _, k := range []string{"added", "removed", "changed", "finalBytesDelta"} {
				if sum[k] != 0.0 {
					t.Errorf("%s = %v: the files should be the same (%v)", k, sum[k], v["paths"])
				}
			}
			oldWaste := v["old"].(map[string]any)["summary"].(map[string]any)["wastedBytes"].(float64)
			if oldWaste == 0 || sum["wastedBytesDelta"] != -oldWaste || sum["contentBytesDelta"] != -oldWaste {
				t.Errorf("waste %v, deltas %v: all of it should go", oldWaste, sum)
			}
			fixed := findingRules(v, "fixed")
			for _, r := range []string{"removed-later", "metadata-only"} {
				if !slices.Contains(fixed, r) {
					t.Errorf("fixed %q lacks %s", fixed, r)
				}
			}
		})
	}
}

// --baseline: findings the baseline already had fail nothing in any
// format: no ::error annotation, no JUnit failure, failsCI false in SARIF;
// a new one does.
func TestBaselineFindingsFailNothing(t *testing.T) {
	dir := t.TempDir()
	base := it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "debian"))
	toolchain := it.Layer(it.Dir("usr/"), it.Dir("usr/local/"), it.Dir("usr/local/go/"), it.Dir("usr/local/go/bin/"), it.Reg("usr/local/go/bin/go", "go"))
	path := map[string]string{}
	for name, img := range map[string]it.Image{
		"old":       {User: "1", Layers: [][]byte{base}},
		"toolchain": {User: "1", Layers: [][]byte{base, toolchain}},
	} {
		path[name] = filepath.Join(dir, name+".tar")
		if err := os.WriteFile(path[name], it.Tar(it.DockerArchive(img)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	saved := map[string]string{}
	for _, name := range []string{"old", "toolchain"} {
		saved[name] = filepath.Join(dir, name+".json")
		if code, err := run(ctx, []string{"--ci", "--dockerfile", "none", "--fail-on", "none", "--json", saved[name], path[name]}, nil, io.Discard, io.Discard); err != nil || code != exitPass {
			t.Fatalf("saving %s: %d %v", name, code, err)
		}
	}
	t.Setenv("GITHUB_ACTIONS", "true")
	for _, tc := range []struct {
		name     string
		baseline string
		code     int
		fails    bool
	}{
		{"the baseline had the finding", saved["toolchain"], exitPass, false},
		{"the finding is new", saved["old"], exitFail, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, format := range []string{"sarif", "junit"} {
				var out, stderr bytes.Buffer
				code, err := run(ctx, []string{"--ci", "--dockerfile", "none", "--max-waste-percent", "disabled", "--min-efficiency", "disabled",
					"--format", format, "--baseline", tc.baseline, "--fail-on", "toolchain", path["toolchain"]}, nil, &out, &stderr)
				if err != nil || code != tc.code {
					t.Fatalf("--format %s: exit %d %v, want %d", format, code, err, tc.code)
				}
				got[format], got["annotations"] = out.String(), stderr.String()
			}
			for what, fails := range map[string]bool{
				"an ::error annotation": strings.Contains(got["annotations"], "::error title=layerscope go-toolchain"),
				"a JUnit failure":       strings.Contains(got["junit"], `type="toolchain"`),
				"failsCI true in SARIF": strings.Contains(got["sarif"], `"failsCI": true`),
			} {
				if fails != tc.fails {
					t.Errorf("%s: %v, want %v", what, fails, tc.fails)
				}
			}
		})
	}
}
