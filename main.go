// Command layerscope shows why a container image is big and what a
// multi-stage build should have left behind.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
	"github.com/layerscope/layerscope/tui"
)

// version is set at build time with -ldflags "-X main.version=…"; a
// `go install` build reports its module version.
var version = ""

func main() {
	if os.Getenv("GOGC") == "" {
		// The live heap grows all through the load (the tree, as each
		// layer merges); the collector's default headroom, as much again
		// as is live, put the peak at 2.3× it on a million files. Half of
		// it kept the peak at 1.9× for about 5 % more CPU (README, "Speed
		// and memory").
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "layerscope:", report.Escape(oneLine(err.Error())))
	}
	os.Exit(code) // 1 means "analysed, and a rule or threshold failed"; 2, "could not analyse"
}

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1
	exitError = 2
	// exitInterrupted: the user stopped the run (Ctrl+C, or q while the
	// image loads), as a shell reports a SIGINT.
	exitInterrupted = 130
)

// usageError is a bad command line: exit 2, with a hint to --help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + " (see layerscope --help)" }

type options struct {
	ci              bool
	ciSet           bool
	format          string
	jsonFile        string
	outputSpecs     []string
	dockerfile      string
	source          string
	platform        string
	insecure        []string
	ctrAddress      string
	ctrNamespace    string
	maxWaste        string
	maxWastePercent string
	minEfficiency   string
	strictWaste     string
	maxGrowth       string
	maxGrowthPct    string
	baseline        string
	ciConfig        string
	failOn          string
	failOnSet       bool // --fail-on given, maybe empty
	base            string
	listRules       bool
	version         bool
	help            bool
}

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("layerscope", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.ci, "ci", false, "")
	fs.StringVar(&o.format, "format", "text", "")
	fs.StringVar(&o.jsonFile, "json", "", "")
	fs.Func("output", "", func(v string) error { o.outputSpecs = append(o.outputSpecs, v); return nil })
	fs.StringVar(&o.dockerfile, "dockerfile", "", "")
	fs.StringVar(&o.source, "source", "", "")
	fs.StringVar(&o.platform, "platform", "", "")
	fs.Func("insecure-registry", "", func(v string) error { o.insecure = append(o.insecure, v); return nil })
	fs.StringVar(&o.ctrAddress, "containerd-address", "", "")
	fs.StringVar(&o.ctrNamespace, "namespace", "", "")
	fs.StringVar(&o.maxWaste, "max-waste", "", "")
	fs.StringVar(&o.maxWastePercent, "max-waste-percent", "", "")
	fs.StringVar(&o.minEfficiency, "min-efficiency", "", "")
	fs.StringVar(&o.maxGrowth, "max-growth", "", "")
	fs.StringVar(&o.maxGrowthPct, "max-growth-percent", "", "")
	fs.StringVar(&o.baseline, "baseline", "", "")
	fs.BoolFunc("strict-waste", "", func(v string) error { o.strictWaste = v; return nil })
	fs.StringVar(&o.ciConfig, "ci-config", "", "")
	fs.StringVar(&o.failOn, "fail-on", "", "")
	fs.StringVar(&o.base, "base", "", "")
	fs.BoolVar(&o.listRules, "list-rules", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.BoolVar(&o.help, "h", false, "")
	return fs
}

