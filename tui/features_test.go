package tui

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/layerscope/layerscope/config"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
)

func at(m Model) string { return m.files.tv.t.Path(m.files.tv.node(m.files.cursor)) }

func TestWastedFiles(t *testing.T) {
	rep := sampleReport(t)
	m := drive(t, ready(t, rep, 80, 24), press("w"))
	s := screen(m)
	for _, w := range rep.Waste {
		if !strings.Contains(s, w.Path) || !strings.Contains(s, report.Size(w.Bytes)) {
			t.Errorf("%s is not listed:\n%s", w.Path, s)
		}
	}
	m = drive(t, m, keys("s", "j", "enter")...) // by path: the second is /src/deploy_key
	if m.state != stateBrowse || at(m) != "src/deploy_key" || m.layers.sel != 2 {
		t.Errorf("enter on /src/deploy_key: state %d, cursor %s, layer %d; want the path in layer 2", m.state, at(m), m.layers.sel)
	}
}

func TestCollapsedFolderSaysWhatIsInside(t *testing.T) {
	m := drive(t, ready(t, sampleReport(t), 100, 30), keys("tab", "c")...)
	var app, root string
	for _, l := range strings.Split(screen(m), "\n") {
		switch {
		case strings.Contains(l, "▸ app/"):
			app = l
		case strings.Contains(l, "▸ root/"):
			root = l
		}
	}
	if !strings.Contains(app, "[~ 300 kB]") || !strings.Contains(root, "●") {
		t.Errorf("collapsed rows say nothing of what is inside:\n%s\n%s", app, root)
	}
}

func TestScrollPosition(t *testing.T) {
	m := ready(t, sampleReport(t), 80, 24)
	if s := screen(m); !strings.Contains(s, "1–20 of 64") {
		t.Errorf("no scroll position:\n%s", s)
	}
	m = drive(t, m, keys("tab", "G")...)
	if s := screen(m); !strings.Contains(s, "45–64 of 64") {
		t.Errorf("no scroll position at the end:\n%s", s)
	}
}

func TestResizeLayersPane(t *testing.T) {
	m := ready(t, sampleReport(t), 80, 24)
	w := m.leftWidth()
	if m = drive(t, m, press(">")); m.leftWidth() != w+4 {
		t.Errorf("> made the layers pane %d wide, from %d", m.leftWidth(), w)
	}
	for range 50 {
		m = drive(t, m, press(">"))
	}
	if m.width-m.leftWidth() < 24 {
		t.Errorf("> leaves the files pane %d columns", m.width-m.leftWidth())
	}
	m = drive(t, m, press("<"))
	if m.width-m.leftWidth() != 28 {
		t.Errorf("< after the bound: files pane %d wide, want 28", m.width-m.leftWidth())
	}
}

func TestRegexpFilter(t *testing.T) {
	m := drive(t, ready(t, sampleReport(t), 80, 24), keys("/", "g", "o", "\\", ".", "(", "m", "o", "d", "|", "s", "u", "m", ")", "$")...)
	m = drive(t, m, debounceMsg{seq: m.files.filterSeq})
	if m.files.tv.matches == nil || m.files.tv.matches.count != 2 {
		t.Fatalf("go\\.(mod|sum)$ matches %v", m.files.tv.matches)
	}
	m = drive(t, m, press("("))
	m = drive(t, m, debounceMsg{seq: m.files.filterSeq})
	if s := screen(m); !strings.Contains(s, "not a regexp") || m.files.tv.matches == nil || m.files.tv.matches.count != 2 {
		t.Errorf("an invalid expression: the prompt must say so and keep the last result:\n%s", s)
	}
	m = drive(t, m, keys("esc", "/", "m", "a", "i", "n", ".", "g", "o")...)
	m = drive(t, m, debounceMsg{seq: m.files.filterSeq})
	if m.files.tv.matches == nil || m.files.tv.matches.count != 1 {
		t.Errorf("plain text: %v", m.files.tv.matches)
	}
}

func TestHiddenEntriesTakeTheirFolder(t *testing.T) {
	rep := &report.Report{Tree: buildTree(t, []string{"d/", "d/x:1", "keep:1"}, []string{"~d/x"}),
		Layers: []report.Layer{{Index: 0}, {Index: 1}}}
	rep.Check(config.Limits{}, false, report.FailOn{})
	m := ready(t, rep, 80, 24)
	if s := screen(m); !strings.Contains(s, "d/") {
		t.Fatalf("before hiding:\n%s", s)
	}
	m = drive(t, m, press("R"))
	if s := screen(m); strings.Contains(s, "d/") || !strings.Contains(s, "keep") {
		t.Errorf("R leaves a folder whose only entry is removed:\n%s", s)
	}
	m = drive(t, m, press("U"))
	if s := strings.Join(m.files.emptyHint(200), " "); !strings.Contains(s, "U shows unchanged") || !strings.Contains(s, "R shows removed") {
		t.Errorf("the empty view does not name the toggles:\n%s", s)
	}
}

