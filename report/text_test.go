package report

import (
	"strings"
	"testing"
)

// TestCIRulesLineUp: the limit and value columns of the CI table start
// at the same column on every row, fail-on's list included.
func TestCIRulesLineUp(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
	}{
		{"waste rules and fail-on", []Rule{
			{Name: RuleMaxWastePercent, Limit: 10.0, Value: 25.5, Pass: true, From: "default"},
			{Name: RuleMinEfficiency, Limit: 0.9, Value: 0.7808, Pass: true, From: "default"},
			{Name: RuleFailOn, Limit: "secret,error", Value: 3, From: "default"},
		}},
		{"a long fail-on set", []Rule{
			{Name: RuleMaxWaste, Limit: int64(50_000_000), Value: int64(1000), Pass: true, From: "flag"},
			{Name: RuleFailOn, Limit: "secret,error,toolchain,warning", Value: 12, From: "flag"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{CI: CI{Rules: tc.rules}}
			var b strings.Builder
			if err := r.WriteText(&b, 100); err != nil {
				t.Fatal(err)
			}
			var limitAt, valueAt, fromAt []int
			for _, line := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(line, "  PASS  ") || strings.HasPrefix(line, "  FAIL  ") {
					limitAt = append(limitAt, strings.Index(line, " limit "))
					valueAt = append(valueAt, strings.Index(line, " value "))
					fromAt = append(fromAt, strings.LastIndex(line, " ("))
				}
			}
			if len(limitAt) != len(tc.rules) {
				t.Fatalf("%d rule rows, want %d:\n%s", len(limitAt), len(tc.rules), b.String())
			}
			for i := range limitAt {
				if limitAt[i] != limitAt[0] || valueAt[i] != valueAt[0] || fromAt[i] != fromAt[0] {
					t.Errorf("columns do not line up:\n%s", b.String())
					break
				}
			}
		})
	}
}

// TestPullSize: the summary gives the compressed size when the source
// knows every layer's blob, and says nothing when it does not.
func TestPullSize(t *testing.T) {
	for _, tc := range []struct {
		compressed int64
		want       string
	}{{1_100_000, "pull size      1.1 MB compressed"}, {0, ""}} {
		r := &Report{Summary: Summary{ContentBytes: 3_200_000, CompressedBytes: tc.compressed}}
		var b strings.Builder
		if err := r.WriteText(&b, 100); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "pull size"); got != (tc.want != "") || !strings.Contains(b.String(), tc.want) {
			t.Errorf("compressed %d: want %q in\n%s", tc.compressed, tc.want, b.String())
		}
	}
}
