package diff

import (
	"fmt"
	"io"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/report"
)

// TopPaths is how many changes the text report lists.
const TopPaths = 20

// SignedSize shows a byte delta with its sign: +84 MB, −12 kB, 0 B.
func SignedSize(n int64) string {
	switch {
	case n > 0:
		return "+" + report.Size(n)
	case n < 0:
		return "−" + report.Size(-n)
	}
	return "0 B"
}

// Headline is the summary line: "+84 MB shipped: +1,203 files, −12
// files, 340 changed".
func (d *Diff) Headline() string {
	s := d.Summary
	return fmt.Sprintf("%s shipped: +%s, −%s, %s changed", SignedSize(s.ContentBytesDelta),
		files(s.Added), files(s.Removed), humanize.Comma(int64(s.Changed)))
}

// files counts paths in words: "1 file", "1,203 files".
func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return humanize.Comma(int64(n)) + " files"
}

// WriteText writes the comparison for a person: the summary line, the
// layers side by side, the largest changes, new and fixed findings, and
// the verdict.
func (d *Diff) WriteText(w io.Writer, width int) error {
	if width < 60 {
		width = 100
	}
	ew := &errWriter{w: w}
	ew.printf("%s\n\n", d.Headline())
	for _, side := range []struct {
		name string
		s    Side
	}{{"Old", d.Old}, {"New", d.New}} {
		ref := side.s.Image.Ref
		if ref == "" {
			ref = "(untagged)"
		}
		ew.printf("%s      %s (%s)\n", side.name, report.Escape(ref), report.Escape(side.s.Image.ID))
	}
	o, n := d.Old.Summary, d.New.Summary
	ew.printf("Shipped  %s → %s (%s)\n", report.Size(o.ContentBytes), report.Size(n.ContentBytes), SignedSize(d.Summary.ContentBytesDelta))
	ew.printf("Final    %s → %s (%s)\n", report.Size(o.FinalBytes), report.Size(n.FinalBytes), SignedSize(d.Summary.FinalBytesDelta))
	ew.printf("Wasted   %s → %s (%s)\n", report.Size(o.WastedBytes), report.Size(n.WastedBytes), SignedSize(d.Summary.WastedBytesDelta))

	ew.printf("\nLayers (= shared: the same diff ID in the same place; %d of them)\n", d.SharedLayers)
	col := max((width-4)/2-1, 24)
	cell := func(ls []report.Layer, i int) string {
		if i >= len(ls) {
			return ""
		}
		l := ls[i]
		head := fmt.Sprintf("%2d %9s ", l.Index, report.Size(l.Bytes))
		return head + report.Truncate(l.Instruction(), col-len([]rune(head)))
	}
	for i := range max(len(d.OldLayers), len(d.NewLayers)) {
		mark := " "
		if i < d.SharedLayers {
			mark = "="
		}
		left := cell(d.OldLayers, i)
		if pad := col - len([]rune(left)); pad > 0 {
			left += strings.Repeat(" ", pad)
		}
		ew.printf("%s %s │ %s\n", mark, left, cell(d.NewLayers, i))
	}

	if len(d.Paths) > 0 {
		ew.printf("\nLargest changes (%d of %s)\n", min(TopPaths, len(d.Paths)), humanize.Comma(int64(len(d.Paths))))
		for _, p := range d.Paths[:min(TopPaths, len(d.Paths))] {
			sign := changeSign[p.Change]
			where := ""
			if p.Layer >= 0 {
				where = fmt.Sprintf(" (layer %d)", p.Layer)
			}
			ew.printf("  %s %10s  %s%s\n", sign, SignedSize(p.Delta()), report.Escape(p.Path), where)
		}
	}
	for _, part := range []struct {
		title string
		fs    []report.Finding
	}{{"New findings", d.Findings.New}, {"Fixed findings", d.Findings.Fixed}} {
		ew.printf("\n%s (%d)\n", part.title, len(part.fs))
		for _, f := range part.fs {
			ign := ""
			if f.Ignored != "" {
				ign = " (ignored: " + report.Escape(f.Ignored) + ")"
			}
			at := ""
			if f.File != "" && f.Line > 0 {
				at = fmt.Sprintf(" (%s:%d)", report.Escape(f.File), f.Line)
			}
			ew.printf("  %-7s %-13s %9s  layer %d%s: %s%s\n", f.Severity, f.Category, report.Size(f.Bytes), f.Layer, at, report.Escape(f.Message), ign)
		}
	}

	ew.printf("\nCI rules\n")
	if len(d.CI.Rules) == 0 {
		ew.printf("  (none)\n")
	}
	failed := 0
	for _, r := range d.CI.Rules {
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
			failed++
		}
		note := ""
		if r.Note != "" {
			note = " (" + r.Note + ")"
		}
		ew.printf("  %s  %-19s limit %-14s value %-14s (from %s)%s\n", verdict, r.Name, formatRule(r.Name, r.Limit), formatRule(r.Name, r.Value), report.Escape(r.From), note)
	}
	if failed == 0 {
		ew.printf("\nResult: PASS\n")
	} else {
		ew.printf("\nResult: FAIL (%d of %d rules failed)\n", failed, len(d.CI.Rules))
	}
	return ew.err
}

func formatRule(name string, v any) string {
	switch x := v.(type) {
	case int64:
		if name == RuleMaxGrowth {
			return SignedSize(x)
		}
		return report.Size(x)
	case float64:
		if name == RuleMaxGrowthPercent {
			return fmt.Sprintf("%.1f %%", x)
		}
		return fmt.Sprintf("%.4g", x)
	}
	return fmt.Sprint(v)
}

// WriteJSON writes the comparison as indented JSON, as the image report
// is written: nothing from an image reaches it raw that could reorder or
// break the text where it is shown, and it decodes to the same value.
func (d *Diff) WriteJSON(w io.Writer) error { return report.EncodeJSON(w, d) }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
