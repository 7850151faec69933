package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tui"
)

// diffFormats are the formats layerscope diff writes: every format of
// the image command (report.Formats) that has a meaning for a comparison.
var diffFormats = []string{"text", "json", "markdown", "sarif", "junit", "codequality"}

// runDiff is `layerscope diff [flags] OLD NEW`: argument handling only;
// package diff computes the comparison.
func runDiff(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	o, pos, err := parseArgs(args)
	if err != nil {
		return exitError, err
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, usage())
		return exitPass, nil
	case len(pos) != 2:
		return exitError, usageError{fmt.Sprintf("diff compares two images: layerscope diff OLD NEW (got %d)", len(pos))}
	case isStdin(pos[0]) && isStdin(pos[1]):
		return exitError, usageError{"diff: at most one of OLD and NEW can be - (standard input)"}
	case isStdin(o.base):
		// OLD and NEW are read at once, each with its base: standard
		// input cannot give it to both.
		return exitError, usageError{"diff: --base cannot be - (standard input): both OLD and NEW read it; name a file (docker save BASE -o base.tar, --base base.tar)"}
	case o.listRules || o.version:
		return exitError, usageError{"diff: --list-rules and --version stand alone"}
	}
	outs, err := o.diffOutputs()
	if err != nil {
		return exitError, err
	}
	ci, set, opt, err := o.prepare(pos, "docker save IMAGE | layerscope diff - NEW", stdin, stderr)
	if err != nil {
		return exitError, err
	}
	reps, imgs, err := loadBoth(ctx, pos, stderr, func(ctx context.Context, i int, prog *image.Progress) (*report.Report, *image.Image, error) {
		opt := opt
		opt.Progress = prog
		return analysis.Run(ctx, pos[i], set.analysis(opt))
	})
	if err != nil {
		return failure(ctx, err)
	}
	// NEW's findings on their Dockerfile lines, as the image command
	// places them: the new findings carry them into every format.
	if err := locate(o, imgs[1], reps[1], stderr); err != nil {
		return exitError, err
	}
	d, err := diff.Compare(ctx, reps[0], reps[1])
	if err != nil {
		return failure(ctx, err)
	}
	d.Check(set.limits, set.failOn)
	if !ci && o.format == "text" && len(outs) == 0 && isTerminal(stdout) && !isStdin(pos[0]) && !isStdin(pos[1]) {
		// The explorer on the difference; standard input stays the keyboard.
		if err := tui.RunDiff(ctx, d, reps[0], reps[1], tui.WithLayers(reread(imgs[1])), tui.WithOldLayers(reread(imgs[0]))); err != nil {
			return failure(ctx, err)
		}
		return exitPass, nil
	}
	write := func(format string, width int) func(io.Writer) error { return diffWriter(d, format, width) }
	// The annotations name what diff judged: NEW's new findings and the
	// growth rules.
	return emit(result{write: write, judged: d.Judged(), summary: d.WriteMarkdown}, outs, o.format, ci, stdout, stderr)
}

// reread lets the explorer's viewer read img's layers again, when its
// source allows it.
func reread(img *image.Image) func() tui.LayerOpener {
	return func() tui.LayerOpener { return rereadable(img) }
}

// rereadable is img when the explorer's viewer can read its layers again
// (an archive file or a layout), else nil: the daemon and streams send an
// image once.
func rereadable(img *image.Image) tui.LayerOpener {
	if img == nil || !img.CanReread() {
		return nil
	}
	return img
}

func isStdin(arg string) bool { return arg == "-" || strings.HasPrefix(arg, "-:") }

