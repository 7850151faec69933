package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// keyHelp is the ? overlay: every binding, in the groups the KeyMap
// titles, in two columns. Any key closes it; q quits.
type keyHelp struct {
	c             *common
	col, note     lipgloss.Style // the columns' and the note's widths, set by SetSize
	width, height int
}

func (h *keyHelp) SetSize(w, height int) {
	h.width, h.height = w, height
	h.col = lipgloss.NewStyle().Width(max(w/2-1, 20))
	h.note = lipgloss.NewStyle().Width(max(w-2, 20))
}

// ShortHelp and FullHelp make it a help.KeyMap: what it lists is FullHelp.
func (h keyHelp) ShortHelp() []key.Binding  { return []key.Binding{h.c.keys.Quit} }
func (h keyHelp) FullHelp() [][]key.Binding { return h.c.keys.FullHelp() }

func (h keyHelp) View() string {
	st := &h.c.styles
	var cols [2][]string
	for i, g := range h.c.keys.helpGroups() {
		c := &cols[min(i/2, 1)]
		if len(*c) > 0 {
			*c = append(*c, "")
		}
		*c = append(*c, st.Bold.Render(g.title))
		for _, b := range g.bindings {
			keys := strings.Join(bindingKeys(b), ", ")
			*c = append(*c, fmt.Sprintf("%s %s", st.Key.Render(fmt.Sprintf("%-15s", keys)), b.Help().Desc))
		}
	}
	left := h.col.Render(strings.Join(cols[0], "\n"))
	right := h.col.Render(strings.Join(cols[1], "\n"))
	note := h.note.Render(st.Dim.Render(
		"dive's ctrl+m is Enter in every terminal: use M. The filter is a regular expression, case folded. " +
			"Markers: + added, ~ modified, - removed, ● named by a finding; a collapsed folder shows [+~- bytes] changed below it. Any other key closes this help."))
	return st.Title.Render("layerscope keys") + "\n" + lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right) + "\n\n" + note
}