func TestLayersStatusShowsFindings(t *testing.T) {
	rep := sampleReport(t)
	m := ready(t, rep, 120, 30)
	if s := screen(m); !strings.Contains(s, "layer 5: 1 finding: warning config") {
		t.Errorf("the layers pane's status line:\n%s", s)
	}
}

func TestViewer(t *testing.T) {
	img := it.Image{Layers: [][]byte{
		it.Layer(it.Reg("etc/motd", "hello\x1b]0;pwned\x07\x1b[2J\tend\n"), it.Reg("bin/tool", "\x7fELF\x00\x01\x02"), it.Reg("twice", "first")),
		it.Layer(it.Reg("twice", "old"), it.Reg("twice", "new")),
	}}
	rep := analyse(t, img, noRules())
	open := func(m Model, path string) Model {
		n, _ := m.files.tv.t.Lookup(path)
		m.focus = filesPane
		m.files.cursor = m.files.tv.find(n)
		return drive(t, m, press("o"))
	}
	withLayers := func() Model {
		m := New(context.Background(), loaded(rep), WithLayers(func() LayerOpener { return layerOpener(img.Layers) }))
		m.files.sizeDelay = 0
		return drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, loadedMsg{rep: rep})
	}
	tests := []struct {
		name, path string
		m          Model
		want       []string
		not        []string
	}{
		{"text, control characters escaped", "etc/motd", withLayers(), []string{`hello\x1b]0;pwned\x07\x1b[2J        end`}, []string{"\x1b]0", "\x07"}},
		{"binary as a hex dump", "bin/tool", withLayers(), []string{"00000000  7f 45 4c 46 00 01 02", "|.ELF...|"}, nil},
		{"the later copy of a path written twice", "twice", withLayers(), []string{"new"}, []string{"old"}},
		{"a source that cannot be read again", "etc/motd", ready(t, rep, 80, 24), []string{"docker save IMAGE -o img.tar"}, []string{"hello"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := open(tc.m, tc.path)
			view := m.View().Content
			s := strings.Join(strings.Fields(screen(m)), " ")
			for _, w := range tc.want {
				if !strings.Contains(s, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("missing %q:\n%s", w, screen(m))
				}
			}
			for _, w := range tc.not {
				if strings.Contains(view, w) {
					t.Errorf("shows %q:\n%s", w, screen(m))
				}
			}
			if m = drive(t, m, press("esc")); m.state != stateBrowse {
				t.Errorf("esc leaves state %d", m.state)
			}
		})
	}
}

func TestReadLayerFileLimit(t *testing.T) {
	big := strings.Repeat("x", viewLimit+10)
	data, more, err := readLayerFile(context.Background(), layerOpener{it.Layer(it.Reg("./big", big))}, 0, "big", viewLimit)
	if err != nil || len(data) != viewLimit || !more {
		t.Errorf("read %d bytes, more %v, err %v; want %d and more", len(data), more, err, viewLimit)
	}
	if _, _, err := readLayerFile(context.Background(), layerOpener{it.Layer(it.Reg("a", "1"))}, 0, "b", viewLimit); err == nil {
		t.Error("a missing file gave no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := readLayerFile(ctx, layerOpener{it.Layer(it.Reg("a", "1"))}, 0, "a", viewLimit); err == nil {
		t.Error("a cancelled read gave no error")
	}
}

// TestREADMEKeyTable: the README's key table is the one the bindings
// make (go test ./tui -update rewrites it).
func TestREADMEKeyTable(t *testing.T) {
	const begin, end = "<!-- keys: generated from tui.KeyTable, go test ./tui -update -->\n", "<!-- end of keys -->\n"
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("the README has no key table between %q and %q", begin, end)
	}
	got := readme[i+len(begin) : j]
	if got != KeyTable() {
		if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
			os.WriteFile("../README.md", []byte(readme[:i+len(begin)]+KeyTable()+readme[j:]), 0o644)
			return
		}
		t.Errorf("the README's key table differs from the bindings (go test ./tui -update):\n%s", KeyTable())
	}
	for _, bd := range DefaultKeyMap().helpGroups() {
		for _, k := range bd.bindings {
			if !strings.Contains(got, k.Help().Desc) {
				t.Errorf("%q is not in the table", k.Help().Desc)
			}
		}
	}
}

