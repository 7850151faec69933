package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/layerscope/layerscope/dockerfile"
	"github.com/layerscope/layerscope/image"
)

// layerLines loads a daemon image and maps its layers to the lines of a
// Dockerfile, as --dockerfile does.
func layerLines(t *testing.T, ref, path string) ([]int, []image.Layer, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img, err := image.Load(ctx, ref, image.Options{Source: image.SourceDocker})
	if err != nil {
		t.Fatal(err)
	}
	df, err := readDockerfile(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := make([]dockerfile.Step, len(img.Config.History))
	for i, h := range img.Config.History {
		steps[i] = dockerfile.Step{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer}
	}
	lines, err := df.MatchLayers(steps, len(img.Layers))
	return lines, img.Layers, err
}

// TestDockerfileLinesOnRealImages maps the test images of both builders
// to their Dockerfiles: single-stage and multi-stage, the legacy
// builder's "COPY file:<hash> in DEST" and BuildKit's forms. Each line
// claimed holds the instruction its layer's history names; a Dockerfile
// that does not match claims none.
func TestDockerfileLinesOnRealImages(t *testing.T) {
	needTestImages(t)
	want := map[string][]int{
		"multistage": {11},              // FROM scratch: the COPY --from=builder
		"gomulti":    {13},              // likewise
		"secret":     {0, 6, 7, 10, 13}, // the base, then COPY, RUN, RUN (build args), RUN
		"gobuild":    nil,               // checked line by line below
		"waste":      nil,
		"lockfirst":  nil,
	}
	for name, lines := range want {
		for _, builder := range []string{"legacy", "buildkit"} {
			t.Run(name+":"+builder, func(t *testing.T) {
				path := filepath.Join("testdata", "dockerfiles", name, "Dockerfile")
				got, layers, err := layerLines(t, "layerscope-test/"+name+":"+builder, path)
				if err != nil {
					t.Fatal(err)
				}
				if lines != nil && !reflect.DeepEqual(got, lines) {
					t.Errorf("lines %v, want %v", got, lines)
				}
				text, _ := os.ReadFile(path)
				src := strings.Split(string(text), "\n")
				claimed := 0
				for i, line := range got {
					if line == 0 {
						continue
					}
					claimed++
					kw, _ := historyKeyword(layers[i].History.CreatedBy)
					if !strings.HasPrefix(strings.ToUpper(src[line-1]), kw+" ") {
						t.Errorf("layer %d (%s) claims line %d: %q", i, layers[i].History.CreatedBy, line, src[line-1])
					}
				}
				if claimed == 0 {
					t.Error("no layer was given a line")
				}
			})
		}
	}
	for _, tc := range []struct{ image, dockerfile string }{
		{"waste", "gobuild"},         // another Dockerfile
		{"gomulti", "multistage"},    // both multi-stage, FROM scratch, another COPY
		{"lockfirst", "contextcopy"}, // the same base, other instructions
	} {
		for _, builder := range []string{"legacy", "buildkit"} {
			t.Run("mismatch "+tc.image+":"+builder, func(t *testing.T) {
				path := filepath.Join("testdata", "dockerfiles", tc.dockerfile, "Dockerfile")
				if lines, _, err := layerLines(t, "layerscope-test/"+tc.image+":"+builder, path); err == nil {
					t.Errorf("%s's Dockerfile matched %s: lines %v", tc.dockerfile, tc.image, lines)
				}
				code, stdout, stderr := layerscope(t, nil, "--ci", "--format", "json", "--dockerfile", path, "layerscope-test/"+tc.image+":"+builder)
				if code == 2 || !strings.Contains(stderr, "does not match the image") || strings.Contains(stdout, `"line"`) {
					t.Errorf("exit %d, stderr %q; a line claimed: %v", code, stderr, strings.Contains(stdout, `"line"`))
				}
			})
		}
	}
}

// historyKeyword is the instruction a history entry records, for the
// test's own check.
func historyKeyword(createdBy string) (string, bool) {
	s := strings.TrimSpace(createdBy)
	if r, ok := strings.CutPrefix(s, "/bin/sh -c #(nop)"); ok {
		f := strings.Fields(r)
		return f[0], true
	}
	if f := strings.Fields(s); len(f) > 0 && f[0] == strings.ToUpper(f[0]) && !strings.HasPrefix(f[0], "|") && !strings.HasPrefix(f[0], "/") {
		return f[0], true
	}
	return "RUN", true
}

// TestFindingLinesOnRealImages: through the command line, the secret
// image's findings name their Dockerfile lines in JSON and text, the
// same with both builders.
func TestFindingLinesOnRealImages(t *testing.T) {
	needTestImages(t)
	path := filepath.Join("testdata", "dockerfiles", "secret", "Dockerfile")
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			ref := "layerscope-test/secret:" + builder
			rep := jsonReport(t, "--dockerfile", path, ref)
			found := false
			for _, f := range rep["findings"].([]any) {
				f := f.(map[string]any)
				if f["rule"] == "private-key" && f["layer"] == 1.0 {
					found = true
					if f["file"] != path || f["line"] != 6.0 {
						t.Errorf("private key in layer 1 at %v:%v, want %s:6", f["file"], f["line"], path)
					}
				}
				if f["category"] == "config" && f["line"] != nil {
					t.Errorf("a config finding claims a line: %v", f)
				}
			}
			if !found {
				t.Fatal("no private-key finding in layer 1")
			}
			_, text, _ := layerscope(t, nil, "--ci", "--dockerfile", path, ref)
			if !strings.Contains(text, "layer 1 ("+path+":6): a private key") {
				t.Errorf("text report lacks the line:\n%s", text)
			}
		})
	}
}
