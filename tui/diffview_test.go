package tui

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
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
	"github.com/layerscope/layerscope/diff"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// The test images the daemon holds (bash .ci/daemon.sh images builds
// them), each analysed once per run.
var daemonImages = struct {
	sync.Mutex
	reps map[string]*report.Report
	err  error
}{reps: map[string]*report.Report{}}

// daemonReport analyses a test image from the Docker daemon through the
// analysis step; without a daemon, or the image, the test is skipped
// (failed with CI=true).
func daemonReport(t *testing.T, ref string) *report.Report {
	t.Helper()
	daemonImages.Lock()
	defer daemonImages.Unlock()
	if r := daemonImages.reps[ref]; r != nil {
		return r
	}
	skip := func(err error) {
		msg := fmt.Sprintf("%s from the Docker daemon: %v (bash .ci/daemon.sh images builds the test images)", ref, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if daemonImages.err != nil {
		skip(daemonImages.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, _, err := analysis.Run(ctx, ref, analysis.Options{})
	if err != nil {
		daemonImages.err = err
		skip(err)
	}
	daemonImages.reps[ref] = rep
	return rep
}

// diffModel is the explorer of OLD → NEW, ready at w×h, with no debounce.
func diffModel(t *testing.T, old, new *report.Report, w, h int) Model {
	t.Helper()
	d, err := diff.Compare(context.Background(), old, new)
	if err != nil {
		t.Fatal(err)
	}
	m := NewDiff(context.Background(), d, old, new)
	m.files.sizeDelay = 0
	dd, err := newDiffData(context.Background(), d, old, new) // what Init's command does
	if err != nil {
		t.Fatal(err)
	}
	return drive(t, m, tea.WindowSizeMsg{Width: w, Height: h}, loadedMsg{rep: new, diff: dd})
}

// rowOf is the files pane's row that names path (its last segment at the
// depth the path has), from the screen.
func rowOf(t *testing.T, m Model, path string) string {
	t.Helper()
	n, ok := m.files.tv.t.Lookup(path)
	if !ok {
		t.Fatalf("/%s is not in the view's tree", path)
	}
	p := m.files.tv.find(n)
	if p == nil {
		t.Fatalf("/%s is not a row", path)
	}
	return ansi.Strip(m.files.fileRow(p, 80))
}

// TestDiffExplorer: layerscope diff's explorer on real images. A
// single-stage Go build against its multi-stage rewrite shows the
// toolchain, the sources and the caches removed (-), /server added (+),
// sizes as deltas, and the fixed findings; an image against itself marks
// nothing and shares every layer; v shows NEW alone, and back.
func TestDiffExplorer(t *testing.T) {
	old := daemonReport(t, "layerscope-test/gobuild:legacy")
	new := daemonReport(t, "layerscope-test/gomulti:legacy")

	t.Run("single stage to multi-stage", func(t *testing.T) {
		m := diffModel(t, old, new, 120, 40)
		for _, tc := range []struct {
			path, mark, size string
		}{
			{"usr/local/go", "-", "−520 kB"},
			{"usr/local/go/bin/go", "-", "−200 kB"},
			{"src", "-", "−"},
			{"root/.cache/go-build", "-", "−120 kB"},
			{"server", "+", "+150 kB"},
			{"bin/busybox", "-", "−2.0 MB"},
		} {
			m.files.reveal(mustLookup(m.files.tv.t, tc.path))
			row := rowOf(t, m, tc.path)
			if !strings.HasPrefix(row, tc.mark+" ") || !strings.Contains(row, tc.size) {
				t.Errorf("/%s: row %q, want %q and %q", tc.path, row, tc.mark, tc.size)
			}
		}
		m.files.reveal(mustLookup(m.files.tv.t, "server"))
		if s := screen(m); !strings.Contains(s, "+ /server added by NEW's layer 0") {
			t.Errorf("the status does not say what added /server:\n%s", s)
		}
		s := screen(m)
		for _, want := range []string{"layerscope diff layerscope-test/gobuild:legacy → layerscope-test/gomulti:legacy", "−2.7 MB shipped", "NEW against OLD", "Layers of NEW · = 0 shared", "findings: 0 new, 6 fixed"} {
			if !strings.Contains(s, want) {
				t.Errorf("%q is not on screen:\n%s", want, s)
			}
		}
		f := screen(drive(t, m, press("f")))
		for _, want := range []string{"0 new in NEW, then 6 fixed", "fixed · warning · toolchain", "OLD's layer: 1"} {
			if !strings.Contains(f, want) {
				t.Errorf("findings: %q is not on screen:\n%s", want, f)
			}
		}
	})

	t.Run("an image against itself", func(t *testing.T) {
		m := diffModel(t, old, old, 120, 40)
		for p := m.files.tv.first(); p != nil; p = m.files.tv.next(p) {
			if _, ch, _ := m.files.tv.state(m.files.tv.node(p)); ch != tree.Unchanged {
				t.Errorf("/%s is marked %s", m.files.tv.t.Path(m.files.tv.node(p)), ch)
			}
		}
		s := screen(m)
		if want := fmt.Sprintf("= %d shared", len(old.Layers)); !strings.Contains(s, want) {
			t.Errorf("%q is not on screen:\n%s", want, s)
		}
		lines := strings.Split(s, "\n")
		for i := range old.Layers {
			if row := lines[2+i]; !strings.HasPrefix(row[1:], "=") {
				t.Errorf("layer %d is not marked shared: %q", i, row)
			}
		}
		for _, l := range lines[1 : len(lines)-2] {
			if _, files, _ := strings.Cut(l, "│"); strings.ContainsAny(files, "+~−") || strings.HasPrefix(files, "-") {
				t.Errorf("an image against itself shows a change: %q", files)
			}
		}
	})

	t.Run("v switches to NEW alone and back", func(t *testing.T) {
		m := diffModel(t, old, new, 80, 24)
		alone := drive(t, m, press("v"))
		s := screen(alone)
		if alone.diff.shown() || !strings.Contains(s, "Files after layer 0") || !strings.Contains(s, "layerscope diff: NEW layerscope-test/gomulti:legacy") ||
			!strings.Contains(s, "v shows the difference again") || alone.files.tv.t != new.Tree {
			t.Errorf("v did not show NEW alone:\n%s", s)
		}
		if strings.Contains(s, "usr/") {
			t.Errorf("NEW alone shows OLD's removed paths:\n%s", s)
		}
		back := drive(t, alone, press("v"))
		if !back.diff.shown() || !strings.Contains(screen(back), "NEW against OLD") || back.files.tv.t == new.Tree {
			t.Errorf("v again did not show the difference:\n%s", screen(back))
		}
	})
}

// digests hides layer and image digests, which a rebuild of the test
// images changes.
var digests = regexp.MustCompile(`sha256:[0-9a-f]+`)

// TestDiffScreens pins layerscope diff's explorer screens on real images
// in golden files (go test ./tui -update rewrites them).
func TestDiffScreens(t *testing.T) {
	gobuild := daemonReport(t, "layerscope-test/gobuild:legacy")
	gomulti := daemonReport(t, "layerscope-test/gomulti:legacy")
	cases := []struct {
		name     string
		old, new *report.Report
		keys     []string
	}{
		{"toolchain-removed", gobuild, gomulti, nil},
		{"collapsed-sorted-by-delta", gobuild, gomulti, []string{"c", "s", "g"}},
		{"fixed-findings", gobuild, gomulti, []string{"f"}},
		{"new-alone", gobuild, gomulti, []string{"v"}},
		{"new-alone-and-back", gobuild, gomulti, []string{"v", "v"}},
		{"help", gobuild, gomulti, []string{"?"}},
		{"against-itself", gobuild, gobuild, nil},
		{"against-itself-layers", gobuild, gobuild, []string{"tab", "k"}},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], tc.name), func(t *testing.T) {
				d, err := diff.Compare(context.Background(), tc.old, tc.new)
				if err != nil {
					t.Fatal(err)
				}
				tm := teatest.NewTestModel(t, NewDiff(context.Background(), d, tc.old, tc.new),
					teatest.WithInitialTermSize(size[0], size[1]),
					teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Layers")) },
					teatest.WithDuration(10*time.Second))
				for _, k := range tc.keys {
					tm.Send(press(k))
				}
				tm.Send(press("ctrl+c"))
				final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
				content := ansi.Strip(final.View().Content)
				if n := strings.Count(content, "\n") + 1; n > size[1] {
					t.Errorf("%d lines on a terminal %d high", n, size[1])
				}
				golden.RequireEqual(t, digests.ReplaceAllFunc([]byte(content), func(d []byte) []byte {
					return []byte("sha256:" + strings.Repeat("x", len(d)-len("sha256:")))
				}))
			})
		}
	}
}