// parseArgs reads flags before and after the image argument. "-" and
// "-:REF" (an archive on standard input) are arguments, not flags.
func parseArgs(args []string) (*options, []string, error) {
	o := &options{}
	fs := newFlagSet(o)
	var pos []string
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			pos = append(pos, args[1:]...)
			args = nil
			continue
		case a == "-" || strings.HasPrefix(a, "-:") || !strings.HasPrefix(a, "-"):
			pos = append(pos, a)
			args = args[1:]
			continue
		}
		// One flag, and its value when it takes one and has no "=".
		n := 1
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && len(args) > 1 {
			n = 2
		}
		if err := fs.Parse(args[:n]); err != nil {
			// Name the flag as the user typed it (--bogus, not -bogus).
			flagName, _, _ := strings.Cut(a, "=")
			msg := err.Error()
			switch {
			case strings.HasPrefix(msg, "flag provided but not defined"):
				msg = "unknown flag " + flagName
			case strings.HasPrefix(msg, "flag needs an argument"):
				msg = flagName + " needs a value"
			case strings.HasPrefix(msg, "invalid boolean value"):
				msg = fmt.Sprintf("%s: want true or false", flagName)
			}
			return nil, nil, usageError{msg}
		}
		args = args[n:]
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "ci":
			o.ciSet = true
		case "fail-on":
			o.failOnSet = true
		}
	})
	return o, pos, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(args) > 0 && args[0] == "completion" {
		return completion(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "diff" {
		return runDiff(ctx, args[1:], stdin, stdout, stderr)
	}
	o, pos, err := parseArgs(args)
	if err != nil {
		return exitError, err
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, usage())
		return exitPass, nil
	case o.version:
		fmt.Fprintln(stdout, "layerscope", versionString())
		return exitPass, nil
	case o.listRules:
		return exitPass, rules.WriteTable(stdout)
	case (o.maxGrowth != "" || o.maxGrowthPct != "") && o.baseline == "":
		return exitError, usageError{"--max-growth and --max-growth-percent judge a comparison: layerscope diff OLD NEW, or --baseline FILE"}
	case len(pos) == 0:
		return exitError, usageError{"no image given"}
	case len(pos) > 1 && pos[0] == "diff":
		return exitError, usageError{"diff comes first: layerscope diff [flags] OLD NEW"}
	case len(pos) > 1:
		return exitError, usageError{fmt.Sprintf("one image at a time (got %s)", strings.Join(pos, " "))}
	}
	outs, err := o.outputs()
	if err != nil {
		return exitError, err
	}
	ci, set, opt, err := o.prepare(pos, "docker save IMAGE | layerscope -", stdin, stderr)
	if err != nil {
		return exitError, err
	}

	var base *report.Report // --baseline: an earlier run's JSON report
	if o.baseline != "" {
		if base, err = readBaseline(o.baseline); err != nil {
			return exitError, err
		}
	}
	var loaded *image.Image // for the explorer's viewer, once analyse is done
	analyse := func(ctx context.Context, prog *image.Progress) (*report.Report, error) {
		opt.Progress = prog
		aopt := set.analysis(opt)
		if base != nil {
			aopt.FailOn = &report.FailOn{} // judged below, on new findings only
		}
		rep, img, err := analysis.Run(ctx, pos[0], aopt)
		if err != nil {
			return nil, err
		}
		loaded = img
		if base != nil {
			applyBaseline(rep, base, o.baseline, set)
		}
		rep.CI.Notes = append(rep.CI.Notes, set.cfg.Warnings...)
		if err := locate(o, img, rep, stderr); err != nil {
			return nil, err
		}
		return rep, nil
	}

	var rep *report.Report
	if !ci && o.format == "text" && isTerminal(stdout) && pos[0] != "-" && !strings.HasPrefix(pos[0], "-:") {
		// The interactive explorer. Standard input stays the keyboard, so
		// an archive on "-" gets the text report instead.
		// The viewer (o) reads a file's content again from an archive
		// file or a layout; the daemon and streams send an image once.
		layers := tui.WithLayers(func() tui.LayerOpener { return rereadable(loaded) })
		if rep, err = tui.Run(ctx, analyse, layers); err != nil {
			return failure(ctx, err)
		}
		if err := writeOutputs(imageFormatter(rep), outs); err != nil {
			return exitError, err
		}
		return exitPass, nil
	}
	var prog *image.Progress
	if isTerminal(stderr) {
		prog = image.NewProgress()
		done := showProgress(stderr, prog)
		rep, err = analyse(ctx, prog)
		done()
	} else {
		rep, err = analyse(ctx, nil)
	}
	if err != nil {
		return failure(ctx, err)
	}
	return emit(result{write: imageFormatter(rep), judged: rep, summary: rep.WriteMarkdown}, outs, o.format, ci, stdout, stderr)
}

