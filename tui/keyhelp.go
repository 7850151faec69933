package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// keyHelp is the ? overlay: every binding, in the groups the KeyMap
// titles, in two columns (one on a narrow screen). It scrolls when it
// does not fit; any other key closes it; q quits.
type keyHelp struct {
	c             *common
	col, note     lipgloss.Style // the columns' and the note's widths, set by SetSize
	top           int            // the first body line shown
	diff          bool           // layerscope diff's explorer
	width, height int
}

func (h *keyHelp) SetSize(w, height int) {
	h.width, h.height = w, height
	h.col = lipgloss.NewStyle().Width(max(w/2-1, 20))
	if h.oneColumn() {
		h.col = lipgloss.NewStyle().Width(max(w-2, 20))
	}
	h.note = lipgloss.NewStyle().Width(max(w-2, 20))
	h.top = h.clamp(h.top)
}

// oneColumn: two columns do not fit the longest "key  description" line.
func (h keyHelp) oneColumn() bool { return h.width < 76 }

// rows is how many body lines show between the title and the footer.
func (h keyHelp) rows() int { return max(h.height-2, 1) }

func (h keyHelp) clamp(top int) int {
	return min(max(top, 0), max(len(h.body())-h.rows(), 0))
}

// ShortHelp and FullHelp make it a help.KeyMap: its footer shows how to
// scroll, and what it lists is FullHelp.
func (h keyHelp) ShortHelp() []key.Binding {
	k := &h.c.keys
	return []key.Binding{k.Down, k.Up, k.PageDown, k.PageUp, k.Back, k.Quit}
}
func (h keyHelp) FullHelp() [][]key.Binding { return h.c.keys.FullHelp() }

// Update scrolls on the moving keys; q quits; any other key closes.
func (h keyHelp) Update(msg tea.KeyPressMsg) (keyHelp, action) {
	k := &h.c.keys
	if top, ok := move(k, msg, h.top, len(h.body())-h.rows(), h.rows()); ok {
		h.top = top
		return h, action{}
	}
	if key.Matches(msg, k.Quit) {
		return h, action{kind: actQuit}
	}
	h.top = 0
	return h, action{kind: actClose}
}

// body is every line under the title: the key groups, then the note.
func (h keyHelp) body() []string {
	st := &h.c.styles
	var cols [2][]string
	for i, g := range h.c.keys.helpGroups() {
		c := &cols[min(i/2, 1)]
		if h.oneColumn() {
			c = &cols[0]
		}
		if len(*c) > 0 {
			*c = append(*c, "")
		}
		*c = append(*c, st.Bold.Render(g.title))
		for _, b := range g.bindings {
			if !b.Enabled() {
				continue
			}
			keys := strings.Join(bindingKeys(b), ", ")
			*c = append(*c, fmt.Sprintf("%s %s", st.Key.Render(fmt.Sprintf("%-15s", keys)), b.Help().Desc))
		}
	}
	groups := h.col.Render(strings.Join(cols[0], "\n"))
	if !h.oneColumn() {
		groups = lipgloss.JoinHorizontal(lipgloss.Top, groups, " ", h.col.Render(strings.Join(cols[1], "\n")))
	}
	note := h.note.Render(st.Dim.Render(
		"dive's ctrl+m is Enter in every terminal: use M. The filter is a regular expression, case folded. " +
			"Markers: + added, ~ modified, - removed, ● named by a finding; a collapsed folder shows [+~- bytes] changed below it. " +
			h.diffNote() + "Any other key closes this help."))
	return strings.Split(groups+"\n\n"+note, "\n")
}

func (h keyHelp) View() string {
	st := &h.c.styles
	body := h.body()
	title := st.Title.Render("layerscope keys")
	if len(body) > h.rows() {
		title += st.Dim.Render(fmt.Sprintf(" lines %d–%d of %d", h.top+1, min(h.top+h.rows(), len(body)), len(body)))
	}
	lines := []string{title}
	lines = append(lines, body[min(h.top, len(body)):min(h.top+h.rows(), len(body))]...)
	for len(lines) < h.height-1 {
		lines = append(lines, "")
	}
	return fitLines(lines[:max(h.height-1, 1)], h.width) + "\n" + footer(h.c, h, h.width)
}

// diffNote explains layerscope diff's view, in its explorer.
func (h keyHelp) diffNote() string {
	if !h.diff {
		return ""
	}
	return "layerscope diff shows the tree of NEW against OLD: + added, ~ changed, - removed (shown though NEW lacks it), " +
		"sizes as NEW − OLD; = marks a layer NEW shares with OLD (the same diff IDs from the base up). v shows NEW alone, and back. "
}
