package report

import (
	"io"
)

// GitLab Code Quality: the JSON array a `codequality` report artifact
// holds (a subset of Code Climate's issue format).

type cqIssue struct {
	Type        string     `json:"type"`
	Description string     `json:"description"`
	CheckName   string     `json:"check_name"`
	Fingerprint string     `json:"fingerprint"`
	Severity    string     `json:"severity"`
	Categories  []string   `json:"categories"`
	Location    cqLocation `json:"location"`
}

type cqLocation struct {
	Path  string  `json:"path"`
	Lines cqLines `json:"lines"`
}

type cqLines struct {
	Begin int `json:"begin"`
}

// cqSeverity maps a finding to GitLab's scale (info, minor, major,
// critical, blocker): a secret blocks, the rest follows severity.
func cqSeverity(f Finding) string {
	switch {
	case f.Category == CategorySecret:
		return "blocker"
	case f.Severity == SeverityError:
		return "critical"
	case f.Severity == SeverityWarning:
		return "minor"
	}
	return "info"
}

// WriteCodeQuality writes the report as a GitLab Code Quality report.
// A finding on a known Dockerfile line points there; any other names the
// image as its path, at line 1, so that no Dockerfile line is claimed.
// Ignored findings are left out: GitLab has no place for the reason. The
// base image's findings say so first ("From the base image NAME: "), and
// one that fails no CI run (not a secret, fail-on without base) is info,
// as SARIF makes it a note.
func (r *Report) WriteCodeQuality(w io.Writer) error {
	image := r.imageName()
	issues := []cqIssue{}
	for _, f := range r.Findings {
		if f.Ignored != "" {
			continue
		}
		loc := cqLocation{Path: image, Lines: cqLines{Begin: 1}}
		if f.File != "" && f.Line > 0 {
			loc = cqLocation{Path: f.File, Lines: cqLines{Begin: f.Line}}
		}
		cat := "Bug Risk"
		if f.Category != CategorySecret {
			cat = "Performance"
		}
		desc, sev := findingText(f), cqSeverity(f)
		if f.Base {
			desc = "From " + r.theBase() + ": " + desc
			if r.baseExcused(f) {
				sev = "info"
			}
		}
		issues = append(issues, cqIssue{
			Type: "issue", Description: desc, CheckName: f.Rule, Fingerprint: f.Fingerprint(),
			Severity: sev, Categories: []string{cat}, Location: loc,
		})
	}
	for _, rule := range r.CI.Rules {
		if rule.Pass {
			continue
		}
		issues = append(issues, cqIssue{
			Type: "issue", Description: ruleMessage(rule), CheckName: rule.Name, Fingerprint: ruleFingerprint(rule.Name),
			Severity: "major", Categories: []string{"Performance"}, Location: cqLocation{Path: image, Lines: cqLines{Begin: 1}},
		})
	}
	return EncodeJSON(w, issues)
}
