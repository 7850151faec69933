package report

// Comparison is what the formats need to know of a comparison whose
// judged side a Report is (layerscope diff OLD NEW): the image compared
// with, and the findings it had that the report's image has not.
type Comparison struct {
	Old ImageInfo
	// Fixed are the findings Old had and the report's image has not.
	Fixed []Finding
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
