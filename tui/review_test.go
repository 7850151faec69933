package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// TestAttributesKeepNames: b shows modes and owners only where the names
// keep their room; on a narrow screen the names still show whole and the
// status says why the columns are missing.
func TestAttributesKeepNames(t *testing.T) {
	rep := sampleReport(t)
	tests := []struct {
		width    int
		mode     bool // the mode column shows
		owner    bool // the owner column shows
		narrower bool // the status says that < makes room
	}{
		{60, false, false, true},
		{80, true, false, true},
		{120, true, true, false},
		{160, true, true, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.width), func(t *testing.T) {
			m := drive(t, ready(t, rep, tc.width, 24), keys("tab", "b")...)
			s := screen(m)
			// Every row of the files pane names its entry whole.
			p := m.files.top
			for row := 0; p != nil && row < m.files.rows(); row, p = row+1, m.files.tv.next(p) {
				if len(p) > 2 {
					continue // deep rows are cut by their indent alone
				}
				n := m.files.tv.node(p)
				name := tree.Base(m.files.tv.t.Path(n))
				if meta, _, _ := m.files.tv.state(n); meta.Kind == tree.KindDir {
					name += "/"
				}
				if !strings.Contains(s, " "+name) {
					t.Errorf("%q is cut at %d columns:\n%s", name, tc.width, s)
				}
			}
			if got := strings.Contains(s, "drwx"); got != tc.mode {
				t.Errorf("mode column shown %v, want %v:\n%s", got, tc.mode, s)
			}
			if got := strings.Contains(s, "0:0"); got != tc.owner {
				t.Errorf("owner column shown %v, want %v:\n%s", got, tc.owner, s)
			}
			if got := strings.Contains(s, "< narrows the layers pane"); got != tc.narrower {
				t.Errorf("status says < makes room: %v, want %v:\n%s", got, tc.narrower, s)
			}
		})
	}
}

// TestEnterOnFindingWithoutPath: enter on a finding that names no path
// says so inside the list, in one line, until the next key.
func TestEnterOnFindingWithoutPath(t *testing.T) {
	rep := sampleReport(t)
	i := -1
	for j, f := range rep.Findings {
		if len(f.Paths) == 0 {
			i = j
			break
		}
	}
	if i < 0 {
		t.Fatal("the sample has no finding without a path")
	}
	for _, size := range [][2]int{{80, 24}, {40, 12}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m := drive(t, ready(t, rep, size[0], size[1]), press("f"))
			for range i {
				m = drive(t, m, press("j"))
			}
			m = drive(t, m, press("enter"))
			lines := strings.Split(screen(m), "\n")
			if m.state != stateFindings {
				t.Fatalf("state %d, want the findings list", m.state)
			}
			if len(lines) != size[1] {
				t.Errorf("%d lines on a screen %d high", len(lines), size[1])
			}
			note := lines[len(lines)-2]
			if !strings.Contains(note, "names no path") {
				t.Errorf("no message over the footer:\n%s", strings.Join(lines, "\n"))
			}
			if m.layers.sel != rep.Findings[i].Layer {
				t.Errorf("layer %d selected, want %d", m.layers.sel, rep.Findings[i].Layer)
			}
			if m = drive(t, m, press("k")); strings.Contains(screen(m), "names no path") {
				t.Errorf("the message outlives the next key:\n%s", screen(m))
			}
		})
	}
}

// TestWheelInOverlays: the mouse wheel moves every overlay as its arrow
// keys do.
func TestWheelInOverlays(t *testing.T) {
	rep := sampleReport(t)
	var long strings.Builder
	for i := range 200 {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("long.txt", long.String()))}}
	text := analyse(t, img, noRules())
	viewer := func() Model {
		m := New(context.Background(), loaded(text), WithLayers(func() LayerOpener { return layerOpener(img.Layers) }))
		m.files.sizeDelay = 0
		return drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, loadedMsg{rep: text}, press("tab"), press("o"))
	}
	down := tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown}
	up := tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelUp}
	tests := []struct {
		name  string
		m     Model
		state state
		pos   func(Model) int
		want  int // after two notches down and one up
	}{
		{"findings", drive(t, ready(t, rep, 80, 24), press("f")), stateFindings, func(m Model) int { return m.findings.sel }, 1},
		{"wasted files", drive(t, ready(t, rep, 80, 24), press("w")), stateWaste, func(m Model) int { return m.waste.sel }, 1},
		{"help", drive(t, ready(t, rep, 80, 12), press("?")), stateHelp, func(m Model) int { return m.keyHelp.top }, 3},
		{"viewer", viewer(), stateViewer, func(m Model) int { return m.viewer.top }, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.m.state != tc.state {
				t.Fatalf("state %d, want %d", tc.m.state, tc.state)
			}
			before := screen(tc.m)
			m := drive(t, tc.m, down, down, up)
			if m.state != tc.state {
				t.Fatalf("the wheel left the overlay: state %d", m.state)
			}
			if got := tc.pos(m); got != tc.want {
				t.Errorf("at %d after the wheel, want %d", got, tc.want)
			}
			if screen(m) == before {
				t.Errorf("the screen did not move:\n%s", before)
			}
		})
	}
}

