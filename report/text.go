package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
)

// TopWaste is how many wasted paths the text report lists.
const TopWaste = 10

// Size humanizes a byte count the way every layerscope view does (SI
// units: 1 MB = 10^6 bytes, as docker and dive show them).
func Size(n int64) string {
	if n < 0 {
		return "-" + humanize.Bytes(uint64(-n))
	}
	return humanize.Bytes(uint64(n))
}

// Percent shows a percentage with one decimal.
func Percent(f float64) string { return fmt.Sprintf("%.1f %%", f) }

// Instruction is what a layer row shows: the instruction, else the
// history's comment, else a dash.
func (l Layer) Instruction() string {
	switch {
	case l.CreatedBy != "":
		return Escape(l.CreatedBy)
	case l.Comment != "":
		return "# " + Escape(l.Comment)
	}
	return "-"
}

// WriteText writes the report for a person reading a CI log.
func (r *Report) WriteText(w io.Writer, width int) error {
	if width < 60 {
		width = 100
	}
	ew := &errWriter{w: w}
	img := r.Image
	ref := img.Ref
	if ref == "" {
		ref = "(untagged)"
	}
	ew.printf("Image    %s\n", Escape(ref))
	ew.printf("ID       %s\n", img.ID)
	ew.printf("Source   %s %s\n", img.Source, Escape(img.Location))
	platform := img.OS + "/" + img.Architecture
	if img.Variant != "" {
		platform += "/" + img.Variant
	}
	user := img.User
	if user == "" {
		user = "root (no USER)"
	}
	ew.printf("Platform %s, user %s\n\n", Escape(platform), Escape(user))

	ew.printf("Layers\n")
	// The instruction goes after the aligned columns, cut to the width.
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "#\tSIZE\tADDED\tMODIFIED\tREMOVED\tWASTED\t\n")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t\n", l.Index, Size(l.Bytes), l.Added, l.Modified, l.Removed, Size(l.WastedBytes))
	}
	tw.Flush()
	lines := strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n")
	for i, line := range lines {
		instr := "INSTRUCTION"
		if i > 0 {
			instr = r.Layers[i-1].Instruction()
			if r.Layers[i-1].Base {
				instr = "[base] " + instr
			}
		}
		ew.printf("  %s  %s\n", line, Truncate(instr, width-len(line)-4))
	}

	s := r.Summary
	ew.printf("\nSummary\n")
	ew.printf("  files          %s (%s regular files, %s)\n", humanize.Comma(int64(s.Files)), humanize.Comma(int64(s.RegularFiles)), Size(s.FinalBytes))
	ew.printf("  layers hold    %s\n", Size(s.ContentBytes))
	if s.CompressedBytes > 0 {
		ew.printf("  pull size      %s compressed (the layer blobs as stored)\n", Size(s.CompressedBytes))
	}
	if b := s.Base; b != nil {
		ew.printf("  base image     %s, %s (%s)\n", Escape(b.Name), s.BaseLayerRange(), b.foundBy())
	}
	if s.BuildWastePercent == nil {
		ew.printf("  wasted         %s: %s of what the build added\n", Size(s.WastedBytes), Percent(s.WastePercent))
	} else {
		ew.printf("  wasted         %s: %s of all the layers but layer 0 (waste percent)\n", Size(s.WastedBytes), Percent(s.WastePercent))
		ew.printf("  build waste    %s: %s of what the build added above the base image\n", Size(*s.BuildWastedBytes), Percent(*s.BuildWastePercent))
		if *s.BaseRemovedBytes > 0 {
			ew.printf("                 the build removed or replaced %s of the base's files: those bytes still ship, in the base's layers, and count as the build's waste\n", Size(*s.BaseRemovedBytes))
		}
	}
	if s.UnavoidableWastedBytes > 0 {
		ew.printf("  unavoidable    %s of it: package-database updates\n", Size(s.UnavoidableWastedBytes))
	}
	ew.printf("  efficiency     %s\n", Percent(100*s.Efficiency))

	if len(r.Waste) > 0 {
		n := min(len(r.Waste), TopWaste)
		ew.printf("\nWasted bytes: top %d of %d paths\n", n, len(r.Waste))
		for _, wst := range r.Waste[:n] {
			ew.printf("  %9s  %s (layer %s)\n", Size(wst.Bytes), Escape(wst.Path), joinInts(wst.Layers))
		}
	}
	own, base := r.splitBase()
	if len(own) > 0 {
		ew.printf("\nFindings\n")
		writeFindings(ew, own)
	}
	if len(base) > 0 {
		ew.printf("\nFrom the base image (%s)\n", BaseAdvice)
		writeFindings(ew, base)
		if !r.FailsAnyBase() {
			ew.printf("  (%s)\n", baseFailNote)
		}
	}
	if len(r.Warnings) > 0 {
		ew.printf("\nWarnings\n")
		for _, wn := range r.Warnings {
			ew.printf("  - %s\n", Escape(wn))
		}
	}
	ew.printf("\nCI rules\n")
	if len(r.CI.Rules) == 0 {
		ew.printf("  (none)\n")
	}
	failed := 0
	// The columns are as wide as their widest cell: fail-on's limit is a
	// list (secret,error) that no fixed width fits.
	limitW, valueW := 10, 10
	for _, rule := range r.CI.Rules {
		limitW = max(limitW, len(formatRule(rule.Name, rule.Limit)))
		valueW = max(valueW, len(formatRule(rule.Name, rule.Value)))
	}
	for _, rule := range r.CI.Rules {
		verdict := "PASS"
		if !rule.Pass {
			verdict = "FAIL"
			failed++
		}
		ew.printf("  %s  %-18s limit %-*s value %-*s (%s)\n", verdict, rule.Name, limitW, formatRule(rule.Name, rule.Limit), valueW, formatRule(rule.Name, rule.Value), rule.From)
		if rule.Note != "" {
			ew.printf("        %s\n", rule.Note)
		}
	}
	if w := r.CI.Waste; w.Judged != "" && hasWasteRule(r.CI.Rules) {
		switch {
		case w.Judged == "all":
			ew.printf("  waste judged: all %s wasted (strict)\n", Size(w.Bytes))
		case s.UnavoidableWastedBytes == 0:
			ew.printf("  waste judged: all %s wasted (none of it package-database updates)\n", Size(w.Bytes))
		default:
			ew.printf("  waste judged: %s, the wasted bytes less %s of package-database updates (--strict-waste judges all %s)\n",
				Size(w.Bytes), Size(s.UnavoidableWastedBytes), Size(s.WastedBytes))
		}
	}
	if w := r.CI.Waste; w.Percent == "buildWastePercent" && w.BuildBytes != nil && s.Base != nil {
		ew.printf("  waste percent judged: buildWastePercent, %s of the build's waste over what it added above the base image %s (%s)\n",
			Size(*w.BuildBytes), Escape(s.Base.Name), s.BaseLayerRange())
	}
	for _, n := range r.CI.Notes {
		ew.printf("  note: %s\n", n)
	}
	if r.CI.Pass {
		ew.printf("\nResult: PASS\n")
	} else {
		ew.printf("\nResult: FAIL (%d of %d rules failed)\n", failed, len(r.CI.Rules))
	}
	return ew.err
}