// TestDiffPaneMessages: with two files panes, a command's answer goes to
// the pane that asked, shown or not.
func TestDiffPaneMessages(t *testing.T) {
	old := sampleReport(t)
	m := diffModel(t, old, old, 80, 24)
	other := m.diff.other
	s := computeSizes(other.tv.t, other.tv.dirs, 2, true, nil)
	m = drive(t, m, sizesMsg{sizes: s, pane: other.walks})
	if m.files.tv.sizes == s || m.diff.other.sizes.get(2, true) != s {
		t.Error("NEW's sizes went to the difference's pane")
	}
	// An answer for a tree it does not show is dropped, not applied.
	m = drive(t, m, sizesMsg{sizes: s})
	if m.files.tv.sizes == s {
		t.Error("the difference's pane took another tree's sizes")
	}
}

// TestDiffOddImagesAndSizes: every key, the wheel and clicks, on odd
// differences and screens, in both views, never panic (drive draws every
// frame) and keep the screen's height.
func TestDiffOddImagesAndSizes(t *testing.T) {
	empty := &report.Report{Tree: buildTree(t)}
	one := &report.Report{Tree: buildTree(t, []string{"a:1", "d/", "d/x:5"}), Layers: []report.Layer{{CreatedBy: "COPY a /a"}}}
	sample := sampleReport(t)
	all := keys("tab", "j", "k", "pgdown", "G", "g", "space", "h", "l", "c", "e", "A", "M", "R", "U", "s", "b", "ctrl+l", "n", "N", "f", "enter", "esc", "w", "enter", "o", "esc", "?", "x", "tab", "j", "k", "G", "g")
	mouse := []tea.Msg{tea.MouseWheelMsg{X: 1, Y: 3, Button: tea.MouseWheelDown}, tea.MouseWheelMsg{X: 70, Y: 3, Button: tea.MouseWheelUp}, tea.MouseClickMsg{X: 1, Y: 3, Button: tea.MouseLeft}, tea.MouseClickMsg{X: 70, Y: 4, Button: tea.MouseLeft}}
	for _, pair := range [][2]*report.Report{{empty, empty}, {empty, one}, {one, empty}, {sample, one}, {one, sample}, {sample, sample}} {
		for _, size := range [][2]int{{1, 1}, {20, 5}, {80, 24}, {300, 100}} {
			m := diffModel(t, pair[0], pair[1], size[0], size[1])
			for _, v := range []bool{false, true} {
				if v {
					m = drive(t, m, press("v"))
				}
				end := drive(t, m, append(all, mouse...)...)
				if n := strings.Count(screen(end), "\n") + 1; n > max(size[1], 1) {
					t.Errorf("%dx%d: %d lines", size[0], size[1], n)
				}
			}
		}
	}
}

