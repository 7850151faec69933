package diff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
)

func analyse(t *testing.T, img it.Image) *report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, _, err := analysis.Run(ctx, "-", analysis.Options{Image: image.Options{Stdin: bytes.NewReader(it.Tar(it.DockerArchive(img)))}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func compare(t *testing.T, old, new it.Image) *diff.Diff {
	t.Helper()
	d, err := diff.Compare(context.Background(), analyse(t, old), analyse(t, new))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// brief is a change in one line: its sign, path, bytes and NEW's layer.
func brief(ps []diff.Path) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s %d>%d @%d", p.Change, p.Path, p.OldBytes, p.NewBytes, p.Layer))
	}
	slices.Sort(out)
	return out
}

var base = it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "debian"), it.Dir("bin/"), it.Reg("bin/sh", "ELF shell"))

func TestCompareFigures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new it.Image
		paths    []string
		sum      diff.Summary
		shared   int
	}{{
		name:   "the same image: nothing changed, every layer shared",
		old:    it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v1"))}},
		new:    it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v1"))}},
		paths:  []string{},
		shared: 2,
	}, {
		name: "added, removed and changed content",
		old:  it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v1"), it.Dir("src/"), it.Reg("src/main.go", "package main"))}},
		new:  it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v2 longer"), it.Reg("new.txt", "hello"))}},
		paths: []string{
			"added /new.txt 0>5 @1",
			"changed /app 2>9 @1",
			"removed /src -1>0 @-1",
			"removed /src/main.go 12>0 @-1",
		},
		sum:    diff.Summary{Added: 1, Removed: 2, Changed: 1, ContentBytesDelta: 0, FinalBytesDelta: 0},
		shared: 1,
	}, {
		name:   "mode only, owner only, link target; a directory's mode but not its re-emission",
		old:    it.Image{Layers: [][]byte{base, it.Layer(it.Dir("d/"), it.Dir("e/"), it.Reg("run", "x"), it.Reg("own", "y"), it.Sym("ln", "a"), it.Reg("same", "z"))}},
		new:    it.Image{Layers: [][]byte{base, it.Layer(it.Chmod(it.Dir("d/"), 0o700), it.Dir("e/"), it.Chmod(it.Reg("run", "x"), 0o755), it.Owned(it.Reg("own", "y"), 1, 2), it.Sym("ln", "b"), it.Reg("same", "z"))}},
		paths:  []string{"changed /d 0>0 @1", "changed /ln 0>0 @1", "changed /own 1>1 @1", "changed /run 1>1 @1"},
		sum:    diff.Summary{Changed: 4},
		shared: 1,
	}, {
		name:   "a file that becomes a directory, and a hard link's target",
		old:    it.Image{Layers: [][]byte{base, it.Layer(it.Reg("x", "file"), it.Reg("t1", "a"), it.Reg("t2", "b"), it.Hard("h", "t1"))}},
		new:    it.Image{Layers: [][]byte{base, it.Layer(it.Dir("x/"), it.Reg("t1", "a"), it.Reg("t2", "b"), it.Hard("h", "t2"))}},
		paths:  []string{"changed /h 0>0 @1", "changed /x 4>0 @1"},
		sum:    diff.Summary{Changed: 2, ContentBytesDelta: -4, FinalBytesDelta: -4},
		shared: 1,
	}, {
		name: "a path NEW removes with a whiteout names that layer; the waste delta",
		old:  it.Image{Layers: [][]byte{base}},
		new:  it.Image{Layers: [][]byte{base, it.Layer(it.Reg("tmp.bin", "0123456789")), it.Layer(it.Whiteout("", "tmp.bin"), it.Whiteout("bin", "sh"))}},
		paths: []string{
			"removed /bin/sh 9>0 @2",
		},
		sum:    diff.Summary{Removed: 1, ContentBytesDelta: 10, FinalBytesDelta: -9, WastedBytesDelta: 19},
		shared: 1,
	}, {
		name:   "a different base: no layer shared",
		old:    it.Image{Layers: [][]byte{base}},
		new:    it.Image{Layers: [][]byte{it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "alpine"), it.Dir("bin/"), it.Reg("bin/sh", "ELF shell"))}},
		paths:  []string{"changed /etc/os-release 6>6 @0"},
		sum:    diff.Summary{Changed: 1},
		shared: 0,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			d := compare(t, tc.old, tc.new)
			got := brief(d.Paths)
			// A directory's bytes are 0: the brief shows -1 for "a
			// directory" only in the wanted list, for readability.
			want := slices.Clone(tc.paths)
			for i := range want {
				want[i] = strings.Replace(want[i], "-1>0", "0>0", 1)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("paths:\n got %q\nwant %q", got, want)
			}
			if d.Summary != tc.sum {
				t.Errorf("summary = %+v, want %+v", d.Summary, tc.sum)
			}
			if d.SharedLayers != tc.shared {
				t.Errorf("sharedLayers = %d, want %d", d.SharedLayers, tc.shared)
			}
		})
	}
}

