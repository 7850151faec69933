package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/layerscope/layerscope/report"
)

// wasteList is the wasted-files overlay, as dive shows it under the image
// details: every path whose bytes ship but nobody sees, with the bytes and
// the layers that shipped them. s sorts by bytes or by path; enter goes to
// the path in the layer that shipped the wasted copy.
type wasteList struct {
	c             *common
	items         []report.Waste
	byPath        bool
	sel, top      int
	width, height int
}

func newWasteList(c *common, ws []report.Waste) wasteList {
	return wasteList{c: c, items: slices.Clone(ws), width: 80, height: 24}
}

func (l *wasteList) SetSize(w, h int) {
	l.width, l.height = w, h
	l.scroll()
}

func (l *wasteList) rows() int { return max(l.height-3, 1) }

func (l *wasteList) scroll() {
	l.top = min(max(l.top, l.sel-l.rows()+1), l.sel)
	l.top = max(l.top, 0)
}

func (l wasteList) Update(msg tea.KeyPressMsg) (wasteList, action) {
	k := &l.c.keys
	if key.Matches(msg, k.Sort) {
		l.byPath = !l.byPath
		l.sort()
		return l, action{}
	}
	var act action
	l.sel, act = listKey(msg, k, l.sel, len(l.items), l.rows(), k.Wasted)
	l.scroll()
	return l, act
}

// sort orders the list: most bytes first (then by path), or by path.
func (l *wasteList) sort() {
	sel := ""
	if l.sel < len(l.items) {
		sel = l.items[l.sel].Path
	}
	slices.SortStableFunc(l.items, func(a, b report.Waste) int {
		if l.byPath {
			return strings.Compare(a.Path, b.Path)
		}
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path))
	})
	l.sel = max(slices.IndexFunc(l.items, func(w report.Waste) bool { return w.Path == sel }), 0)
	l.scroll()
}

func (l wasteList) View() string {
	st := &l.c.styles
	var total int64
	for _, w := range l.items {
		total += w.Bytes
	}
	order := "most bytes first"
	if l.byPath {
		order = "by path"
	}
	title := st.Title.Render(fmt.Sprintf("Wasted files: %s, %s, %s", plural(len(l.items), "path"), report.Size(total), order)) +
		st.Dim.Render(fmt.Sprintf(" %d of %d", l.sel+1, len(l.items)))
	lines := []string{fit(title, l.width), fit(st.Dim.Render(fmt.Sprintf("  %9s  %-12s %s", "BYTES", "LAYERS", "PATH")), l.width)}
	for i := l.top; i < min(l.top+l.rows(), len(l.items)); i++ {
		w := l.items[i]
		line := fmt.Sprintf("  %9s  %-12s /%s", report.Size(w.Bytes), layerNumbers(w.Layers), report.Escape(strings.TrimPrefix(w.Path, "/")))
		line = ansi.Truncate(line, l.width, "…")
		if i == l.sel {
			line = st.Selected.Render(fit(line, l.width))
		}
		lines = append(lines, line)
	}
	for len(lines) < l.height-1 {
		lines = append(lines, "")
	}
	return fitLines(lines, l.width) + "\n" + footer(l.c, l, l.width)
}

// ShortHelp and FullHelp make the list a help.KeyMap: its footer.
func (l wasteList) ShortHelp() []key.Binding  { return l.c.keys.listKeys(l.c.keys.Sort) }
func (l wasteList) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }
