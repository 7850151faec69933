package analysis_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

const fakeKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nRkFLRS1LRVktTk9ULUEtUkVBTC1LRVktRkFLRS1LRVktTk9ULUEtUkVBTC1LRVkt\n-----END OPENSSH PRIVATE KEY-----\n"

// baseAndApp are a one-layer base (with a key: the base's finding) and an
// image built on it that deletes 3,000 bytes of the base's files, writes
// 500 bytes and rewrites them as 200. By hand: wasted 3,500; the layers
// above the base hold 700; waste percent (over all but layer 0) is
// 100 × 3,500 / 700 = 500 %; buildWastePercent is 100 × 3,500 / (700 +
// 3,000) = 94.59… %.
func baseAndApp() (it.Image, it.Image) {
	base := it.Image{Layers: [][]byte{it.Layer(
		it.Dir("etc"), it.Reg("etc/a.conf", strings.Repeat("a", 3000)), it.Reg("etc/b.conf", strings.Repeat("b", 1000)),
		it.Dir("root"), it.Dir("root/.ssh"), it.Reg("root/.ssh/id_rsa", fakeKey),
	)}, Tags: []string{"base:1"}, User: "65534"}
	app := it.Image{Layers: [][]byte{
		base.Layers[0],
		it.Layer(it.Whiteout("etc", "a.conf"), it.Dir("app"), it.Reg("app/x.bin", strings.Repeat("x", 500))),
		it.Layer(it.Reg("app/x.bin", strings.Repeat("y", 200))),
	}, Tags: []string{"app:1"}, User: "65534"}
	return base, app
}

const wantBuildPercent = 100 * 3500.0 / 3700.0