func TestCompareOrderAndFindings(t *testing.T) {
	old := it.Image{User: "65532", Layers: [][]byte{base, it.Layer(it.Dir("root/"), it.Dir("root/.cache/"), it.Dir("root/.cache/go-build/"),
		it.Reg("root/.cache/go-build/x", strings.Repeat("c", 5000)), it.Reg("small", "s"))}}
	new := it.Image{User: "65532", Layers: [][]byte{base, it.Layer(it.Reg("big", strings.Repeat("b", 3000)), it.Reg("small", "ss"),
		it.Dir("src/"), it.Reg("src/main.go", "package main\nfunc main(){}\n"))}}
	d := compare(t, old, new)
	var order []string
	for _, p := range d.Paths {
		order = append(order, p.Path)
	}
	if len(order) < 3 || order[0] != "/root/.cache/go-build/x" || order[1] != "/big" {
		t.Errorf("not largest first: %q", order)
	}
	rules := func(fs []report.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Rule)
		}
		return out
	}
	if got := rules(d.Findings.Fixed); !slices.Contains(got, "go-build-cache") {
		t.Errorf("fixed = %q, want go-build-cache", got)
	}
	if got := rules(d.Findings.New); !slices.Contains(got, "source-code") || slices.Contains(got, "go-build-cache") {
		t.Errorf("new = %q, want source-code and not go-build-cache", got)
	}
}

func TestCheck(t *testing.T) {
	d := &diff.Diff{Old: diff.Side{Summary: report.Summary{ContentBytes: 1000}}, Summary: diff.Summary{ContentBytesDelta: 100},
		Findings: diff.Findings{New: []report.Finding{{Rule: "go-toolchain", Category: "toolchain", Severity: "warning"}, {Rule: "private-key", Category: "secret", Severity: "error", Ignored: "test key"}}}}
	lim := func(v float64) config.Limit { return config.Limit{Value: v, From: "flag"} }
	for _, tc := range []struct {
		name   string
		limits config.Limits
		failOn report.FailOn
		pass   bool
		rules  int
	}{
		{"no rules", config.Limits{}, report.FailOn{}, true, 0},
		{"growth within bytes", config.Limits{MaxGrowth: lim(100)}, report.FailOn{}, true, 1},
		{"growth over bytes", config.Limits{MaxGrowth: lim(99)}, report.FailOn{}, false, 1},
		{"growth within percent", config.Limits{MaxGrowthPercent: lim(10)}, report.FailOn{}, true, 1},
		{"growth over percent", config.Limits{MaxGrowthPercent: lim(9.9)}, report.FailOn{}, false, 1},
		{"fail-on a new finding's category", config.Limits{}, report.FailOn{Set: []string{"toolchain"}, From: "flag"}, false, 1},
		{"an ignored new finding does not fail", config.Limits{}, report.FailOn{Set: []string{"secret"}, From: "flag"}, true, 1},
		{"a switched-off limit is not judged", config.Limits{MaxGrowth: config.Limit{From: "flag", Off: true}}, report.FailOn{}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.Check(tc.limits, tc.failOn)
			if d.CI.Pass != tc.pass || len(d.CI.Rules) != tc.rules {
				t.Errorf("pass=%v rules=%+v, want pass=%v and %d rules", d.CI.Pass, d.CI.Rules, tc.pass, tc.rules)
			}
		})
	}
	t.Run("an old image of no bytes: percent not judged", func(t *testing.T) {
		e := &diff.Diff{Summary: diff.Summary{ContentBytesDelta: 100}}
		e.Check(config.Limits{MaxGrowthPercent: lim(1)}, report.FailOn{})
		if !e.CI.Pass || e.CI.Rules[0].Note == "" {
			t.Errorf("%+v", e.CI)
		}
	})
}

