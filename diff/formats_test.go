package diff_test

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/report"
)

// judgedDiff is a comparison with a new finding, a fixed one and a failed
// growth rule.
func judgedDiff() *diff.Diff {
	return &diff.Diff{
		Old: diff.Side{Image: report.ImageInfo{Ref: "app:old"}},
		New: diff.Side{Image: report.ImageInfo{Ref: "app:new"}},
		Findings: diff.Findings{
			New:   []report.Finding{{Rule: "go-toolchain", Category: report.CategoryToolchain, Severity: report.SeverityWarning, Layer: 1, Paths: []string{"/usr/local/go"}, Message: "the Go toolchain"}},
			Fixed: []report.Finding{{Rule: "git-dir", Category: report.CategoryVCS, Severity: report.SeverityWarning, Layer: 2, Paths: []string{"/src/.git"}, Message: "a .git directory"}},
		},
		CI: report.CI{Rules: []report.Rule{{Name: report.RuleMaxGrowth, Limit: int64(1), Value: int64(2), From: "flag"}}},
	}
}

// TestJUnitTitlesSayComparison: diff's JUnit suites say what they hold:
// the comparison's rules, and the findings NEW has since OLD (they read
// "layerscope findings: NEW", as if they were all of NEW's).
func TestJUnitTitlesSayComparison(t *testing.T) {
	var b strings.Builder
	if err := judgedDiff().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name   string `xml:"name,attr"`
		Suites []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"layerscope: CI rules for app:old → app:new", "layerscope: new findings in app:new since app:old"} {
		if i >= len(doc.Suites) || doc.Suites[i].Name != want {
			t.Errorf("suite %d: %+v, want %q", i, doc.Suites, want)
		}
	}
	if doc.Name != "layerscope diff: app:old → app:new" {
		t.Errorf("testsuites named %q", doc.Name)
	}
}

// TestSARIFBaselineState: diff's SARIF says of each result that it is new
// relative to OLD (baselineState, on every result as SARIF requires), and
// lists the fixed findings in the run's properties, not as results that
// code scanning would show as open alerts.
func TestSARIFBaselineState(t *testing.T) {
	var b strings.Builder
	if err := judgedDiff().WriteSARIF(&b, report.Tool{Name: "layerscope"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID        string
				BaselineState string
			}
			Properties struct {
				ComparedWith  string
				FixedFindings []struct{ RuleID, Fingerprint string }
			}
		}
	}
	if err := json.Unmarshal([]byte(b.String()), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	var got []string
	for _, r := range run.Results {
		got = append(got, r.RuleID+" "+r.BaselineState)
	}
	if want := []string{"go-toolchain new", "max-growth new"}; strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("results %q, want %q", got, want)
	}
	p := run.Properties
	if p.ComparedWith != "app:old" || len(p.FixedFindings) != 1 || p.FixedFindings[0].RuleID != "git-dir" || p.FixedFindings[0].Fingerprint == "" {
		t.Errorf("run properties %+v", p)
	}
}
