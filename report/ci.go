package report

import (
	"github.com/layerscope/layerscope/config"
)

// Rule names, as the report shows them.
const (
	RuleMaxWaste        = "max-waste"
	RuleMaxWastePercent = "max-waste-percent"
	RuleMinEfficiency   = "min-efficiency"
)

// DefaultLimits are in force when neither a flag nor a config file sets a
// limit: dive's defaults, judged on figures that never count the kept copy.
func DefaultLimits() config.Limits {
	return config.Limits{
		MaxWastePercent: config.Limit{Value: 10, From: "default"},
		MinEfficiency:   config.Limit{Value: 0.9, From: "default"},
	}
}

// Check judges the report against the limits in force and sets r.CI.
func (r *Report) Check(l config.Limits, dive bool) {
	r.CI = CI{Pass: true, Rules: []Rule{}}
	add := func(name string, limit, value any, pass bool, from string) {
		r.CI.Rules = append(r.CI.Rules, Rule{Name: name, Limit: limit, Value: value, Pass: pass, From: from})
		r.CI.Pass = r.CI.Pass && pass
	}
	s := r.Summary
	if l.MaxWaste.Set() {
		limit := int64(l.MaxWaste.Value)
		add(RuleMaxWaste, limit, s.WastedBytes, s.WastedBytes <= limit, l.MaxWaste.From)
	}
	if l.MaxWastePercent.Set() {
		add(RuleMaxWastePercent, l.MaxWastePercent.Value, s.WastePercent, s.WastePercent <= l.MaxWastePercent.Value, l.MaxWastePercent.From)
	}
	if l.MinEfficiency.Set() {
		add(RuleMinEfficiency, l.MinEfficiency.Value, s.Efficiency, s.Efficiency >= l.MinEfficiency.Value, l.MinEfficiency.From)
	}
	if dive {
		r.CI.Notes = append(r.CI.Notes, "limits from dive's .dive-ci are judged on layerscope's figures, which never count the copy of a file that is kept")
	}
}
