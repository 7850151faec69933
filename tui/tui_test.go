package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
)

// sampleReport analyses the bundled sample image, as main does: through
// the one analysis step.
func sampleReport(t testing.TB) *report.Report {
	t.Helper()
	return analyse(t, it.Sample(), analysis.Options{})
}

// analyse runs the analysis step on img, saved as docker save does and
// read from standard input.
func analyse(t testing.TB, img it.Image, opt analysis.Options) *report.Report {
	t.Helper()
	opt.Image.Stdin = bytes.NewReader(it.Tar(it.DockerArchive(img)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, _, err := analysis.Run(ctx, "-", opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// noRules is the analysis step with no limits and an empty fail-on set.
func noRules() analysis.Options {
	return analysis.Options{Limits: &config.Limits{}, FailOn: &report.FailOn{}}
}

// layerOpener serves layer tars from memory.
type layerOpener [][]byte

func (l layerOpener) OpenLayer(_ context.Context, i int) (io.ReadCloser, error) {
	if i < 0 || i >= len(l) {
		return nil, fmt.Errorf("no layer %d", i)
	}
	return io.NopCloser(bytes.NewReader(l[i])), nil
}

// sampleLayers opens the sample's layers again, as an archive can.
func sampleLayers() LayerOpener { return layerOpener(it.Sample().Layers) }

func loaded(rep *report.Report) Loader {
	return func(context.Context, *image.Progress) (*report.Report, error) { return rep, nil }
}

// press turns a key name as tea prints it into a key press.
func press(k string) tea.Msg {
	switch k {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+a":
		return tea.KeyPressMsg{Code: 'a', Mod: tea.ModCtrl}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+l":
		return tea.KeyPressMsg{Code: 'l', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// TestScreens drives the explorer with Bubble Tea's test tooling and pins
// each screen in a golden file (go test ./tui -update rewrites them).
func TestScreens(t *testing.T) {
	rep := sampleReport(t)
	cases := []struct {
		name string
		keys []string
	}{
		{"start", nil},
		{"layer-changes", []string{"k", "k", "k", "v"}},
		{"removed-in-layer", []string{"k", "v"}},
		{"files-pane", []string{"tab", "down", "down", "down"}},
		{"collapsed", []string{"tab", "space", "down", "c"}},
		{"sorted-by-size-with-attributes", []string{"tab", "s", "b"}},
		{"hide-unchanged", []string{"U"}},
		{"dive-ctrl-a-hides-added", []string{"ctrl+a"}},
		{"filter", []string{"/", "g", "o", ".", "s", "enter"}},
		{"findings", []string{"f", "down"}},
		{"jump-to-finding", []string{"f", "down", "down", "down", "enter"}},
		{"next-finding", []string{"n", "n"}},
		{"help", []string{"?"}},
		{"help-scrolled", []string{"?", "pgdown"}},
		{"collapsed-sorted-by-size", []string{"tab", "c", "s"}},
		{"findings-last", []string{"f", "G"}},
		{"finding-without-path", []string{"n", "n", "n"}},
		{"wasted-files", []string{"w"}},
		{"wasted-files-by-path-jump", []string{"w", "s", "enter"}},
		{"viewer-text", []string{"tab", "j", "j", "j", "j", "j", "j", "j", "j", "o"}},
		{"viewer-binary", []string{"tab", "j", "j", "j", "enter"}},
		{"filter-regexp", []string{"/", "\\", ".", "(", "m", "o", "d", "|", "s", "u", "m", ")", "$", "enter"}},
		{"filter-invalid", []string{"/", "g", "o", "(", "["}},
		{"hide-removed-and-unchanged", []string{"k", "R", "U"}},
		{"layers-pane-wider", []string{">", ">", ">"}},
		{"layers-pane-narrower", []string{"<", "<", "<", "<"}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], tc.name), func(t *testing.T) {
				tm := teatest.NewTestModel(t, New(context.Background(), loaded(rep), WithLayers(sampleLayers)),
					teatest.WithInitialTermSize(size[0], size[1]),
					teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Layers")) },
					teatest.WithDuration(5*time.Second))
				for _, k := range tc.keys {
					tm.Send(press(k))
				}
				if strings.HasPrefix(tc.name, "filter") || strings.HasPrefix(tc.name, "viewer") {
					time.Sleep(300 * time.Millisecond) // the filter is debounced, files are read in a command
				}
				tm.Send(press("ctrl+c")) // quits whatever has the keyboard
				final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
				if final.state == stateFilter && tc.name == "filter" {
					t.Fatal("still filtering")
				}
				content := ansi.Strip(final.View().Content)
				if n := strings.Count(content, "\n") + 1; n > size[1] {
					t.Errorf("%d lines on a terminal %d high", n, size[1])
				}
				golden.RequireEqual(t, []byte(content))
			})
		}
	}
}

func TestLoadErrorEndsTheProgram(t *testing.T) {
	fail := func(context.Context, *image.Progress) (*report.Report, error) {
		return nil, fmt.Errorf("image %q not found", "nope")
	}
	tm := teatest.NewTestModel(t, New(context.Background(), fail), teatest.WithInitialTermSize(80, 24))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if final.Err() == nil || !strings.Contains(final.Err().Error(), "not found") {
		t.Fatalf("err = %v", final.Err())
	}
}

func TestQuitWhileLoadingCancels(t *testing.T) {
	started := make(chan struct{})
	slow := func(ctx context.Context, _ *image.Progress) (*report.Report, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tm := teatest.NewTestModel(t, New(context.Background(), slow), teatest.WithInitialTermSize(80, 24))
	<-started
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("q to cancel")) })
	tm.Send(press("q"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if final.Err() != ErrQuit {
		t.Fatalf("err = %v, want ErrQuit", final.Err())
	}
}

func TestHostileNamesAreEscaped(t *testing.T) {
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("evil\x1b]0;pwned\x07\x1b[2J", "x"), it.Sym("link", "\x1b[31mred"))}}
	rep := analyse(t, img, noRules())
	m := New(context.Background(), loaded(rep))
	m.setReport(rep)
	m.focus = filesPane
	view := m.View().Content
	if strings.Contains(view, "\x07") || strings.Contains(view, "\x1b]0") || strings.Contains(view, "\x1b[2J") || strings.Contains(view, "\x1b[31mred") {
		t.Errorf("control sequences from file names reached the screen: %q", view)
	}
	if !strings.Contains(ansi.Strip(view), `evil\x1b]0;pwned\x07\x1b[2J`) {
		t.Errorf("escaped name missing:\n%s", ansi.Strip(view))
	}
}

// screenWriter is a program's output that says when it first shows want.
type screenWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []byte
	seen chan struct{}
}

