package report

import (
	"fmt"
	"io"
	"strings"
)

// Markdown: a pull request's summary, in under 60 lines for a typical
// image. Everything from the image is escaped for Markdown and HTML.

// MarkdownFindings, MarkdownBaseFindings and MarkdownWaste bound the
// tables' rows: the build's findings, the base image's, the wasted paths.
const (
	MarkdownFindings     = 15
	MarkdownBaseFindings = 5
	MarkdownWaste        = 5
)

// markdownText escapes untrusted text for a Markdown table cell: control
// characters as Escape shows them, then the characters Markdown or HTML
// would read (emphasis, links, code, tables, tags, entities).
func markdownText(s string) string {
	s = Escape(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MarkdownText is markdownText, for the other reports' Markdown (diff).
func MarkdownText(s string) string { return markdownText(s) }

// MarkdownFindingRow is a finding's row in a Markdown table: severity (in
// bold when it fails CI), category, bytes, layer (and Dockerfile line;
// "(base)" for the base image's), the finding; the table's later columns
// follow it.
func MarkdownFindingRow(f Finding, fails bool) string {
	sev := markdownText(string(f.Severity))
	if fails {
		sev = "**" + sev + "**"
	}
	layer := fmt.Sprint(f.Layer)
	if f.File != "" && f.Line > 0 {
		layer += " (" + markdownText(fmt.Sprintf("%s:%d", f.File, f.Line)) + ")"
	}
	if f.Base {
		layer += " (base)"
	}
	msg := markdownText(f.Message)
	if f.Ignored != "" {
		msg += " (ignored: " + markdownText(f.Ignored) + ")"
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |", sev, markdownText(string(f.Category)), Size(f.Bytes), layer, msg)
}

// WriteMarkdown writes the summary a pull request shows.
func (r *Report) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	s := r.Summary
	verdict := "✅ PASS"
	failed := 0
	for _, rule := range r.CI.Rules {
		if !rule.Pass {
			failed++
		}
	}
	if !r.CI.Pass {
		verdict = fmt.Sprintf("❌ FAIL (%d of %d rules failed)", failed, len(r.CI.Rules))
	}
	ew.printf("## layerscope: %s\n\n", markdownText(r.imageName()))
	if s.BuildWastePercent == nil {
		ew.printf("**%s** · %s in %d layers · efficiency %s · wasted %s (%s of what the build added)\n\n",
			verdict, Size(s.ContentBytes), s.Layers, Percent(100*s.Efficiency), Size(s.WastedBytes), Percent(s.WastePercent))
	} else {
		ew.printf("**%s** · %s in %d layers · efficiency %s · wasted %s · the build's waste %s (%s of what it added above the base image)\n\n",
			verdict, Size(s.ContentBytes), s.Layers, Percent(100*s.Efficiency), Size(s.WastedBytes), Size(*s.BuildWastedBytes), Percent(*s.BuildWastePercent))
	}
	if b := s.Base; b != nil {
		ew.printf("Base image: %s, %s (%s).\n\n", markdownText(b.Name), s.BaseLayerRange(), markdownText(b.foundBy()))
	}

	if len(r.CI.Rules) > 0 {
		ew.printf("| CI rule | limit | value | result |\n|---|---|---|---|\n")
		for _, rule := range r.CI.Rules {
			res := "pass"
			if !rule.Pass {
				res = "**FAIL**"
			} else if rule.Note != "" {
				res = "pass (not judged)"
			}
			ew.printf("| %s | %s | %s | %s |\n", rule.Name, markdownText(formatRule(rule.Name, rule.Limit)), markdownText(formatRule(rule.Name, rule.Value)), res)
		}
		ew.printf("\n")
	}

	own, base := r.splitBase()
	switch {
	case len(own) > 0:
		ew.printf("### Findings\n\n")
		r.markdownFindings(ew, own, MarkdownFindings, "findings")
	case len(base) > 0:
		ew.printf("No findings of the build's own.\n\n")
	default:
		ew.printf("No findings.\n\n")
	}
	if len(base) > 0 {
		// Apart, as in the text report: not the build's to fix.
		ew.printf("### From %s (%s)\n\n", markdownText(r.theBase()), markdownText(s.BaseLayerRange()))
		ew.printf("Not the build's: %s.", BaseAdvice)
		if !r.FailsAnyBase() {
			ew.printf(" %s.", strings.ToUpper(baseFailNote[:1])+baseFailNote[1:])
		}
		ew.printf("\n\n")
		r.markdownFindings(ew, base, MarkdownBaseFindings, "findings from the base image")
	}

	if len(r.Waste) > 0 {
		n := min(len(r.Waste), MarkdownWaste)
		ew.printf("### Top wasted paths (%d of %d)\n\n| wasted | path | layers |\n|---|---|---|\n", n, len(r.Waste))
		for _, wst := range r.Waste[:n] {
			ew.printf("| %s | %s | %s |\n", Size(wst.Bytes), markdownText(wst.Path), joinInts(wst.Layers))
		}
		ew.printf("\n")
	}
	ew.printf("<sub>layerscope · %s</sub>\n", markdownText(r.CI.Waste.summary()))
	return ew.err
}

// markdownFindings writes a table of findings, at most n rows, and how
// many more there are (what: "findings").
func (r *Report) markdownFindings(ew *errWriter, fs []Finding, n int, what string) {
	ew.printf("| severity | category | bytes | layer | finding | fix |\n|---|---|---|---|---|---|\n")
	shown := fs[:min(len(fs), n)]
	for _, f := range shown {
		ew.printf("%s %s |\n", MarkdownFindingRow(f, r.FailsCI(f)), markdownText(f.Advice))
	}
	if len(fs) > len(shown) {
		ew.printf("\n…and %d more %s (see the full report).\n", len(fs)-len(shown), what)
	}
	ew.printf("\n")
}

// summary says in a few words which waste the rules judged.
func (w WasteRule) summary() string {
	switch w.Judged {
	case "all":
		return "waste judged: all " + Size(w.Bytes) + " (strict)"
	case "":
		return "no waste rule"
	}
	return "waste judged: " + Size(w.Bytes) + " (package-database updates left out)"
}