func writeArchive(t *testing.T, name string, imgs ...it.Image) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, it.Tar(it.DockerArchive(imgs...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBaseImage(t *testing.T) {
	base, app := baseAndApp()
	other := it.Image{Layers: [][]byte{it.Layer(it.Reg("other", "not this image's base"))}}
	appTar := writeArchive(t, "app.tar", app)
	baseTar := writeArchive(t, "base.tar", base)
	baseGz := filepath.Join(t.TempDir(), "base.tar.gz")
	if err := os.WriteFile(baseGz, it.GzipBytes(it.Tar(it.DockerArchive(base))), 0o644); err != nil {
		t.Fatal(err)
	}
	otherTar := writeArchive(t, "other.tar", other)
	// One layout with both images; the app's manifest names its base.
	annotated := app
	annotated.Annotations = map[string]string{
		image.AnnotationBaseName:   "registry.example/base:1",
		image.AnnotationBaseDigest: base.ManifestDigest(it.Plain),
	}
	layout := t.TempDir()
	if err := it.WriteDir(layout, it.OCILayout(it.Plain, false, base, annotated)); err != nil {
		t.Fatal(err)
	}
	// The annotation names an image that is not at hand: no base.
	lone := t.TempDir()
	if err := it.WriteDir(lone, it.OCILayout(it.Plain, false, annotated)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, image, base string
		want              *report.BaseImage
		warning           string
	}{
		{"no base known", appTar, "", nil, ""},
		{"--base an archive", appTar, baseTar, &report.BaseImage{Name: baseTar, From: report.BaseFromFlag}, ""},
		{"--base a compressed archive (read whole)", appTar, baseGz, &report.BaseImage{Name: baseGz, From: report.BaseFromFlag}, ""},
		{"--base one image of a layout", layout + ":app:1", layout + ":base:1", &report.BaseImage{Name: layout + ":base:1", From: report.BaseFromFlag}, ""},
		{"--base that is not a prefix warns", appTar, otherTar, nil, "is not this image's base"},
		{"--base none", layout + ":app:1", analysis.NoBase, nil, ""},
		{"the annotation, in the same layout", layout + ":app:1", "", &report.BaseImage{Name: "registry.example/base:1", From: report.BaseFromAnnotation}, ""},
		{"the annotation, not at hand", lone, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, _, err := analysis.Run(ctx, tc.image, analysis.Options{Base: tc.base})
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Summary
			if got := 100 * float64(s.WastedBytes) / 700; s.WastePercent != got || s.WastePercent != 500 {
				t.Errorf("wastePercent = %v, want 500 (SPEC.md's figure never changes)", s.WastePercent)
			}
			hasWarning := false
			for _, w := range rep.Warnings {
				hasWarning = hasWarning || (tc.warning != "" && strings.Contains(w, tc.warning))
			}
			if (tc.warning != "") != hasWarning {
				t.Errorf("warnings %q, want one with %q", rep.Warnings, tc.warning)
			}
			if tc.want == nil {
				if s.Base != nil || s.BaseLayers != 0 || s.BuildWastePercent != nil || rep.Layers[0].Base {
					t.Fatalf("base %+v, %d layers: want none", s.Base, s.BaseLayers)
				}
				if rep.CI.Waste.Percent != "" {
					t.Errorf("ci.waste.percent = %q, want none (wastePercent judged)", rep.CI.Waste.Percent)
				}
				return
			}
			if s.Base == nil || s.Base.Name != tc.want.Name || s.Base.From != tc.want.From || s.BaseLayers != 1 {
				t.Fatalf("base %+v, %d layers: want %+v, 1", s.Base, s.BaseLayers, tc.want)
			}
			if !rep.Layers[0].Base || rep.Layers[1].Base || rep.Layers[2].Base {
				t.Errorf("layers' base marks: %v %v %v", rep.Layers[0].Base, rep.Layers[1].Base, rep.Layers[2].Base)
			}
			if *s.BuildWastedBytes != 3500 || *s.BaseRemovedBytes != 3000 || *s.BuildWastePercent != wantBuildPercent {
				t.Errorf("build waste %d, base removed %d, %v %%: want 3500, 3000, %v %%", *s.BuildWastedBytes, *s.BaseRemovedBytes, *s.BuildWastePercent, wantBuildPercent)
			}
			if rep.CI.Waste.Percent != "buildWastePercent" {
				t.Errorf("ci.waste.percent = %q, want buildWastePercent", rep.CI.Waste.Percent)
			}
			var text strings.Builder
			if err := rep.WriteText(&text, 120); err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{
				"[base] RUN echo layer 0",
				"build waste    3.5 kB: 94.6 % of what the build added above the base image",
				"the build removed or replaced 3.0 kB of the base's files: those bytes still ship",
				"\nFrom the base image (choose a slimmer base or a distroless one)\n  error   secret ",
				"waste percent judged: buildWastePercent",
			} {
				if !strings.Contains(text.String(), w) {
					t.Errorf("text report lacks %q:\n%s", w, text.String())
				}
			}
		})
	}
}

// Findings in the base's layers are marked and fail CI only when fail-on
// names base; the waste of a base file the build deleted is the build's.
func TestBaseFindings(t *testing.T) {
	base, app := baseAndApp()
	appTar := writeArchive(t, "app.tar", app)
	baseTar := writeArchive(t, "base.tar", base)
	off := config.Limits{}
	for _, tc := range []struct {
		name   string
		base   string
		failOn []string
		pass   bool
	}{
		{"no base: the key fails", "", []string{"secret", "error"}, false},
		{"the base's key fails too: a secret is never the base's excuse", baseTar, []string{"secret", "error"}, false},
		{"fail-on base,secret fails on it", baseTar, []string{"base", "secret"}, false},
		{"fail-on base,toolchain: none of the base's findings is a toolchain", baseTar, []string{"base", "toolchain"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			fo := report.FailOn{Set: tc.failOn, From: "flag"}
			rep, _, err := analysis.Run(ctx, appTar, analysis.Options{Base: tc.base, FailOn: &fo, Limits: &off})
			if err != nil {
				t.Fatal(err)
			}
			if rep.CI.Pass != tc.pass {
				t.Errorf("pass = %v, want %v (%+v)", rep.CI.Pass, tc.pass, rep.CI.Rules)
			}
			var secret, removed *report.Finding
			for i, f := range rep.Findings {
				switch {
				case f.Category == "secret":
					secret = &rep.Findings[i]
				case f.Category == "waste" && f.Layer == 0:
					removed = &rep.Findings[i]
				}
			}
			if secret == nil || removed == nil {
				t.Fatalf("want the key's finding and the removed file's: %+v", rep.Findings)
			}
			if secret.Base != (tc.base != "") {
				t.Errorf("the key's finding: base = %v", secret.Base)
			}
			if removed.Base {
				t.Errorf("the waste of a base file the build deleted is marked the base's: %+v", removed)
			}
		})
	}
}

// With a base known, max-waste-percent judges buildWastePercent (94.6 %
// here), not waste percent (500 %); without one, waste percent.
func TestBaseWasteRule(t *testing.T) {
	base, app := baseAndApp()
	appTar := writeArchive(t, "app.tar", app)
	baseTar := writeArchive(t, "base.tar", base)
	none := report.FailOn{Set: []string{}, From: "flag"}
	for _, tc := range []struct {
		name  string
		base  string
		limit float64
		pass  bool
		value float64
	}{
		{"buildWastePercent under the limit", baseTar, 95, true, wantBuildPercent},
		{"buildWastePercent over the limit", baseTar, 90, false, wantBuildPercent},
		{"no base: waste percent over the limit", "", 95, false, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			limits := config.Limits{
				MaxWastePercent: config.Limit{Value: tc.limit, From: "flag"},
				WasteFloor:      config.Limit{Value: 0, From: "flag"},
			}
			rep, _, err := analysis.Run(ctx, appTar, analysis.Options{Base: tc.base, FailOn: &none, Limits: &limits})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.CI.Rules) == 0 || rep.CI.Rules[0].Name != report.RuleMaxWastePercent {
				t.Fatalf("rules %+v", rep.CI.Rules)
			}
			r := rep.CI.Rules[0]
			if r.Pass != tc.pass || r.Value != tc.value || rep.CI.Pass != tc.pass {
				t.Errorf("max-waste-percent: pass %v, value %v; want %v, %v", r.Pass, r.Value, tc.pass, tc.value)
			}
		})
	}
}