func (w *screenWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.seen != nil && bytes.Contains(w.buf.Bytes(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

// TestRun: how the explorer ends decides main's exit code. Quitting
// before the report is ready is ErrQuit, which is also context.Canceled
// (an interrupt's exit 130); a failed load is its own error (exit 2).
func TestRun(t *testing.T) {
	rep := sampleReport(t)
	waitForCancel := func(ctx context.Context, _ *image.Progress) (*report.Report, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("reading layer 3: %w", ctx.Err())
	}
	fail := func(context.Context, *image.Progress) (*report.Report, error) {
		return nil, fmt.Errorf("image %q not found", "nope")
	}
	tests := []struct {
		name     string
		load     Loader
		waitFor  string // on screen before the keys are typed
		keys     string
		wantRep  bool
		wantQuit bool
		wantErr  string
	}{
		{name: "q while loading", load: waitForCancel, waitFor: "q to cancel", keys: "q", wantQuit: true},
		{name: "ctrl+c while loading", load: waitForCancel, waitFor: "q to cancel", keys: "\x03", wantQuit: true},
		{name: "a load that fails", load: fail, wantErr: `image "nope" not found`},
		{name: "q once the report shows", load: loaded(rep), waitFor: "Layers", keys: "q", wantRep: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, typing := io.Pipe()
			defer typing.Close()
			seen := make(chan struct{})
			out := &screenWriter{want: []byte(tc.waitFor), seen: seen}
			if tc.waitFor != "" {
				go func() {
					select {
					case <-seen:
						io.WriteString(typing, tc.keys)
					case <-time.After(10 * time.Second):
					}
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got, err := run(ctx, tc.load, nil, tea.WithInput(in), tea.WithOutput(out), tea.WithWindowSize(80, 24))
			switch {
			case ctx.Err() != nil:
				t.Fatalf("the explorer did not end: %v", err)
			case tc.wantRep && (err != nil || got != rep):
				t.Errorf("run = %v, %v; want the report", got != nil, err)
			case tc.wantQuit && (!errors.Is(err, ErrQuit) || !errors.Is(err, context.Canceled) || got != nil):
				t.Errorf("run = %v, %v; want ErrQuit, which is context.Canceled", got != nil, err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr || errors.Is(err, context.Canceled)):
				t.Errorf("run error = %v, want %s", err, tc.wantErr)
			}
		})
	}
}