// TestLayersShowCompressedSizes (issue 13): when the source knows the
// layers' compressed sizes, the rows show them beside the uncompressed
// ones, in full where there is room and in four characters on an
// 80-column screen, and the command keeps its room.
func TestLayersShowCompressedSizes(t *testing.T) {
	plain := sampleReport(t)
	pulled := *plain
	pulled.Layers = slices.Clone(plain.Layers)
	for i := range pulled.Layers {
		pulled.Layers[i].BlobBytes = pulled.Layers[i].Bytes/3 + 100
	}
	pulled.Summary.CompressedBytes = 123_456
	tests := []struct {
		name  string
		rep   *report.Report
		width int
		want  string // in layer 1's row
		title bool   // the pane's title names the columns
	}{
		{"80 columns: compact", &pulled, 80, "772 kB 257k", true},
		{"120 columns: in full", &pulled, 120, "772 kB   257 kB", true},
		{"160 columns: in full", &pulled, 160, "772 kB   257 kB", true},
		{"60 columns: in the details only", &pulled, 60, "772 kB  RUN", false},
		{"a source without blobs", plain, 120, "772 kB  RUN", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, tc.rep, tc.width, 30), press("k"), press("k"), press("k"), press("k"))
			lines := strings.Split(screen(m), "\n")
			row, _, _ := strings.Cut(lines[3], "│")
			if !strings.Contains(row, tc.want) {
				t.Errorf("layer 1's row %q, want %q in it", row, tc.want)
			}
			// The command keeps minCommandWidth columns.
			if cmd := tc.rep.Layers[1].Instruction(); !strings.Contains(row, cmd[:minCommandWidth-1]) {
				t.Errorf("layer 1's row %q cuts its command %q", row, cmd)
			}
			if got := strings.Contains(lines[1], "compressed"); got != tc.title {
				t.Errorf("title %q names the compressed column: %v, want %v", lines[1], got, tc.title)
			}
			s := screen(m)
			if tc.rep == &pulled {
				if !strings.Contains(s, "257 kB compressed") || !strings.Contains(s, "pull size 123 kB") {
					t.Errorf("the details or the summary lack the compressed size:\n%s", s)
				}
			} else if strings.Contains(s, "compressed") {
				t.Errorf("a source without blobs shows compressed sizes:\n%s", s)
			}
		})
	}
}

func TestCompactSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0B"}, {999, "999B"}, {1000, "1.0k"}, {9_949, "9.9k"}, {9_950, "10k"}, {257_000, "257k"}, {999_499, "999k"}, {999_500, "1.0M"}, {1_100_000, "1.1M"}, {123_000_000, "123M"}, {4_500_000_000, "4.5G"}} {
		if got := compactSize(tc.n); got != tc.want || len(got) > 4 {
			t.Errorf("compactSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestSmallScreensKeepTheirHeight: on a small screen no key makes the
// explorer draw more lines than the terminal has (the files pane's hint
// on what hides everything used to run past it).
func TestSmallScreensKeepTheirHeight(t *testing.T) {
	rep := sampleReport(t)
	seq := keys("tab", "j", "pgdown", "G", "space", "c", "e", "A", "M", "R", "U", "s", "b", "v", "f", "esc", "w", "esc", "?", "x")
	for _, size := range [][2]int{{1, 1}, {20, 5}, {40, 8}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m := ready(t, rep, size[0], size[1])
			for _, k := range seq {
				m = drive(t, m, k)
				if n := strings.Count(screen(m), "\n") + 1; n > size[1] {
					t.Fatalf("after %s: %d lines on a screen %d high:\n%s", k.(tea.KeyPressMsg).String(), n, size[1], screen(m))
				}
			}
		})
	}
}

// TestLayersMarkTheBase (issue 12): with a base image known, its layers
// are marked B and dimmed, the details and the summary name the base
// (escaped), and the summary gives the build's waste percent.
func TestLayersMarkTheBase(t *testing.T) {
	plain := sampleReport(t)
	based := *plain
	based.Layers = slices.Clone(plain.Layers)
	based.SetBase(report.BaseImage{Name: "evil\x1b[2Jbase:1", From: report.BaseFromFlag}, 1, func(string) bool { return false })
	tests := []struct {
		name string
		rep  *report.Report
		base bool
	}{
		{"a base known", &based, true},
		{"no base", plain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The cursor starts on the top layer: go to layer 0, the base.
			m := ready(t, tc.rep, 120, 40)
			for range len(tc.rep.Layers) {
				m = drive(t, m, press("k"))
			}
			s := screen(m)
			lines := strings.Split(s, "\n")
			row0, _, _ := strings.Cut(lines[2], "│")
			row1, _, _ := strings.Cut(lines[3], "│")
			if got := strings.Contains(row0, "B  0 ") && strings.Contains(row1, "   1 "); got != tc.base {
				t.Errorf("rows %q, %q: base marks %v, want %v", row0, row1, got, tc.base)
			}
			if strings.Contains(row1, "B  1 ") {
				t.Errorf("layer 1 is marked as the base's: %q", row1)
			}
			for _, want := range []string{"Layers · B from the base image", "B from the base image evil", "base image evil", "of the build above the base"} {
				if strings.Contains(s, want) != tc.base {
					t.Errorf("%q shown: %v, want %v:\n%s", want, !tc.base, tc.base, s)
				}
			}
			if strings.Contains(s, "\x1b[2J") {
				t.Error("the base's name reaches the terminal unescaped")
			}
		})
	}
}
