package diff

import (
	"strings"

	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/report"
)

// The growth rules' names in the verdict.
const (
	RuleMaxGrowth        = report.RuleMaxGrowth
	RuleMaxGrowthPercent = report.RuleMaxGrowthPercent
)

// GrowthPercent is 100 × contentBytesDelta / OLD's content bytes, and
// false when OLD ships nothing.
func (d *Diff) GrowthPercent() (float64, bool) {
	if d.Old.Summary.ContentBytes <= 0 {
		return 0, false
	}
	return 100 * float64(d.Summary.ContentBytesDelta) / float64(d.Old.Summary.ContentBytes), true
}

// Check judges the comparison: the growth rules that are set (of l, only
// MaxGrowth and MaxGrowthPercent count), and the
// fail-on set applied to the new findings only (ignored ones aside). It
// sets d.CI.
func (d *Diff) Check(l config.Limits, failOn report.FailOn) {
	d.CI = report.CI{Pass: true, Rules: []report.Rule{}}
	add := func(r report.Rule) {
		d.CI.Rules = append(d.CI.Rules, r)
		d.CI.Pass = d.CI.Pass && r.Pass
	}
	delta := d.Summary.ContentBytesDelta
	if l.MaxGrowth.Set() {
		limit := int64(l.MaxGrowth.Value)
		add(report.Rule{Name: RuleMaxGrowth, Limit: limit, Value: delta, Pass: delta <= limit, From: l.MaxGrowth.From})
	}
	if l.MaxGrowthPercent.Set() {
		p, ok := d.GrowthPercent()
		r := report.Rule{Name: RuleMaxGrowthPercent, Limit: l.MaxGrowthPercent.Value, Value: p, Pass: !ok || p <= l.MaxGrowthPercent.Value, From: l.MaxGrowthPercent.From}
		if !ok {
			r.Note = "not judged: the old image ships no bytes"
		}
		add(r)
	}
	if failOn.From != "" {
		failing := 0
		for _, f := range d.Findings.New {
			if failOn.Fails(f) {
				failing++
			}
		}
		limit := strings.Join(failOn.Set, ",")
		if limit == "" {
			limit = "none"
		}
		add(report.Rule{Name: report.RuleFailOn, Limit: limit, Value: failing, Pass: failing == 0, From: failOn.From})
	}
}
