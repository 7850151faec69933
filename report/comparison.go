package report

// Comparison is what the formats need to know of a comparison whose
// judged side a Report is (layerscope diff OLD NEW): the image compared
// with, and the findings it had that the report's image has not.
type Comparison struct {
	Old ImageInfo
	// Fixed are the findings Old had and the report's image has not.
	Fixed []Finding
	// Baseline says Old is a saved report (--baseline): the report lists
	// all its image's findings, those Old had marked InBaseline, not only
	// the new ones.
	Baseline bool
	// OldFailed names the CI rules Old failed: one failing again is
	// unchanged, not new.
	OldFailed map[string]bool
}

// ruleState says what a failed CI rule is relative to the image
// compared with.
func (c *Comparison) ruleState(name string) string {
	if c.OldFailed[name] {
		return StateUnchanged
	}
	return StateNew
}

// The states of a finding relative to the image compared with, as
// SARIF's baselineState names them.
const (
	StateNew       = "new"       // the report's image has it, Old has not
	StateUnchanged = "unchanged" // both have it (a --baseline finding)
	StateAbsent    = "absent"    // Old had it, the report's image has not
)

// state says what a finding of the report is relative to the image
// compared with: new, or unchanged when the --baseline report had it.
func (f Finding) state() string {
	if f.InBaseline {
		return StateUnchanged
	}
	return StateNew
}
