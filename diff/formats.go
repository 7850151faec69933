package diff

import (
	"fmt"
	"io"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/report"
)

// The CI formats of a comparison. SARIF, JUnit and GitLab Code Quality
// are the image report's own writers, given NEW as the comparison judges
// it (Judged); Markdown is a pull request's comment of its own, escaped by
// the image report's helper.

// MarkdownLayers bounds the Markdown layer table's rows.
const MarkdownLayers = 40

// Judged is NEW as the comparison judges it, for the image report's
// writers: NEW's identity, figures and layers, only the findings OLD does
// not have (with their Dockerfile lines, when located), and the
// comparison's verdict (the growth rules and fail-on on those findings).
// Compared names OLD and its fixed findings: the writers title the
// comparison's suites by it (JUnit) and give SARIF results their
// baselineState.
func (d *Diff) Judged() *report.Report {
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Image:         d.New.Image,
		Summary:       d.New.Summary,
		Layers:        d.NewLayers,
		Waste:         []report.Waste{},
		Findings:      d.Findings.New,
		Warnings:      []string{},
		CI:            d.CI,
		Compared:      &report.Comparison{Old: d.Old.Image, Fixed: d.Findings.Fixed},
	}
}

// WriteSARIF writes the new findings and the failed rules as SARIF 2.1.0
// results, as the image report does, each with baselineState new; the
// run's properties name OLD and list the fixed findings.
func (d *Diff) WriteSARIF(w io.Writer, tool report.Tool) error {
	return d.Judged().WriteSARIF(w, tool)
}

// WriteJUnit writes the rules and the new findings as JUnit test cases,
// as the image report does, in suites named for the comparison ("layerscope:
// new findings in NEW since OLD").
func (d *Diff) WriteJUnit(w io.Writer) error { return d.Judged().WriteJUnit(w) }

// WriteCodeQuality writes the new findings and the failed rules as a
// GitLab Code Quality report, as the image report does.
func (d *Diff) WriteCodeQuality(w io.Writer) error { return d.Judged().WriteCodeQuality(w) }

// WriteMarkdown writes the comparison as a pull request's comment: the
// summary line, the figures, the layers side by side with the shared ones
// marked, the largest changes, new and fixed findings, and the verdict.
// Everything from an image goes through report.MarkdownText.
func (d *Diff) WriteMarkdown(w io.Writer) error {
	md := report.MarkdownText
	ew := &errWriter{w: w}
	ew.printf("## layerscope diff: %s → %s\n\n", md(d.Old.Image.Name()), md(d.New.Image.Name()))
	ew.printf("**%s**\n\n", md(d.Headline()))
	o, n, s := d.Old.Summary, d.New.Summary, d.Summary
	ew.printf("| | old | new | change |\n|---|---|---|---|\n")
	ew.printf("| shipped | %s | %s | %s |\n", report.Size(o.ContentBytes), report.Size(n.ContentBytes), SignedSize(s.ContentBytesDelta))
	ew.printf("| final files | %s | %s | %s |\n", report.Size(o.FinalBytes), report.Size(n.FinalBytes), SignedSize(s.FinalBytesDelta))
	ew.printf("| wasted | %s | %s | %s |\n\n", report.Size(o.WastedBytes), report.Size(n.WastedBytes), SignedSize(s.WastedBytesDelta))

	rows := max(len(d.OldLayers), len(d.NewLayers))
	ew.printf("### Layers (%d shared)\n\n= marks a shared layer: the same diff ID in the same place.\n\n", d.SharedLayers)
	ew.printf("| # | old | bytes | new | bytes |\n|---|---|---|---|---|\n")
	cell := func(ls []report.Layer, i int) (string, string) {
		if i >= len(ls) {
			return "", ""
		}
		return md(report.Truncate(ls[i].Instruction(), 60)), report.Size(ls[i].Bytes)
	}
	for i := range min(rows, MarkdownLayers) {
		mark := fmt.Sprint(i)
		if i < d.SharedLayers {
			mark = "= " + mark
		}
		oi, ob := cell(d.OldLayers, i)
		ni, nb := cell(d.NewLayers, i)
		ew.printf("| %s | %s | %s | %s | %s |\n", mark, oi, ob, ni, nb)
	}
	if rows > MarkdownLayers {
		ew.printf("\n…and %d more layers (see the full report).\n", rows-MarkdownLayers)
	}
	ew.printf("\n")

	if len(d.Paths) > 0 {
		top := d.Paths[:min(TopPaths, len(d.Paths))]
		ew.printf("### Largest changes (%d of %s)\n\n| | bytes | path | layer |\n|---|---|---|---|\n", len(top), humanize.Comma(int64(len(d.Paths))))
		for _, p := range top {
			layer := "–"
			if p.Layer >= 0 {
				layer = fmt.Sprint(p.Layer)
			}
			ew.printf("| %s | %s | %s | %s |\n", md(changeSign[p.Change]), SignedSize(p.Delta()), md(p.Path), layer)
		}
		ew.printf("\n")
	}

	judged := d.Judged()
	for _, part := range []struct {
		title, layer string
		fs           []report.Finding
		fix          bool
	}{{"New findings", "layer", d.Findings.New, true}, {"Fixed findings", "old layer", d.Findings.Fixed, false}} {
		if len(part.fs) == 0 {
			ew.printf("No %s.\n\n", strings.ToLower(part.title))
			continue
		}
		ew.printf("### %s (%d)\n\n| severity | category | bytes | %s | finding |", part.title, len(part.fs), part.layer)
		if part.fix {
			ew.printf(" fix |\n|---|---|---|---|---|---|\n")
		} else {
			ew.printf("\n|---|---|---|---|---|\n")
		}
		shown := part.fs[:min(len(part.fs), report.MarkdownFindings)]
		for _, f := range shown {
			ew.printf("%s", report.MarkdownFindingRow(f, part.fix && judged.FailsCI(f)))
			if part.fix {
				ew.printf(" %s |", md(f.Advice))
			}
			ew.printf("\n")
		}
		if len(part.fs) > len(shown) {
			ew.printf("\n…and %d more (see the full report).\n", len(part.fs)-len(shown))
		}
		ew.printf("\n")
	}

	ew.printf("### Verdict\n\n")
	failed := 0
	if len(d.CI.Rules) > 0 {
		ew.printf("| CI rule | limit | value | result |\n|---|---|---|---|\n")
		for _, r := range d.CI.Rules {
			res := "pass"
			switch {
			case !r.Pass:
				res = "**FAIL**"
				failed++
			case r.Note != "":
				res = "pass (not judged)"
			}
			ew.printf("| %s | %s | %s | %s |\n", md(r.Name), md(formatRule(r.Name, r.Limit)), md(formatRule(r.Name, r.Value)), res)
		}
		ew.printf("\n")
	}
	if d.CI.Pass {
		ew.printf("**✅ PASS**\n")
	} else {
		ew.printf("**❌ FAIL (%d of %d rules failed)**\n", failed, len(d.CI.Rules))
	}
	return ew.err
}

// changeSign marks a change in the lists: + added, ~ changed, - removed.
var changeSign = map[string]string{Added: "+", Removed: "-", Changed: "~"}