// TestViewerCountsLines: a final newline ends the last line; it does not
// start another.
func TestViewerCountsLines(t *testing.T) {
	tests := []struct {
		name, data string
		want       int
	}{
		{"two lines, the last ended", "a\nb\n", 2},
		{"two lines, the last not ended", "a\nb", 2},
		{"a blank line at the end", "a\n\n", 2},
		{"one empty line", "\n", 1},
		{"an empty file", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := viewer{c: newCommon(true)}
			v.SetSize(80, 24)
			var data []byte // an empty file reads as nil
			if tc.data != "" {
				data = []byte(tc.data)
			}
			v = v.loaded(viewerMsg{data: data})
			if len(v.lines) != tc.want {
				t.Errorf("%q: %d lines %q, want %d", tc.data, len(v.lines), v.lines, tc.want)
			}
			s := ansi.Strip(v.View())
			if tc.want == 0 && !strings.Contains(s, "an empty file") {
				t.Errorf("an empty file shows as\n%s", s)
			}
			if tc.want > 0 && !strings.Contains(s, fmt.Sprintf("lines 1–%d of %d", tc.want, tc.want)) {
				t.Errorf("%q: the title says\n%s", tc.data, strings.SplitN(s, "\n", 2)[0])
			}
		})
	}
}

// TestFilteredFolderGoesWithItsMatches: under a filter, a folder shown
// only because a match lies below it goes when R or U hides that match.
func TestFilteredFolderGoesWithItsMatches(t *testing.T) {
	rep := &report.Report{Tree: buildTree(t, []string{"d/", "d/x:1", "d/y:1", "keep:1"}, []string{"~d/x"}),
		Layers: []report.Layer{{Index: 0}, {Index: 1}}}
	rep.Check(config.Limits{}, false, report.FailOn{})
	tests := []struct {
		name, filter, hide string
	}{
		{"R hides the removed match", "x", "R"},
		{"U hides the unchanged match", "y", "U"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, rep, 80, 24), keys("/", tc.filter, "enter")...)
			m = drive(t, m, debounceMsg{seq: m.files.filterSeq})
			if got := rows(m.files.tv); !slices.Equal(got, []string{"d", " " + tc.filter}) {
				t.Fatalf("filtered on %q: rows %q", tc.filter, got)
			}
			m = drive(t, m, press(tc.hide))
			if got := rows(m.files.tv); len(got) != 0 {
				t.Errorf("%s leaves rows %q:\n%s", tc.hide, got, screen(m))
			}
			if s := screen(m); strings.Contains(s, "d/") || !strings.Contains(s, "nothing to show") {
				t.Errorf("%s leaves an empty folder:\n%s", tc.hide, s)
			}
		})
	}
}

// TestFooterFits: every footer drops the keys that do not fit rather than
// being cut, and the panes' always say that ? shows every key.
func TestFooterFits(t *testing.T) {
	rep := sampleReport(t)
	tests := []struct {
		name string
		keys []string
		want []string // the footer's end
	}{
		{"layers pane", nil, []string{"? all the keys", "q quit"}},
		{"files pane", []string{"tab"}, []string{"? all the keys", "q quit"}},
		{"filter", []string{"/"}, []string{"enter keep the filter", "esc clear the filter"}},
		{"findings", []string{"f"}, []string{"esc back", "q quit"}},
		{"wasted files", []string{"w"}, []string{"esc back", "q quit"}},
		{"viewer", []string{"tab", "j", "o"}, []string{"esc back", "q quit"}},
	}
	for _, w := range []int{80, 100, 160} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%d/%s", w, tc.name), func(t *testing.T) {
				m := drive(t, ready(t, rep, w, 24), keys(tc.keys...)...)
				lines := strings.Split(screen(m), "\n")
				footer := strings.TrimRight(lines[len(lines)-1], " ")
				if strings.Contains(footer, "…") || !strings.HasSuffix(footer, strings.Join(tc.want, " • ")) {
					t.Errorf("footer %q, want it whole, ending %q", footer, strings.Join(tc.want, " • "))
				}
			})
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		what string
		want string
	}{
		{1, "match", "1 match"},
		{4, "match", "4 matches"},
		{0, "finding", "0 findings"},
		{2, "path", "2 paths"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := plural(tc.n, tc.what); got != tc.want {
				t.Errorf("plural(%d, %q) = %q", tc.n, tc.what, got)
			}
		})
	}
}
