package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
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
		{"--base on standard input: both sides would read it", []string{"--base", "-", oldTar, newTar}, newBytes, exitError, "diff: --base cannot be - (standard input)"},
		{"--base -:REF on standard input", []string{"--base", "-:base:1", oldTar, newTar}, newBytes, exitError, "diff: --base cannot be - (standard input)"},
		{"a format nobody writes", []string{"--format", "yaml", oldTar, newTar}, nil, exitError, "unknown --format"},
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
		state    string // SARIF's baselineState
	}{
		{"the baseline had the finding", saved["toolchain"], exitPass, false, "unchanged"},
		{"the finding is new", saved["old"], exitFail, true, "new"},
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
			if !strings.Contains(got["junit"], "against the baseline") || strings.Contains(got["junit"], "new findings") {
				t.Errorf("JUnit titles do not say the findings are judged against the baseline:\n%s", got["junit"])
			}
			if want := `"baselineState": "` + tc.state + `"`; !strings.Contains(got["sarif"], want) {
				t.Errorf("SARIF lacks %s:\n%s", want, got["sarif"])
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

// diffArchives writes two archives for the comparison tests: OLD a base
// layer; NEW the base, a Go toolchain (a toolchain finding) and a 2 MB
// file (growth). extra files go into NEW's last layer.
func diffArchives(t *testing.T, extra ...it.File) (oldTar, newTar string) {
	t.Helper()
	dir := t.TempDir()
	base := it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "debian"))
	files := append([]it.File{it.Dir("usr/"), it.Dir("usr/local/"), it.Dir("usr/local/go/"), it.Dir("usr/local/go/bin/"),
		it.Reg("usr/local/go/bin/go", "go"), it.Reg("big", strings.Repeat("x", 2_000_000))}, extra...)
	oldTar, newTar = filepath.Join(dir, "old.tar"), filepath.Join(dir, "new.tar")
	for p, img := range map[string]it.Image{
		oldTar: {User: "1", Layers: [][]byte{base}},
		newTar: {User: "1", Layers: [][]byte{base, it.Layer(files...)}},
	} {
		if err := os.WriteFile(p, it.Tar(it.DockerArchive(img)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return oldTar, newTar
}

// Issue 12: diff writes every format of the image command that means
// something for a comparison, on standard output and in --output files
// alike; an unknown one is refused in one line, exit 2.
func TestDiffFormats(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	oldTar, newTar := diffArchives(t)
	dir := t.TempDir()
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			if !slices.Contains(diffFormats, format) {
				t.Fatalf("the image format %s is neither written nor refused by diff: decide", format)
			}
			file := filepath.Join(dir, "diff."+format)
			code, out, stderr := layerscope(t, nil, "diff", "--ci", "--dockerfile", "none", "--max-growth", "1MB",
				"--format", format, "--output", format+":"+file, oldTar, newTar)
			if code != exitFail || out == "" {
				t.Fatalf("exit %d (want 1), stdout %d bytes: %s", code, len(out), stderr)
			}
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if format != "text" && string(got) != out { // text: a file is 100 columns wide
				t.Errorf("--output %s differs from --format %s", file, format)
			}
		})
	}
	for _, args := range [][]string{{"--format", "yaml"}, {"--output", "yaml:" + filepath.Join(dir, "x")}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, stderr := layerscope(t, nil, append(append([]string{"diff", "--ci"}, args...), oldTar, newTar)...)
			if code != exitError || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "unknown format") && !strings.Contains(stderr, "unknown --format") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
			}
		})
	}
}