// diffOutputs checks --format and gathers --output and --json for diff.
func (o *options) diffOutputs() ([]output, error) {
	outs, err := o.outputs()
	if err != nil {
		return nil, err
	}
	check := func(what, format string) error {
		if !slices.Contains(diffFormats, format) {
			return usageError{fmt.Sprintf("diff: %s %s: diff writes %s", what, format, strings.Join(diffFormats, ", "))}
		}
		return nil
	}
	if err := check("--format", o.format); err != nil {
		return nil, err
	}
	for _, out := range outs {
		if err := check("--output", out.format); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// diffWriter returns the function that writes d in format.
func diffWriter(d *diff.Diff, format string, width int) func(io.Writer) error {
	switch format {
	case "json":
		return d.WriteJSON
	case "markdown":
		return d.WriteMarkdown
	case "sarif":
		return func(w io.Writer) error { return d.WriteSARIF(w, tool()) }
	case "junit":
		return d.WriteJUnit
	case "codequality":
		return d.WriteCodeQuality
	}
	return func(w io.Writer) error { return d.WriteText(w, width) }
}

// sides name OLD and NEW in errors and progress.
var sides = [2]string{"OLD", "NEW"}

// analyseFunc analyses pos[i] (0 OLD, 1 NEW), recording in prog.
type analyseFunc func(ctx context.Context, i int, prog *image.Progress) (*report.Report, *image.Image, error)

// loadBoth analyses OLD and NEW: at the same time when neither is
// standard input, else one after the other. The first error wins and
// cancels the other image's read; it names its image (OLD or NEW and the
// argument). It returns both reports and both images.
func loadBoth(ctx context.Context, pos []string, stderr io.Writer, analyse analyseFunc) ([2]*report.Report, [2]*image.Image, error) {
	var (
		reps  [2]*report.Report
		imgs  [2]*image.Image
		progs [2]*image.Progress
	)
	if isTerminal(stderr) {
		progs = [2]*image.Progress{image.NewProgress(), image.NewProgress()}
		defer showBothProgress(stderr, progs)()
	}
	one := func(ctx context.Context, i int) error {
		rep, img, err := analyse(ctx, i, progs[i])
		switch {
		case err != nil && strings.HasPrefix(err.Error(), pos[i]+":"):
			return fmt.Errorf("%s %w", sides[i], err) // it names the argument already
		case err != nil:
			return fmt.Errorf("%s %s: %w", sides[i], pos[i], err)
		}
		reps[i], imgs[i] = rep, img
		return nil
	}
	if isStdin(pos[0]) || isStdin(pos[1]) {
		for i := range 2 {
			if err := one(ctx, i); err != nil {
				return reps, imgs, err
			}
		}
		return reps, imgs, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range 2 {
		wg.Go(func() {
			if err := one(ctx, i); err != nil {
				// The other read fails only once this cancel has run: its
				// error comes second.
				once.Do(func() { first = err })
				cancel()
			}
		})
	}
	wg.Wait()
	return reps, imgs, first
}

// showBothProgress draws one status line for both images on a terminal
// until done is called, each side cut to half the width so that the line
// never wraps (a wrapped line is not cleared).
func showBothProgress(w io.Writer, progs [2]*image.Progress) (done func()) {
	half := max((termWidth(w)-12)/2, 20)
	return statusLine(w, func() string {
		line := fmt.Sprintf("%.1fs", progs[0].Snapshot().Elapsed.Seconds())
		for i, p := range progs {
			s := p.Snapshot()
			side := fmt.Sprintf("%s %s read, %d layers: %s", sides[i], report.Size(s.Read), s.Layers, s.Phase)
			line += " │ " + report.Truncate(report.Escape(side), half)
		}
		return line
	})
}

// maxBaseline bounds the JSON report --baseline reads.
const maxBaseline = 64 << 20

// readBaseline reads the JSON report of an earlier run (layerscope
// --format json), through a size limit.
func readBaseline(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBaseline+1))
	if err != nil {
		return nil, fmt.Errorf("--baseline %s: %w", path, err)
	}
	if len(data) > maxBaseline {
		return nil, fmt.Errorf("--baseline %s: larger than %s: not a layerscope report", path, report.Size(maxBaseline))
	}
	var head struct {
		SchemaVersion int    `json:"schemaVersion"`
		Kind          string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("--baseline %s: not a layerscope JSON report: %w", path, err)
	}
	switch {
	case head.Kind != "":
		return nil, fmt.Errorf("--baseline %s: a %s report, not an image's (layerscope --format json IMAGE writes one)", path, head.Kind)
	case head.SchemaVersion != report.SchemaVersion:
		return nil, fmt.Errorf("--baseline %s: schemaVersion %d, want %d (layerscope --format json IMAGE writes one)", path, head.SchemaVersion, report.SchemaVersion)
	}
	var v report.Report
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("--baseline %s: not a layerscope JSON report: %w", path, err)
	}
	return &v, nil
}

// applyBaseline adds the growth rules and fail-on, judged on the findings
// the baseline did not have, to the image's verdict, and marks the findings
// it had, which then fail nothing in any format (and are "unchanged" in
// SARIF's baselineState, the new ones "new").
func applyBaseline(rep, base *report.Report, path string, set *settings) {
	d := diff.Baseline(base, rep)
	d.Check(set.limits, set.failOn)
	diff.MarkBaseline(rep.Findings, base.Findings)
	failed := map[string]bool{}
	for _, rule := range base.CI.Rules {
		failed[rule.Name] = failed[rule.Name] || !rule.Pass
	}
	rep.Compared = &report.Comparison{Old: base.Image, Fixed: d.Findings.Fixed, Baseline: true, OldFailed: failed}
	rep.CI.Rules = append(rep.CI.Rules, d.CI.Rules...)
	rep.CI.Pass = rep.CI.Pass && d.CI.Pass
	rep.CI.Notes = append(rep.CI.Notes, fmt.Sprintf("compared with the baseline %s: %s shipped; fail-on judges only the %d findings the baseline does not have (%d fixed)",
		path, diff.SignedSize(d.Summary.ContentBytesDelta), len(d.Findings.New), len(d.Findings.Fixed)))
}
