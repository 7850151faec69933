package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/layerscope/layerscope/report"
)

// TestNextFindingFromTheHighlightedOne: n and N inside the findings list
// step from the finding highlighted there, not from the last one n went to.
func TestNextFindingFromTheHighlightedOne(t *testing.T) {
	rep := sampleReport(t)
	total := len(rep.Findings)
	tests := []struct {
		name string
		keys []string
		want int // index of the finding gone to
	}{
		{"n after three downs", []string{"f", "j", "j", "j", "n"}, 4},
		{"N after three downs", []string{"f", "j", "j", "j", "N"}, 2},
		{"n after n, then the list moved", []string{"n", "f", "j", "j", "n"}, 3},
		{"N on the first wraps", []string{"f", "N"}, total - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, rep, 80, 24), keys(tc.keys...)...)
			if m.findCursor != tc.want {
				t.Errorf("went to finding %d, want %d", m.findCursor, tc.want)
			}
		})
	}
}

// TestTitleCountsLayers: the title says "1 layer", "3 layers".
func TestTitleCountsLayers(t *testing.T) {
	tests := []struct {
		name   string
		layers int
		want   string
	}{
		{"one", 1, " 1 layer · "},
		{"three", 3, " 3 layers · "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report.Report{Tree: buildTree(t, []string{"a:1"}), Layers: make([]report.Layer, tc.layers)}
			rep.Summary.Layers = tc.layers
			m := ready(t, rep, 120, 24)
			if title := m.titleLine(); !strings.Contains(title, tc.want) {
				t.Errorf("title %q does not say %q", title, tc.want)
			}
		})
	}
}

// TestHiddenPathSaysWhatHidesIt: when a finding's or a wasted file's path
// cannot be shown, the status names what hides it and the key that shows
// it; esc only when a filter hides it.
func TestHiddenPathSaysWhatHidesIt(t *testing.T) {
	rep := sampleReport(t)
	tests := []struct {
		name     string
		keys     []string
		filter   string // a filter in force, set as its debounce would
		jump     []string
		want     string
		wantNone string
	}{
		{"finding under A", []string{"A"}, "", []string{"n"}, "A hides added entries: press A to show them", "esc"},
		{"wasted file under A", []string{"A"}, "", []string{"w", "enter"}, "/app/server is hidden; A hides added entries: press A to show them", "esc"},
		{"finding under all four", []string{"A", "M", "R", "U"}, "", []string{"n"}, "A hides added entries: press A to show them", "esc"},
		{"finding outside the filter", nil, "main.go", []string{"n"}, "the filter hides it: esc clears it", "press A"},
		{"finding in the filter, under A", []string{"A"}, "deploy_key", []string{"n"}, "A hides added entries: press A to show them", "esc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, rep, 120, 24), keys(tc.keys...)...)
			if tc.filter != "" {
				m.files.filter.SetValue(tc.filter)
				m.files.tv.matches = matches(m.files.tv.t, tc.filter)
				m.files.keepCursor(func() {})
			}
			m = drive(t, m, keys(tc.jump...)...)
			if !strings.Contains(m.status, tc.want) || strings.Contains(m.status, tc.wantNone) {
				t.Errorf("status %q: want %q, and no %q", m.status, tc.want, tc.wantNone)
			}
		})
	}
}

// blockingOpener hands out layer readers that block until their context
// ends, and passes on each open's context.
type blockingOpener struct{ opened chan context.Context }

func (b blockingOpener) OpenLayer(ctx context.Context, _ int) (io.ReadCloser, error) {
	b.opened <- ctx
	return blockedReader{ctx}, nil
}

type blockedReader struct{ ctx context.Context }

func (r blockedReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func (blockedReader) Close() error { return nil }

// TestLeavingTheViewerEndsItsRead: a file read still under way stops when
// the viewer closes, whatever key closes it.
func TestLeavingTheViewerEndsItsRead(t *testing.T) {
	rep := sampleReport(t)
	for _, closeKey := range []string{"esc", "o", "enter", "q"} {
		t.Run(closeKey, func(t *testing.T) {
			open := blockingOpener{opened: make(chan context.Context, 4)}
			m := New(context.Background(), loaded(rep), WithLayers(func() LayerOpener { return open }))
			m.files.sizeDelay = 0
			m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, loadedMsg{rep: rep})
			m = drive(t, m, keys("tab", "j", "j", "j", "j", "j", "j", "j", "j", "o")...)
			if m.state != stateViewer {
				t.Fatalf("the viewer did not open:\n%s", screen(m))
			}
			var ctx context.Context
			select {
			case ctx = <-open.opened:
			case <-time.After(5 * time.Second):
				t.Fatal("the viewer did not open the layer")
			}
			if ctx.Err() != nil {
				t.Fatal("the read was cancelled before the viewer closed")
			}
			m = drive(t, m, press(closeKey))
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Errorf("%s left the viewer; its read still runs", closeKey)
			}
		})
	}
}

// TestHelpFitsAndScrolls: ? never draws more lines than the terminal has,
// and scrolling down shows every key it lists.
func TestHelpFitsAndScrolls(t *testing.T) {
	rep := sampleReport(t)
	for _, size := range [][2]int{{80, 24}, {60, 20}, {40, 12}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m := drive(t, ready(t, rep, size[0], size[1]), press("?"))
			seen := ""
			for range 80 {
				s := screen(m)
				if n := strings.Count(s, "\n") + 1; n > size[1] {
					t.Fatalf("%d lines on a terminal %d high:\n%s", n, size[1], s)
				}
				seen += s
				m = drive(t, m, press("j"))
				if m.state != stateHelp {
					t.Fatal("j closed the help")
				}
			}
			for _, g := range m.c.keys.helpGroups() {
				for _, b := range g.bindings {
					if !b.Enabled() {
						continue // layerscope diff's v, off here
					}
					if !strings.Contains(squash(seen), squash(b.Help().Desc)) {
						t.Errorf("%q (%s) never shows", b.Help().Desc, g.title)
					}
				}
			}
			if !strings.Contains(squash(seen), "closesthishelp") {
				t.Error("the note never shows")
			}
		})
	}
	for _, tc := range []struct {
		key  string
		quit bool
	}{{"esc", false}, {"?", false}, {"x", false}, {"q", true}} {
		t.Run("closed by "+tc.key, func(t *testing.T) {
			m := drive(t, ready(t, rep, 80, 24), keys("?", "pgdown")...)
			next, cmd := m.Update(press(tc.key))
			quit := cmd != nil && cmd() == tea.Quit()
			if next.(Model).state == stateHelp && !quit || quit != tc.quit {
				t.Errorf("%s: state %d, quit %v; want closed, quit %v", tc.key, next.(Model).state, quit, tc.quit)
			}
		})
	}
}