// Issue 12: OLD and NEW are read at the same time; the first error wins,
// names its image and cancels the other read; with standard input they
// are read in turn.
func TestLoadBoth(t *testing.T) {
	boom := errors.New("digest mismatch")
	for _, tc := range []struct {
		name    string
		pos     []string
		failing int    // the side whose read fails at once
		want    string // the error's start
		calls   int    // reads started
	}{
		{"OLD fails, NEW is cancelled", []string{"old.tar", "new.tar"}, 0, "OLD old.tar: digest mismatch", 2},
		{"NEW fails, OLD is cancelled", []string{"old.tar", "new.tar"}, 1, "NEW new.tar: digest mismatch", 2},
		{"OLD on standard input fails: NEW is never read", []string{"-", "new.tar"}, 0, "OLD -: digest mismatch", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var calls atomic.Int32
			started := make(chan struct{})
			analyse := func(ctx context.Context, i int, _ *image.Progress) (*report.Report, *image.Image, error) {
				calls.Add(1)
				if i == tc.failing {
					if tc.calls == 2 {
						// Both reads run at once: the failing one waits
						// until the other has started.
						select {
						case <-started:
						case <-ctx.Done():
							return nil, nil, errors.New("the other image was never read at the same time")
						}
					}
					return nil, nil, boom
				}
				close(started)
				<-ctx.Done() // a slow read that only cancellation ends
				return nil, nil, ctx.Err()
			}
			_, _, err := loadBoth(ctx, tc.pos, io.Discard, analyse)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ctx.Err() != nil {
				t.Fatal("the other read was not cancelled: the test's deadline ended it")
			}
			if int(calls.Load()) != tc.calls {
				t.Errorf("%d reads, want %d", calls.Load(), tc.calls)
			}
		})
	}
	t.Run("both succeed", func(t *testing.T) {
		analyse := func(ctx context.Context, i int, _ *image.Progress) (*report.Report, *image.Image, error) {
			return &report.Report{Image: report.ImageInfo{Ref: fmt.Sprint(i)}}, &image.Image{}, nil
		}
		reps, imgs, err := loadBoth(context.Background(), []string{"a", "b"}, io.Discard, analyse)
		if err != nil || reps[0].Image.Ref != "0" || reps[1].Image.Ref != "1" || imgs[0] == nil || imgs[1] == nil {
			t.Errorf("%v %v %v", reps, imgs, err)
		}
	})
}

// The concurrent read's error on real archives: one line, exit 2, naming
// the image that failed, whichever side it is.
func TestDiffNamesTheFailingImage(t *testing.T) {
	t.Setenv("CI", "")
	oldTar, newTar := diffArchives(t)
	bad := filepath.Join(t.TempDir(), "bad.tar")
	data, _ := os.ReadFile(newTar)
	if err := os.WriteFile(bad, data[:len(data)/2], 0o644); err != nil { // cut in the middle of the big file
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"OLD", bad, newTar, "layerscope: OLD " + bad + ": "},
		{"NEW", oldTar, bad, "layerscope: NEW " + bad + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := layerscope(t, nil, "diff", "--ci", "--dockerfile", "none", tc.old, tc.new)
			if code != exitError || out != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want it to start %q", code, out, stderr, tc.want)
			}
		})
	}
}

// Issue 12: --dockerfile for diff: NEW's new findings carry the line of
// the instruction that made their layer, in JSON and in the text report.
func TestDiffDockerfileLinesOnRealImages(t *testing.T) {
	needTestImages(t)
	df := filepath.Join("testdata", "dockerfiles", "gobuild", "Dockerfile")
	v := runDiffJSON(t, exitPass, "--dockerfile", df, "layerscope-test/gomulti:legacy", "layerscope-test/gobuild:legacy")
	lines := map[string]any{}
	for _, f := range v["findings"].(map[string]any)["new"].([]any) {
		m := f.(map[string]any)
		lines[m["rule"].(string)] = m["line"]
		if m["line"] != nil && m["file"] != df {
			t.Errorf("%s: file %v", m["rule"], m["file"])
		}
	}
	for rule, want := range map[string]any{"go-toolchain": 5.0, "source-code": 11.0, "go-build-cache": 12.0, "run-as-root": nil} {
		if lines[rule] != want {
			t.Errorf("%s on line %v, want %v", rule, lines[rule], want)
		}
	}
	_, text, _ := layerscope(t, nil, "diff", "--ci", "--dockerfile", df, "layerscope-test/gomulti:legacy", "layerscope-test/gobuild:legacy")
	if want := "layer 1 (" + df + ":5): the Go toolchain"; !strings.Contains(text, want) {
		t.Errorf("text report lacks %q:\n%s", want, text)
	}
}
