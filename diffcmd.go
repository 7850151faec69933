package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tui"
)

// diffFormats are the formats layerscope diff writes.
var diffFormats = []string{"text", "json"}

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
	// One image at a time: the first tree is kept, the second is built
	// beside it.
	var reps [2]*report.Report
	var imgs [2]*image.Image // for the explorer's viewer
	for i, p := range pos {
		var prog *image.Progress
		done := func() {}
		if isTerminal(stderr) {
			prog = image.NewProgress()
			done = showProgress(stderr, prog)
		}
		opt.Progress = prog
		rep, img, err := analysis.Run(ctx, p, set.analysis(opt))
		done()
		if err != nil {
			code, err := failure(ctx, err)
			if err != nil && err != errInterrupted {
				err = fmt.Errorf("%s %s: %w", [2]string{"OLD", "NEW"}[i], p, err)
			}
			return code, err
		}
		reps[i], imgs[i] = rep, img
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
	for _, out := range outs {
		if err := writeReport(out.path, diffWriter(d, out.format, 100)); err != nil {
			return exitError, err
		}
	}
	if err := diffWriter(d, o.format, termWidth(stdout))(stdout); err != nil {
		return exitError, fmt.Errorf("writing the report: %w", err)
	}
	if ci && !d.CI.Pass {
		return exitFail, nil
	}
	return exitPass, nil
}

// reread lets the explorer's viewer read img's layers again, when its
// source allows it.
func reread(img *image.Image) func() tui.LayerOpener {
	return func() tui.LayerOpener {
		if img == nil || !img.CanReread() {
			return nil
		}
		return img
	}
}

func isStdin(arg string) bool { return arg == "-" || strings.HasPrefix(arg, "-:") }

// diffOutputs checks --format and gathers --output and --json for diff,
// which writes text and JSON.
func (o *options) diffOutputs() ([]output, error) {
	outs, err := o.outputs()
	if err != nil {
		return nil, err
	}
	check := func(what, format string) error {
		if !slices.Contains(diffFormats, format) {
			return usageError{fmt.Sprintf("diff: %s %s: diff writes text or json", what, format)}
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

func diffWriter(d *diff.Diff, format string, width int) func(io.Writer) error {
	if format == "json" {
		return d.WriteJSON
	}
	return func(w io.Writer) error { return d.WriteText(w, width) }
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
// it had, which then fail nothing in any format.
func applyBaseline(rep, base *report.Report, path string, set *settings) {
	d := diff.Baseline(base, rep)
	d.Check(set.limits, set.failOn)
	diff.MarkBaseline(rep.Findings, base.Findings)
	rep.CI.Rules = append(rep.CI.Rules, d.CI.Rules...)
	rep.CI.Pass = rep.CI.Pass && d.CI.Pass
	rep.CI.Notes = append(rep.CI.Notes, fmt.Sprintf("compared with the baseline %s: %s shipped; fail-on judges only the %d findings the baseline does not have (%d fixed)",
		path, diff.SignedSize(d.Summary.ContentBytesDelta), len(d.Findings.New), len(d.Findings.Fixed)))
}
