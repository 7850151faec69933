package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/layerscope/layerscope/report"
)

// listKey is the keys every list overlay shares: it moves sel over n
// items, pages by page, and says what else to do.
func listKey(msg tea.KeyPressMsg, k *KeyMap, sel, n, page int, close key.Binding) (int, action) {
	if sel, ok := move(k, msg, sel, n-1, page); ok {
		return sel, action{}
	}
	switch {
	case key.Matches(msg, k.Jump):
		if n > 0 {
			return sel, action{kind: actJump, index: sel}
		}
	case key.Matches(msg, k.Quit):
		return sel, action{kind: actQuit}
	case key.Matches(msg, close), key.Matches(msg, k.Back):
		return sel, action{kind: actClose}
	}
	return min(max(sel, 0), max(n-1, 0)), action{}
}

// findingsList is the findings overlay: every finding wrapped whole
// (message, paths, layer and instruction, fix) over as many rows as it
// needs, in the report's order: severity first, then bytes.
type findingsList struct {
	c             *common
	fs            []report.Finding
	sel, top      int
	note          string    // a line over the footer, until the next key
	diff          *diffData // layerscope diff's: new findings, then fixed
	width, height int
}

func newFindingsList(c *common, fs []report.Finding) findingsList {
	return findingsList{c: c, fs: fs, width: 80, height: 24}
}

func (f *findingsList) SetSize(w, h int) {
	f.width, f.height = w, h
	f.top = f.scroll()
}

// Select makes finding i the selected one.
func (f *findingsList) Select(i int) {
	if i >= 0 && i < len(f.fs) {
		f.sel = i
		f.top = f.scroll()
	}
}

func (f findingsList) Update(msg tea.KeyPressMsg) (findingsList, action) {
	k := &f.c.keys
	f.note = ""
	var act action
	f.sel, act = listKey(msg, k, f.sel, len(f.fs), 5, k.Findings)
	f.top = f.scroll()
	return f, act
}

// scroll is the first finding to show: the last one's unless the selected
// one would not show whole.
func (f findingsList) scroll() int {
	body := f.bodyRows()
	top := min(f.top, f.sel)
	rows := func(from int) int {
		n := 0
		for i := from; i <= f.sel; i++ {
			n += len(f.block(i, f.width-2, &plainStyles)) + 1
		}
		return n - 1
	}
	for top < f.sel && rows(top) > body {
		top++
	}
	return top
}

// bodyRows is how many rows the findings take: all but the title, the
// footer and the note, if any.
func (f findingsList) bodyRows() int {
	if f.note != "" {
		return max(f.height-3, 1)
	}
	return max(f.height-2, 1)
}

// block is finding i as the rows it takes at width w.
func (f findingsList) block(i, w int, st *Styles) []string {
	x := f.fs[i]
	head := fmt.Sprintf("%s · %s · %s · layer %d", severityStyle(st, x.Severity), x.Category, report.Size(x.Bytes), x.Layer)
	switch {
	case f.diff.fixed(i):
		head = st.Fix.Render("fixed") + " · " + head + " of OLD"
	case f.diff != nil:
		head = st.Badge.Render("new") + " · " + head
	}
	if x.Ignored != "" {
		head += st.Dim.Render(" · ignored: " + report.Escape(x.Ignored))
	}
	out := []string{head}
	wrap := func(label, text string, style lipgloss.Style) {
		if text == "" {
			return
		}
		lines := strings.Split(ansi.Wrap(label+text, max(w-2, 10), " /,"), "\n")
		for _, l := range lines {
			out = append(out, "  "+style.Render(l))
		}
	}
	wrap("", report.Escape(x.Message), st.Text)
	var paths []string
	for _, p := range x.Paths {
		paths = append(paths, report.Escape(p))
	}
	wrap("paths: ", strings.Join(paths, " "), st.Dim)
	layer := "layer: "
	if f.diff.fixed(i) {
		layer = "OLD's layer: "
	}
	wrap(layer, fmt.Sprintf("%d %s", x.Layer, report.Escape(x.CreatedBy)), st.Dim)
	wrap("fix: ", report.Escape(x.Advice), st.Fix)
	return out
}

func (f findingsList) View() string {
	st, w := &f.c.styles, f.width
	title := st.Title.Render(fmt.Sprintf("%s: errors first, then warnings, info; by bytes in each", plural(len(f.fs), "finding")))
	if f.diff != nil {
		title = st.Title.Render(fmt.Sprintf("Findings: %d new in NEW, then %d fixed (OLD had them); errors first, by bytes", f.diff.fixedFrom, len(f.fs)-f.diff.fixedFrom))
	}
	body := f.bodyRows()
	top := f.scroll()
	var lines []string
	for i := top; i < len(f.fs) && len(lines) < body; i++ {
		if i > top {
			lines = append(lines, "")
		}
		gutter := "  "
		if i == f.sel {
			gutter = st.Cursor.Render("▌") + " "
		}
		for j, l := range f.block(i, w-2, st) {
			if i == f.sel && j == 0 {
				l = st.Selected.Render(ansi.Strip(l))
			}
			lines = append(lines, gutter+l)
		}
	}
	if len(lines) > body {
		lines = lines[:body]
	}
	for len(lines) < body {
		lines = append(lines, "")
	}
	if f.note != "" {
		lines = append(lines, st.Status.Render(f.note))
	}
	pos := st.Dim.Render(fmt.Sprintf(" %d of %d", f.sel+1, len(f.fs)))
	return fit(title+pos, w) + "\n" + fitLines(lines, w) + "\n" + footer(f.c, f, w)
}

// ShortHelp and FullHelp make the list a help.KeyMap: its footer.
func (f findingsList) ShortHelp() []key.Binding {
	k := &f.c.keys
	return k.listKeys(k.NextFinding, k.PrevFinding)
}

func (f findingsList) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

// plainStyles draws nothing: what measures a finding's rows uses it.
var plainStyles Styles

func severityStyle(st *Styles, s report.Severity) string {
	switch s {
	case report.SeverityError:
		return st.Error.Render(string(s))
	case report.SeverityWarning:
		return st.Warning.Render(string(s))
	}
	return st.Info.Render(string(s))
}

// plural says "1 finding", "2 findings", "4 matches".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "ch") {
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
