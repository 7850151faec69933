package report

import (
	"fmt"
	"io"
	"strings"
)

// Markdown: a pull request's summary, in under 60 lines for a typical
// image. Everything from the image is escaped for Markdown and HTML.

// MarkdownFindings and MarkdownWaste bound the tables' rows.
const (
	MarkdownFindings = 15
	MarkdownWaste    = 5
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
// bold when it fails CI), category, bytes, layer (and Dockerfile line),
// the finding; the table's later columns follow it.
func MarkdownFindingRow(f Finding, fails bool) string {
	sev := markdownText(string(f.Severity))
	if fails {
		sev = "**" + sev + "**"
	}
	layer := fmt.Sprint(f.Layer)
	if f.File != "" && f.Line > 0 {
		layer += " (" + markdownText(fmt.Sprintf("%s:%d", f.File, f.Line)) + ")"
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
	ew.printf("**%s** · %s in %d layers · efficiency %s · wasted %s (%s of what the build added)\n\n",
		verdict, Size(s.ContentBytes), s.Layers, Percent(100*s.Efficiency), Size(s.WastedBytes), Percent(s.WastePercent))

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

	if len(r.Findings) > 0 {
		ew.printf("### Findings\n\n| severity | category | bytes | layer | finding | fix |\n|---|---|---|---|---|---|\n")
		n := min(len(r.Findings), MarkdownFindings)
		for _, f := range r.Findings[:n] {
			ew.printf("%s %s |\n", MarkdownFindingRow(f, r.FailsCI(f)), markdownText(f.Advice))
		}
		if len(r.Findings) > n {
			ew.printf("\n…and %d more findings (see the full report).\n", len(r.Findings)-n)
		}
		ew.printf("\n")
	} else {
		ew.printf("No findings.\n\n")
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