// TestDiffResizeReachesBothViews: a resize while one view shows sizes the
// other's panes and findings too.
func TestDiffResizeReachesBothViews(t *testing.T) {
	rep := sampleReport(t)
	m := diffModel(t, rep, rep, 80, 24)
	m = drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40}, press("v"))
	if m.findings.width != 120 || m.findings.height != 40 || m.files.width != m.diff.other.width || m.files.height != 37 {
		t.Errorf("after a resize and v: findings %dx%d, files %dx%d (the other %d wide)", m.findings.width, m.findings.height, m.files.width, m.files.height, m.diff.other.width)
	}
}

// TestDiffHostileNamesAreEscaped: names, link targets and references
// from either image reach the screen escaped, in every line the
// difference adds.
func TestDiffHostileNamesAreEscaped(t *testing.T) {
	evil := analyse(t, it.Image{Layers: [][]byte{it.Layer(it.Reg("evil\x1b]0;pwned\x07", "x"), it.Sym("link", "\x1b[31mred"))}}, noRules())
	evil.Image.Ref = "ref\x1b[2J"
	plain := analyse(t, it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "1"), it.Sym("link", "a"))}}, noRules())
	for _, tc := range []struct {
		name     string
		old, new *report.Report
	}{{"added", plain, evil}, {"removed", evil, plain}} {
		t.Run(tc.name, func(t *testing.T) {
			m := diffModel(t, tc.old, tc.new, 160, 30)
			for _, k := range []string{"", "j", "j", "j"} {
				if k != "" {
					m = drive(t, m, press(k))
				}
				view := m.View().Content
				if strings.ContainsAny(view, "\x07") || strings.Contains(view, "\x1b]0") || strings.Contains(view, "\x1b[2J") || strings.Contains(view, "\x1b[31mred") {
					t.Fatalf("control sequences from the images reached the screen: %q", view)
				}
			}
		})
	}
}

// TestDiffFileBecomesLink: a regular file that NEW makes a link shows the
// bytes it gave up, as the JSON diff counts them (old bytes, new 0); a
// directory that becomes a link, and a link that stays one, have no bytes
// of their own.
func TestDiffFileBecomesLink(t *testing.T) {
	big := strings.Repeat("x", 300_000)
	old := analyse(t, it.Image{Layers: [][]byte{it.Layer(it.Dir("a"), it.Reg("a/f", big), it.Dir("d"), it.Reg("d/x", big), it.Reg("h", big), it.Sym("l", "a"))}}, noRules())
	new := analyse(t, it.Image{Layers: [][]byte{it.Layer(it.Dir("a"), it.Sym("a/f", "/etc/passwd"), it.Sym("d", "/tmp"), it.Hard("h", "a/f"), it.Sym("l", "b"))}}, noRules())
	m := diffModel(t, old, new, 120, 40)
	for _, tc := range []struct{ path, want string }{
		{"a/f", "−300 kB"},
		{"h", "−300 kB"},
		{"d", "0 B"},
		{"l", "0 B"},
	} {
		if row := rowOf(t, m, tc.path); !strings.Contains(row, tc.want) {
			t.Errorf("/%s: row %q, want %q in it", tc.path, row, tc.want)
		}
	}
}