// prepare is what every run does before it reads an image: whether CI
// mode is on, the settings (warning about what a dive file held that is
// not read), and the options for the sources, --platform included. An argument "-" with a
// terminal on standard input is refused: pipe says how to feed one.
func (o *options) prepare(args []string, pipe string, stdin io.Reader, stderr io.Writer) (bool, *settings, image.Options, error) {
	ci := o.ci
	if !o.ciSet {
		ci = truthy(os.Getenv("CI"))
	}
	if isStdin(o.base) && slices.ContainsFunc(args, isStdin) {
		return false, nil, image.Options{}, usageError{"--base - and an image on - cannot both read standard input"}
	}
	for _, a := range append(slices.Clone(args), o.base) {
		if isStdin(a) && o.source != image.SourceDocker && isTerminal(stdin) {
			return false, nil, image.Options{}, usageError{"standard input is a terminal: pipe an archive in (" + pipe + ")"}
		}
	}
	set, err := resolveSettings(o)
	if err != nil {
		return false, nil, image.Options{}, err
	}
	for _, w := range set.cfg.Warnings {
		fmt.Fprintln(stderr, "layerscope: warning:", report.Escape(w))
	}
	opt := image.Options{Source: o.source, Stdin: stdin, Sniff: rules.Sniff, InsecureRegistries: o.insecure,
		ContainerdAddress: o.ctrAddress, ContainerdNamespace: o.ctrNamespace,
		NoRegistryFallback: ci} // in CI, a name the daemon lacks is read from a registry it names only
	if o.platform != "" {
		if opt.Platform, err = image.ParsePlatform(o.platform); err != nil {
			return false, nil, image.Options{}, usageError{err.Error()}
		}
	}
	return ci, set, opt, nil
}

// settings are what the run checks, from defaults, the config file and
// flags, in that order of precedence (the last wins).
type settings struct {
	cfg    *config.Config
	limits config.Limits
	failOn report.FailOn
	rules  *rules.Set
	base   string // --base
}

// analysis is what analysis.Run needs to read and judge an image.
func (s *settings) analysis(img image.Options) analysis.Options {
	return analysis.Options{Image: img, Rules: s.rules, Ignore: s.cfg.Ignore, Limits: &s.limits, Dive: s.cfg.Dive, FailOn: &s.failOn, Base: s.base}
}

func resolveSettings(o *options) (*settings, error) {
	path, err := config.Find(o.ciConfig)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	limits, err := resolveLimits(o, cfg)
	if err != nil {
		return nil, err
	}
	s := &settings{cfg: cfg, limits: limits, failOn: report.FailOn{Set: report.DefaultFailOn, From: "default"}, base: o.base}
	switch {
	case o.failOnSet: // --fail-on= is an error, not the default
		s.failOn, err = checkFailOn(config.SplitList(o.failOn), "flag")
	case cfg.FailOn != nil:
		s.failOn, err = checkFailOn(cfg.FailOn, cfg.File)
	}
	if err != nil {
		return nil, err
	}
	var add []rules.Rule
	for _, r := range cfg.Add {
		add = append(add, rules.Rule{ID: r.ID, Category: rules.Category(r.Category), Severity: rules.Severity(r.Severity), Paths: r.Paths, Except: r.Except, What: r.What, Advice: r.Advice})
	}
	if s.rules, err = rules.NewSet(add, cfg.Disable); err != nil {
		if cfg.File != "" {
			err = fmt.Errorf("config file %s: %w", cfg.File, err)
		}
		return nil, err
	}
	return s, nil
}

// checkFailOn reads a fail-on list (rules.ParseFailOn): categories,
// severities, base beside them, or none alone.
func checkFailOn(items []string, from string) (report.FailOn, error) {
	f, err := rules.ParseFailOn(items, from)
	switch {
	case err != nil && from == "flag":
		return f, usageError{"--" + err.Error()}
	case err != nil:
		return f, fmt.Errorf("config file %s: %w", from, err)
	}
	return f, nil
}

