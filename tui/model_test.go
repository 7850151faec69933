package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// drive feeds messages to a model as the program would, running the
// commands that come back (sizes, matches), and the ones those return,
// but not timers. Give it a model with sizeDelay 0 (ready does) for the
// sizes to come.
func drive(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	var model tea.Model = m
	for _, msg := range msgs {
		queue := []tea.Msg{msg}
		for len(queue) > 0 {
			var cmd tea.Cmd
			model, cmd = model.Update(queue[0])
			queue = append(queue[1:], runCmd(cmd)...)
			model.View() // must not panic, at any point
		}
	}
	return model.(Model)
}

// runCmd runs the commands that compute (sizes, matches) and drops the
// ones that wait (ticks, cursor blinks): those give no answer at once.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		switch msg := msg.(type) {
		case tea.BatchMsg:
			var out []tea.Msg
			for _, c := range msg {
				out = append(out, runCmd(c)...)
			}
			return out
		case sizesMsg, matchesMsg, sizesDueMsg, viewerMsg, rowsMsg, rowsDueMsg:
			return []tea.Msg{msg}
		}
	case <-time.After(50 * time.Millisecond):
	}
	return nil
}

// ready is a model that has loaded rep, with no debounce before a sizes
// walk (drive does not run timers).
func ready(t *testing.T, rep *report.Report, w, h int) Model {
	t.Helper()
	m := New(context.Background(), loaded(rep))
	m.files.sizeDelay = 0
	return drive(t, m, tea.WindowSizeMsg{Width: w, Height: h}, loadedMsg{rep: rep})
}

func screen(m Model) string { return ansi.Strip(m.View().Content) }

func keys(ks ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range ks {
		out = append(out, press(k))
	}
	return out
}

func TestOddImagesAndSizes(t *testing.T) {
	empty := &report.Report{Tree: buildTree(t)}
	one := &report.Report{Tree: buildTree(t, []string{"a:1"}), Layers: []report.Layer{{CreatedBy: "COPY a /a"}}}
	all := keys("tab", "j", "k", "pgdown", "G", "g", "space", "h", "l", "c", "e", "A", "M", "R", "U", "s", "b", "v", "n", "N", "f", "enter", "?", "x", "tab", "j", "k", "G", "g")
	for _, rep := range []*report.Report{empty, one, sampleReport(t)} {
		for _, size := range [][2]int{{20, 5}, {80, 24}, {300, 100}, {1, 1}} {
			m := ready(t, rep, size[0], size[1])
			drive(t, m, all...)
			// An empty files pane: a filter that matches nothing.
			m = drive(t, m, keys("tab")...)
			m.files.keepCursor(func() { m.files.tv.matches = matches(m.files.tv.t, "zzz") })
			if m.files.cursor != nil {
				t.Fatalf("a filter that matches nothing left a cursor")
			}
			drive(t, m, tea.MouseWheelMsg{X: size[0] - 1, Y: 3, Button: tea.MouseWheelUp},
				tea.MouseWheelMsg{X: size[0] - 1, Y: 3, Button: tea.MouseWheelDown}, tea.MouseClickMsg{X: size[0] - 1, Y: 3, Button: tea.MouseLeft},
				tea.MouseClickMsg{X: 0, Y: 3, Button: tea.MouseLeft}, press("j"), press("G"), press("space"), press("c"))
		}
	}
	if s := screen(ready(t, empty, 80, 24)); !strings.Contains(s, "(the image has no layers)") {
		t.Errorf("an image with no layers:\n%s", s)
	}
}

func TestClickOnScrolledLayers(t *testing.T) {
	var layers [][]string
	for i := 0; i < 30; i++ {
		layers = append(layers, []string{"f" + string(rune('a'+i%26)) + ":1"})
	}
	rep := &report.Report{Tree: buildTree(t, layers...)}
	for i := range layers {
		rep.Layers = append(rep.Layers, report.Layer{Index: i})
	}
	m := ready(t, rep, 80, 24) // the last layer is selected: the list is scrolled to it
	row := 3                   // the third layer row on screen
	m = drive(t, m, tea.MouseClickMsg{X: 2, Y: row + 1, Button: tea.MouseLeft})
	want := m.layers.top + row - 1
	if m.layers.sel != want || m.layers.top == 0 {
		t.Errorf("clicked row %d with the list scrolled to %d: layer %d, want %d", row, m.layers.top, m.layers.sel, want)
	}
}