func TestOutputs(t *testing.T) {
	evil := "evil\x1b[31m\u202e.txt"
	d := compare(t, it.Image{Layers: [][]byte{base}}, it.Image{Layers: [][]byte{base, it.Layer(it.Reg(evil, "x"))}})
	var text bytes.Buffer
	if err := d.WriteText(&text, 80); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	if !strings.HasPrefix(out, "+1 B shipped: +1 file, −0 files, 0 changed\n") {
		t.Errorf("summary line: %q", strings.SplitN(out, "\n", 2)[0])
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("unescaped name in text: %q", out)
	}
	if !strings.Contains(out, "= ") {
		t.Errorf("no shared layer marked:\n%s", out)
	}
	var js bytes.Buffer
	if err := d.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(js.String(), "\x1b\u202e") {
		t.Errorf("raw control or bidi rune in JSON")
	}
	var v map[string]any
	if err := json.Unmarshal(js.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v["schemaVersion"] != 1.0 || v["kind"] != "diff" {
		t.Errorf("schemaVersion/kind: %v %v", v["schemaVersion"], v["kind"])
	}
	for _, k := range []string{"old", "new", "sharedLayers", "summary", "paths", "findings", "ci"} {
		if _, ok := v[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	paths := v["paths"].([]any)
	if p := paths[0].(map[string]any); p["path"] != "/"+evil || p["change"] != "added" {
		t.Errorf("path round trip: %v", p)
	}
}

// Findings without a path (a secret in the config or history, the user)
// differ by their subject: a new secret build argument is new, though the
// old image had another one; the same one moved to another layer is not.
func TestBaselineFindingsWithoutPath(t *testing.T) {
	secretEnv := func(layer int, msg string) report.Finding {
		return report.Finding{Rule: "secret-env", Category: "secret", Severity: "high", Layer: layer, Paths: []string{}, Message: msg}
	}
	tests := []struct {
		name       string
		old, new   []report.Finding
		newN, gone int
	}{
		{name: "another secret's name",
			old:  []report.Finding{secretEnv(1, "a secret in the image config or build history: DB_PASSWORD is recorded in the build history with its value")},
			new:  []report.Finding{secretEnv(1, "a secret in the image config or build history: NPM_TOKEN is recorded in the build history with its value")},
			newN: 1, gone: 1},
		{name: "a second secret beside the old one",
			old: []report.Finding{secretEnv(1, "a secret in the image config: ENV A_TOKEN is set for anyone who pulls the image")},
			new: []report.Finding{secretEnv(1, "a secret in the image config: ENV A_TOKEN is set for anyone who pulls the image"),
				secretEnv(1, "a secret in the image config: ENV B_TOKEN is set for anyone who pulls the image")},
			newN: 1},
		{name: "the same finding in other layers",
			old: []report.Finding{{Rule: "install-after-copy", Category: "build", Paths: []string{}, Layer: 2,
				Message: "this npm install follows the COPY of the build context in layer 1: every source change re-runs it and re-ships 3 MB"}},
			new: []report.Finding{{Rule: "install-after-copy", Category: "build", Paths: []string{}, Layer: 4,
				Message: "this npm install follows the COPY of the build context in layer 3: every source change re-runs it and re-ships 3 MB"}}},
		{name: "the same secret, moved (layers named)",
			old: []report.Finding{secretEnv(1, "a secret in the image config or build history: a GitHub token is recorded in the build history (layers 1, 2)")},
			new: []report.Finding{secretEnv(3, "a secret in the image config or build history: a GitHub token is recorded in the build history (layers 3 and 4)")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := diff.Baseline(&report.Report{Findings: tc.old}, &report.Report{Findings: tc.new})
			if len(d.Findings.New) != tc.newN || len(d.Findings.Fixed) != tc.gone {
				t.Errorf("new %d, fixed %d; want %d, %d: %+v", len(d.Findings.New), len(d.Findings.Fixed), tc.newN, tc.gone, d.Findings)
			}
		})
	}
}