// resolveLimits applies defaults, then the config file, then flags.
func resolveLimits(o *options, cfg *config.Config) (config.Limits, error) {
	limits := report.DefaultLimits()
	for _, p := range []struct{ dst, src *config.Limit }{
		{&limits.MaxWaste, &cfg.Limits.MaxWaste},
		{&limits.MaxWastePercent, &cfg.Limits.MaxWastePercent},
		{&limits.MinEfficiency, &cfg.Limits.MinEfficiency},
		{&limits.StrictWaste, &cfg.Limits.StrictWaste},
		{&limits.WasteFloor, &cfg.Limits.WasteFloor},
		{&limits.MaxGrowth, &cfg.Limits.MaxGrowth},
		{&limits.MaxGrowthPercent, &cfg.Limits.MaxGrowthPercent},
	} {
		if p.src.From != "" {
			*p.dst = *p.src
		}
	}
	for _, f := range []struct {
		flag, value string
		dst         *config.Limit
		parse       func(string) (float64, error)
	}{
		{"max-waste", o.maxWaste, &limits.MaxWaste, config.ParseSize},
		{"max-waste-percent", o.maxWastePercent, &limits.MaxWastePercent, config.ParsePercent},
		{"min-efficiency", o.minEfficiency, &limits.MinEfficiency, config.ParseFraction},
		{"strict-waste", o.strictWaste, &limits.StrictWaste, config.ParseBool},
		{"max-growth", o.maxGrowth, &limits.MaxGrowth, config.ParseSize},
		{"max-growth-percent", o.maxGrowthPct, &limits.MaxGrowthPercent, config.ParsePercent},
	} {
		if f.value == "" {
			continue
		}
		if config.IsOff(f.value) {
			*f.dst = config.Limit{From: "flag", Off: true}
			continue
		}
		v, err := f.parse(f.value)
		if err != nil {
			return config.Limits{}, usageError{fmt.Sprintf("--%s: %v", f.flag, err)}
		}
		*f.dst = config.Limit{Value: v, From: "flag"}
	}
	return limits, nil
}

// showProgress draws one status line on a terminal until done is called.
func showProgress(w io.Writer, p *image.Progress) (done func()) {
	return statusLine(w, func() string {
		s := p.Snapshot()
		line := fmt.Sprintf("%s · %s read", s.Phase, report.Size(s.Read))
		if s.Total > 0 {
			line += " of ~" + report.Size(s.Total)
		}
		return line + fmt.Sprintf(" · %d layers parsed · %.1fs", s.Layers, s.Elapsed.Seconds())
	})
}

// statusLine redraws line() on one terminal line ten times a second until
// done is called, which clears it.
func statusLine(w io.Writer, line func() string) (done func()) {
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\x1b[K")
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\x1b[K%s", line())
			}
		}
	}()
	return func() { close(stop); <-finished }
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil {
			return width
		}
	}
	return 120
}

// errInterrupted is what a run the user stopped reports.
var errInterrupted = errors.New("interrupted")

// failure maps an error from the analysis to its exit code: a run the
// user stopped (Ctrl+C, SIGTERM, q while loading) is 130 and says so in a
// word, whatever the reader was doing when it stopped; the rest is 2.
func failure(ctx context.Context, err error) (int, error) {
	switch {
	case ctx.Err() != nil:
		return exitInterrupted, errInterrupted
	case errors.Is(err, tui.ErrQuit):
		return exitInterrupted, nil // the user's choice: nothing to explain
	}
	return exitError, err
}

// writeReport writes a report to the file the user named. A regular file
// (or a new one) is replaced whole, so a reader never sees half a report;
// it gets the mode a new file gets (0644 less the umask). Anything else
// that exists (/dev/null, a FIFO, /dev/stdout, a symlink to one) is
// written through: replacing it would turn a device into a file.
func writeReport(path string, write func(io.Writer) error) error {
	wrap := func(err error) error { return writeError(path, err) }
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return fmt.Errorf("writing %s: it is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return wrap(err)
		}
		if err := write(f); err != nil {
			f.Close()
			return wrap(err)
		}
		return wrap(f.Close())
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("writing %s: the folder %s does not exist", path, dir)
	} else if !st.IsDir() {
		return fmt.Errorf("writing %s: %s is not a folder", path, dir)
	}
	tmp, err := createTemp(dir)
	if err != nil {
		return wrap(err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return wrap(err)
	}
	if err := tmp.Close(); err != nil {
		return wrap(err)
	}
	return wrap(os.Rename(tmp.Name(), path))
}

// writeError names the file the user asked for, not the temporary file
// the error came from.
func writeError(path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("writing %s: %w", path, err)
}

// createTemp makes a new file beside the target with mode 0644: the
// kernel takes the umask off, as for any new file (os.CreateTemp would
// give 0600).
func createTemp(dir string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf(".layerscope-%d.json.tmp", rand.Uint64()))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, errors.New("cannot make a temporary file")
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