func TestHideAddedDirectories(t *testing.T) {
	rep := &report.Report{Tree: buildTree(t, []string{"old/", "old/x:1", "keep:1"}, []string{"~old", "newdir/", "newdir/y:1"}),
		Layers: []report.Layer{{Index: 0}, {Index: 1}}}
	m := ready(t, rep, 80, 24)
	if s := screen(m); !strings.Contains(s, "newdir/") || !strings.Contains(s, "old/") {
		t.Fatalf("before hiding:\n%s", s)
	}
	m = drive(t, m, keys("A", "R")...)
	if s := screen(m); strings.Contains(s, "newdir/") || strings.Contains(s, "old/") || !strings.Contains(s, "keep") {
		t.Errorf("A and R leave added and removed directories:\n%s", s)
	}
}

func TestCursorSurvives(t *testing.T) {
	rep := sampleReport(t)
	m := ready(t, rep, 100, 30)
	at := func(m Model) string { return m.files.tv.t.Path(m.files.tv.node(m.files.cursor)) }

	// Clearing a filter inside a collapsed directory lands on that directory.
	m = drive(t, m, keys("tab", "G")...)
	for at(m) != "src" {
		m = drive(t, m, press("k"))
	}
	m = drive(t, m, press("space"))
	m = drive(t, m, keys("/", "m", "a", "i", "n", ".", "g", "o", "enter")...)
	m.files.tv.matches = matches(m.files.tv.t, "main.go") // the debounce timer does not run here
	m.files.keepCursor(func() {})
	m = drive(t, m, keys("j", "j")...)
	if at(m) != "src/main.go" {
		t.Fatalf("cursor at %s, want src/main.go", at(m))
	}
	m = drive(t, m, press("esc"))
	if at(m) != "src" {
		t.Errorf("after esc the cursor is at %s, inside collapsed src", at(m))
	}

	// N first goes to the last finding.
	m = drive(t, m, press("N"))
	if m.findCursor != len(rep.Findings)-1 {
		t.Errorf("N first: finding %d, want %d", m.findCursor, len(rep.Findings)-1)
	}

	// Ctrl+C quits while the filter has the keyboard.
	m2 := drive(t, m, keys("/", "x")...)
	if _, cmd := m2.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}); cmd == nil || cmd() != tea.Quit() {
		t.Error("ctrl+c in the filter did not quit")
	}
}

func TestSizesArriveWithoutMovingTheCursor(t *testing.T) {
	rep := bigReport(t, 30_000) // above inlineNodes: sizes come from a command
	m := ready(t, rep, 100, 30)
	m = drive(t, m, keys("tab", "s", "j", "j", "j")...)
	before := m.files.tv.node(m.files.cursor)
	m = drive(t, m, keys("tab", "k")...) // another layer: sizes are recomputed
	if m.files.tv.sizes == nil || m.files.tv.sizes.layer != m.layers.sel {
		t.Fatalf("layer %d: the sizes did not arrive", m.layers.sel)
	}
	if after := m.files.tv.node(m.files.cursor); after != before {
		if _, ok := m.files.tv.t.At(before, m.layers.sel); ok {
			t.Errorf("cursor moved from %s to %s", m.files.tv.t.Path(before), m.files.tv.t.Path(after))
		}
	}
}

func TestRootFindingsBadgeNothing(t *testing.T) {
	rep := &report.Report{Tree: buildTree(t, []string{"main.go:10", "etc/", "etc/passwd:5"}), Layers: []report.Layer{{}},
		Findings: []report.Finding{{Rule: "source-code", Paths: []string{"/"}}}}
	rep.Check(config.Limits{}, false, report.FailOn{})
	m := ready(t, rep, 80, 24)
	if n, _ := m.files.tv.t.Lookup("etc/passwd"); func() bool { _, ok := m.files.findingFor(n); return ok }() {
		t.Error("a finding on / badges every entry")
	}
	_ = tree.NodeID(0)
}
