package rules

import "github.com/layerscope/layerscope/report"

// FromConfig reports a finding about the final config's user: the
// image's whoever set it first, so never the base image's. (The secrets
// of the final config's Env and labels are marked Build as they are found.)
func FromConfig(f report.Finding) bool {
	return f.Rule == IDRunAsRoot || f.Rule == IDUserUndefined
}
