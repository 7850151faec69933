package analysis_test

import (
	"context"
	"testing"
	"time"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/report"
)

// The order matters: suppressions come before the verdict, so an ignored
// finding no longer fails it.
func TestRunOrder(t *testing.T) {
	secrets := []config.Ignore{{Category: "secret", Reason: "test keys"}}
	none := report.FailOn{Set: []string{}, From: "flag"}
	secretOnly := report.FailOn{Set: []string{"secret"}, From: "flag"}
	off := config.Limits{}
	for _, tc := range []struct {
		name     string
		opt      analysis.Options
		pass     bool
		ignored  int
		findings bool
	}{
		{"defaults fail on the sample's secrets", analysis.Options{}, false, 0, true},
		{"ignoring the secrets passes fail-on secret", analysis.Options{Ignore: secrets, FailOn: &secretOnly, Limits: &off}, true, 3, true},
		{"fail-on secret without ignores fails", analysis.Options{FailOn: &secretOnly, Limits: &off}, false, 0, true},
		{"fail-on none passes", analysis.Options{FailOn: &none, Limits: &off}, true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, img, err := analysis.Run(ctx, "../testdata/sample.tar", tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if img == nil || rep.Tree == nil {
				t.Fatal("no image or tree")
			}
			if got := len(rep.Findings) > 0; got != tc.findings {
				t.Fatalf("findings: %d", len(rep.Findings))
			}
			ignored := 0
			for _, f := range rep.Findings {
				if f.Ignored != "" {
					ignored++
				}
			}
			if ignored != tc.ignored {
				t.Errorf("ignored %d findings, want %d", ignored, tc.ignored)
			}
			if rep.CI.Pass != tc.pass {
				t.Errorf("pass = %v, want %v (%+v)", rep.CI.Pass, tc.pass, rep.CI.Rules)
			}
		})
	}
}

func TestRunBadSource(t *testing.T) {
	if _, _, err := analysis.Run(context.Background(), "../testdata/formats-ignore.yaml", analysis.Options{}); err == nil {
		t.Fatal("a YAML file analysed as an image")
	}
}

// TestRunMergesAsItLoads: the command's analysis has Load merge each layer
// as it is parsed (image.Options.Merge): the report's tree is the one Load
// built, and no layer keeps its change set.
func TestRunMergesAsItLoads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, img, err := analysis.Run(ctx, "../testdata/sample.tar", analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Tree == nil || rep.Tree != img.Tree {
		t.Fatalf("the report's tree (%p) is not the one Load merged (%p)", rep.Tree, img.Tree)
	}
	for i, l := range img.Layers {
		if l.Changes != nil {
			t.Errorf("layer %d keeps its change set", i)
		}
	}
}