// Fake but valid-shaped npm tokens (npm_ and 36 base62 characters).
const (
	buildToken = "npm_k3Jf9QxL2mZp7RtV8wYb4NcA6dEh1GsU5oWi"
	baseToken  = "npm_Qm8rT2vX5zB7nD4fH6jL9pS1wY3cG0kE5uAo"
)

// An entry that makes no layer is the base's only when it is among the
// base's own history entries: the build's ENV right after FROM is the
// build's (its first layer), not the base's last layer's. A config
// finding is never the base's, and a secret counts against CI even when
// it is the base's.
func TestBaseHistoryAttribution(t *testing.T) {
	layer0 := it.Layer(it.Dir("etc"), it.Reg("etc/a.conf", "a"))
	layer1 := it.Layer(it.Dir("app"), it.Reg("app/x", "x"))
	run0 := it.History{CreatedBy: "/bin/sh -c echo layer 0"}
	cmd := it.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["sh"]`, EmptyLayer: true}
	run1 := it.History{CreatedBy: "/bin/sh -c echo layer 1"}
	env := func(kv string) it.History {
		return it.History{CreatedBy: "/bin/sh -c #(nop)  ENV " + kv, EmptyLayer: true}
	}
	plainBase := it.Image{Layers: [][]byte{layer0}, History: []it.History{run0, cmd}, User: "65534", Tags: []string{"base:1"}}
	secretBase := it.Image{Layers: [][]byte{layer0}, History: []it.History{run0, env("BASE_TOKEN=" + baseToken)},
		Env: []string{"BASE_TOKEN=" + baseToken}, User: "65534", Tags: []string{"base:2"}}
	for _, tc := range []struct {
		name      string
		base, app it.Image
		sameBase  bool   // --base is the image itself
		rule, key string // the finding: its rule, and a word of its message
		layer     int
		isBase    bool
		pass      bool
	}{
		{"the build's ENV after FROM is the build's", plainBase,
			it.Image{Layers: [][]byte{layer0, layer1}, History: []it.History{run0, cmd, env("NPM_TOKEN=" + buildToken), run1},
				Env: []string{"NPM_TOKEN=" + buildToken}, User: "65534", Tags: []string{"app:1"}},
			false, rules.IDSecretEnv, "NPM_TOKEN", 1, false, false},
		{"the base's own ENV is the base's, and fails CI: a secret", secretBase,
			it.Image{Layers: [][]byte{layer0, layer1}, History: []it.History{run0, env("BASE_TOKEN=" + baseToken), run1},
				Env: []string{"BASE_TOKEN=" + baseToken}, User: "65534", Tags: []string{"app:1"}},
			false, rules.IDSecretEnv, "BASE_TOKEN", 0, true, false},
		{"the build's ENV with no layer of the build's own (a legacy RUN echo) is the build's", plainBase,
			it.Image{Layers: [][]byte{layer0}, History: []it.History{run0, cmd, env("NPM_TOKEN=" + buildToken), {CreatedBy: "/bin/sh -c echo", EmptyLayer: true}},
				Env: []string{"NPM_TOKEN=" + buildToken}, User: "65534", Tags: []string{"app:1"}},
			false, rules.IDSecretEnv, "NPM_TOKEN", 0, false, false},
		{"the final config's Env is never the base's", plainBase,
			it.Image{Layers: [][]byte{layer0}, History: []it.History{run0, cmd},
				Env: []string{"NPM_TOKEN=" + buildToken}, User: "65534", Tags: []string{"app:1"}},
			true, rules.IDSecretEnv, "NPM_TOKEN", 0, false, false},
		{"the final config's user is never the base's", plainBase,
			it.Image{Layers: [][]byte{layer0}, History: []it.History{run0, cmd}, Tags: []string{"app:1"}},
			true, rules.IDRunAsRoot, "root", 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			appTar := writeArchive(t, "app.tar", tc.app)
			baseTar := writeArchive(t, "base.tar", tc.base)
			if tc.sameBase {
				baseTar = appTar
			}
			fo := report.FailOn{Set: []string{"secret", "error", "warning"}, From: "flag"}
			off := config.Limits{}
			rep, _, err := analysis.Run(ctx, appTar, analysis.Options{Base: baseTar, FailOn: &fo, Limits: &off})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Summary.Base == nil {
				t.Fatalf("no base found: %q", rep.Warnings)
			}
			var got *report.Finding
			for i, f := range rep.Findings {
				if f.Rule == tc.rule && strings.Contains(f.Message, tc.key) {
					got = &rep.Findings[i]
				}
			}
			if got == nil {
				t.Fatalf("no %s finding about %s: %+v", tc.rule, tc.key, rep.Findings)
			}
			if got.Layer != tc.layer || got.Base != tc.isBase {
				t.Errorf("finding on layer %d, base %v: want layer %d, base %v (%+v)", got.Layer, got.Base, tc.layer, tc.isBase, *got)
			}
			if rep.CI.Pass != tc.pass {
				t.Errorf("pass = %v, want %v (%+v)", rep.CI.Pass, tc.pass, rep.CI.Rules)
			}
		})
	}
}