// writeFindings lists findings with their fix.
func writeFindings(ew *errWriter, fs []Finding) {
	for _, f := range fs {
		ign := ""
		if f.Ignored != "" {
			ign = " (ignored: " + Escape(f.Ignored) + ")"
		}
		at := ""
		if f.File != "" && f.Line > 0 {
			at = fmt.Sprintf(" (%s:%d)", Escape(f.File), f.Line)
		}
		ew.printf("  %-7s %-13s %9s  layer %d%s: %s%s\n", f.Severity, f.Category, Size(f.Bytes), f.Layer, at, Escape(f.Message), ign)
		ew.printf("          fix: %s\n", Escape(f.Advice))
	}
}

// FailsAnyBase says whether the verdict's fail-on set names base.
func (r *Report) FailsAnyBase() bool {
	for _, rule := range r.CI.Rules {
		if rule.Name == RuleFailOn {
			return slices.Contains(strings.Split(fmt.Sprint(rule.Limit), ","), FailOnBase)
		}
	}
	return false
}

func hasWasteRule(rules []Rule) bool {
	for _, r := range rules {
		if r.Name != RuleFailOn {
			return true
		}
	}
	return false
}

func formatRule(name string, v any) string {
	switch x := v.(type) {
	case int64:
		return Size(x)
	case float64:
		if name == RuleMaxWastePercent {
			return Percent(x)
		}
		return fmt.Sprintf("%.4g", x)
	}
	return fmt.Sprint(v)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// Truncate cuts s to n characters (at least 10), marking the cut with "…".
func Truncate(s string, n int) string {
	if n < 10 {
		n = 10
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
