package tui

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/report"
)

// shownRows counts the file rows from the top of the pane.
func shownRows(m Model) int {
	n := 0
	for p := m.files.top; p != nil && n < m.files.rows(); p = m.files.tv.next(p) {
		n++
	}
	return n
}

// TestNoRowsHiddenAboveWhenAllFit: the files pane scrolls only when the
// cursor would leave it, and never leaves blank rows at the bottom while
// rows above are hidden: after a sort, a layer switch, a resize.
func TestNoRowsHiddenAboveWhenAllFit(t *testing.T) {
	rep := sampleReport(t)
	tests := []struct {
		name string
		msgs []tea.Msg
	}{
		{"collapse all, then sort by size", keys("tab", "c", "s")},
		{"sorted, then another layer", keys("tab", "c", "s", "tab", "k", "k", "tab")},
		{"sorted, then a resize", append(keys("tab", "c", "s"), tea.WindowSizeMsg{Width: 80, Height: 40}, tea.WindowSizeMsg{Width: 80, Height: 24})},
		{"to the end, then collapse all", keys("tab", "G", "c")},
		{"to the end, then a taller window", append(keys("tab", "G"), tea.WindowSizeMsg{Width: 80, Height: 100})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, rep, 80, 24), tc.msgs...)
			if shownRows(m) < m.files.rows() && m.files.tv.prev(m.files.top) != nil {
				t.Errorf("%d rows shown of %d, with rows above hidden:\n%s", shownRows(m), m.files.rows(), screen(m))
			}
		})
	}
	m := drive(t, ready(t, rep, 80, 24), keys("tab", "c", "s")...)
	if s := screen(m); !strings.Contains(s, "usr/") || !strings.Contains(s, "app/") {
		t.Errorf("the largest folder is hidden after sorting:\n%s", s)
	}
}

// squash drops all white space, so that wrapped text compares whole.
func squash(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "▌", "")), "")
}

// TestFindingsReadableAt80: every finding's message, paths and fix can be
// read whole at 80 columns; the order is said as it is.
func TestFindingsReadableAt80(t *testing.T) {
	rep := sampleReport(t)
	m := drive(t, ready(t, rep, 80, 24), press("f"))
	for i, f := range rep.Findings {
		t.Run(f.Rule, func(t *testing.T) {
			m := m
			for range i {
				m = drive(t, m, press("j"))
			}
			s := squash(screen(m))
			for _, want := range append([]string{f.Message, f.Advice}, f.Paths...) {
				if !strings.Contains(s, squash(report.Escape(want))) {
					t.Errorf("finding %d: %q is not on screen whole:\n%s", i, want, screen(m))
				}
			}
		})
	}
	s := screen(m)
	if strings.Contains(s, "most costly first") || !strings.Contains(s, "errors first") {
		t.Errorf("the findings screen does not say how it sorts:\n%s", s)
	}
}

// TestFindingWithoutPath: n on a finding that names no path (a secret in
// the build history, the image runs as root) shows the finding and selects
// its layer.
func TestFindingWithoutPath(t *testing.T) {
	rep := sampleReport(t)
	m := ready(t, rep, 80, 24)
	seen := 0
	for range rep.Findings {
		m = drive(t, m, press("n"))
		f := rep.Findings[m.findCursor]
		if len(f.Paths) > 0 {
			continue
		}
		seen++
		if m.layers.sel != f.Layer {
			t.Errorf("finding %q: layer %d selected, want %d", f.Rule, m.layers.sel, f.Layer)
		}
		if s := screen(m); !strings.Contains(s, f.Message[:30]) {
			t.Errorf("finding %q is not shown:\n%s", f.Rule, s)
		}
	}
	if seen == 0 {
		t.Fatal("the sample has no finding without a path")
	}
}

func TestSymlinkMode(t *testing.T) {
	m := drive(t, ready(t, sampleReport(t), 120, 40), keys("tab", "b")...)
	s := screen(m)
	if !strings.Contains(s, "lrwxrwxrwx") || strings.Contains(s, "Lrw") {
		t.Errorf("symlinks do not show as lrwxrwxrwx:\n%s", s)
	}
}

// TestActivePaneStandsOutWithoutColour: with NO_COLOR (the Ascii
// profile) the active pane's title is the emphasized one.
func TestActivePaneStandsOutWithoutColour(t *testing.T) {
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	emphasized := func(s string) bool {
		for _, code := range sgr.FindAllString(s, -1) {
			for _, p := range strings.Split(strings.Trim(code, "\x1b[m"), ";") {
				if p == "1" || p == "7" || p == "4" {
					return true
				}
			}
		}
		return false
	}
	for _, tc := range []struct {
		name        string
		keys        []tea.Msg
		activeFiles bool
	}{{"layers", nil, false}, {"files", keys("tab"), true}} {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, sampleReport(t), 120, 30), tc.keys...)
			var b bytes.Buffer
			w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.Ascii}
			io.WriteString(w, m.View().Content)
			header := strings.Split(b.String(), "\n")[1]
			left, right, ok := strings.Cut(header, "│")
			if !ok {
				t.Fatalf("no separator in %q", header)
			}
			left = left[:strings.Index(left, "Layers")+len("Layers")]
			right = right[:strings.Index(right, "Files")+len("Files")]
			if emphasized(left) == tc.activeFiles || emphasized(right) != tc.activeFiles {
				t.Errorf("active %s: layers title %q, files title %q", tc.name, left, right)
			}
		})
	}
}

func TestFilterPlaceholderWhole(t *testing.T) {
	m := drive(t, ready(t, sampleReport(t), 80, 24), press("/"))
	if s := screen(m); !strings.Contains(s, "/"+m.files.filter.Placeholder) {
		t.Errorf("the placeholder %q is cut:\n%s", m.files.filter.Placeholder, s)
	}
}

func TestOneFinding(t *testing.T) {
	rep := &report.Report{Tree: buildTree(t, []string{"a:1"}), Layers: []report.Layer{{}},
		Findings: []report.Finding{{Rule: "source-code", Severity: "warning", Category: "source", Paths: []string{"/a"}}}}
	rep.Check(config.Limits{}, false, report.FailOn{})
	if s := screen(ready(t, rep, 120, 24)); !strings.Contains(s, "1 finding ") && !strings.HasSuffix(strings.SplitN(s, "\n", 2)[0], "1 finding") {
		t.Errorf("title line: %q", strings.SplitN(s, "\n", 2)[0])
	}
}
