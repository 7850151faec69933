package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/layerscope/layerscope/dockerfile"
	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

// output is one report to write: a format and a file ("" for standard
// output).
type output struct {
	format string
	path   string
}

// outputs checks --format and gathers --output and --json.
func (o *options) outputs() ([]output, error) {
	if !slices.Contains(report.Formats, o.format) {
		return nil, usageError{fmt.Sprintf("unknown --format %q: want %s", o.format, strings.Join(report.Formats, ", "))}
	}
	var outs []output
	for _, spec := range o.outputSpecs {
		format, path, ok := strings.Cut(spec, ":")
		switch {
		case !ok || path == "":
			return nil, usageError{fmt.Sprintf("--output %q: want FORMAT:FILE, e.g. sarif:layerscope.sarif", spec)}
		case !slices.Contains(report.Formats, format):
			return nil, usageError{fmt.Sprintf("--output %q: unknown format %q: want %s", spec, format, strings.Join(report.Formats, ", "))}
		}
		outs = append(outs, output{format: format, path: path})
	}
	if o.jsonFile != "" {
		outs = append(outs, output{format: "json", path: o.jsonFile})
	}
	return outs, nil
}

// tool is layerscope as the SARIF driver names it, with every rule of
// the table.
func tool() report.Tool {
	t := report.Tool{Name: "layerscope", Version: versionString(), URI: "https://github.com/layerscope/layerscope"}
	for _, r := range rules.Table {
		t.Rules = append(t.Rules, report.RuleInfo{ID: r.ID, Category: r.Category, Severity: r.Severity, What: r.What, Advice: r.Advice})
	}
	return t
}

// writer returns the function that writes rep in format.
func writer(rep *report.Report, format string, width int) func(io.Writer) error {
	switch format {
	case "json":
		return rep.WriteJSON
	case "sarif":
		return func(w io.Writer) error { return rep.WriteSARIF(w, tool()) }
	case "junit":
		return rep.WriteJUnit
	case "markdown":
		return rep.WriteMarkdown
	case "codequality":
		return rep.WriteCodeQuality
	}
	return func(w io.Writer) error { return rep.WriteText(w, width) }
}

// formatter writes a command's result in a format, the text at a width.
type formatter func(format string, width int) func(io.Writer) error

// imageFormatter is the image report's formatter.
func imageFormatter(rep *report.Report) formatter {
	return func(format string, width int) func(io.Writer) error { return writer(rep, format, width) }
}

// writeOutputs writes every --output file.
func writeOutputs(write formatter, outs []output) error {
	for _, out := range outs {
		if err := writeReport(out.path, write(out.format, 100)); err != nil {
			return err
		}
	}
	return nil
}

// result is what a command has once its analysis is done: the image
// command's report, or diff's comparison.
type result struct {
	write   formatter
	judged  *report.Report        // the verdict, and the findings and rules the annotations name
	summary func(io.Writer) error // the Markdown the step summary gets
}

// emit is how every command ends: the --output files, the report on
// stdout in --format; in CI mode what a CI platform reads besides (GitHub's
// ::error annotations on stderr, which the runner reads as it reads
// stdout, and the step summary) and exit 1 when a rule failed.
func emit(r result, outs []output, format string, ci bool, stdout, stderr io.Writer) (int, error) {
	if err := writeOutputs(r.write, outs); err != nil {
		return exitError, err
	}
	if err := r.write(format, termWidth(stdout))(stdout); err != nil {
		return exitError, fmt.Errorf("writing the report: %w", err)
	}
	if !ci {
		return exitPass, nil
	}
	if truthy(os.Getenv("GITHUB_ACTIONS")) {
		writeAnnotations(r.judged, stderr)
	}
	if p := os.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := appendTo(p, r.summary); err != nil {
			return exitError, err
		}
	}
	if !r.judged.CI.Pass {
		return exitFail, nil
	}
	return exitPass, nil
}

// appendTo appends what write writes to the file at p, made if need be.
func appendTo(p string, write func(io.Writer) error) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return writeError(p, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return writeError(p, err)
}

// writeAnnotations prints one ::error workflow command per finding that
// fails CI (on its Dockerfile line when known) and per failed CI rule.
func writeAnnotations(rep *report.Report, w io.Writer) {
	for _, f := range rep.Findings {
		if !rep.FailsCI(f) {
			continue
		}
		props := "title=" + annotationProperty("layerscope "+f.Rule)
		if f.File != "" && f.Line > 0 {
			props = "file=" + annotationProperty(f.File) + ",line=" + fmt.Sprint(f.Line) + "," + props
		}
		fmt.Fprintf(w, "::error %s::%s\n", props, annotationData(fmt.Sprintf("layer %d: %s. Fix: %s", f.Layer, f.Message, f.Advice)))
	}
	for _, r := range rep.CI.Rules {
		if r.Pass || r.Name == report.RuleFailOn {
			continue
		}
		fmt.Fprintf(w, "::error title=%s::%s\n", annotationProperty("layerscope "+r.Name),
			annotationData(fmt.Sprintf("%s: value %v, limit %v (%s)", r.Name, r.Value, r.Limit, r.From)))
	}
}

// annotationData escapes a workflow command's message, as the runner
// unescapes it; control characters are shown, never sent.
func annotationData(s string) string {
	s = report.Escape(s)
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// annotationProperty escapes a workflow command's property value.
func annotationProperty(s string) string {
	return strings.NewReplacer(":", "%3A", ",", "%2C").Replace(annotationData(s))
}

// defaultDockerfile is what --dockerfile means when not given.
const defaultDockerfile = "Dockerfile"

// locate maps the report's findings to Dockerfile lines. A Dockerfile the
// user named must exist and parse; when it does not match the image, a
// warning says so and no line is claimed. ./Dockerfile is used only when
// it exists and matches.
func locate(o *options, img *image.Image, rep *report.Report, stderr io.Writer) error {
	path, explicit := o.dockerfile, o.dockerfile != ""
	if path == "none" {
		return nil
	}
	if !explicit {
		path = defaultDockerfile
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			return nil
		}
	}
	df, err := readDockerfile(path)
	if err != nil {
		if explicit {
			return fmt.Errorf("--dockerfile %s: %w", path, err)
		}
		return nil
	}
	steps := make([]dockerfile.Step, len(img.Config.History))
	for i, h := range img.Config.History {
		steps[i] = dockerfile.Step{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer}
	}
	lines, err := df.MatchLayers(steps, len(rep.Layers))
	if err != nil {
		if explicit {
			fmt.Fprintf(stderr, "layerscope: warning: %s does not match the image (%s): findings name no line\n", report.Escape(path), report.Escape(err.Error()))
		}
		return nil
	}
	rep.Locate(filepath.ToSlash(filepath.Clean(path)), lines)
	return nil
}

func readDockerfile(path string) (*dockerfile.File, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return dockerfile.Parse(f)
}
