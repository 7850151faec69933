package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"

	"github.com/layerscope/layerscope/tree"
)

// Styles are every style the explorer draws with, built once.
type Styles struct {
	Title, Dim, Bold, Selected, SelectedBlur, Border, BorderFocus lipgloss.Style
	// PaneActive and PaneIdle are the pane titles: the active one stands
	// out without colour too (NO_COLOR), reversed; Cursor marks the
	// selected item of a list; Fix is a finding's fix.
	PaneActive, PaneIdle, Cursor, Fix                    lipgloss.Style
	Text                                                 lipgloss.Style // plain
	Added, Modified, Removed, Unchanged                  lipgloss.Style
	Error, Warning, Info, Badge, Status, Key, Pass, Fail lipgloss.Style
}

// DefaultStyles picks colours that read on a dark or a light background.
// NO_COLOR and terminals without colour get none: the renderer drops them.
func DefaultStyles(isDark bool) Styles {
	c := lipgloss.LightDark(isDark)
	pick := func(light, dark string) color.Color { return c(lipgloss.Color(light), lipgloss.Color(dark)) }
	accent := pick("#5A3FD9", "#9D8CFF")
	return Styles{
		Title:        lipgloss.NewStyle().Bold(true).Foreground(accent),
		Dim:          lipgloss.NewStyle().Foreground(pick("#6B6B6B", "#8A8A8A")),
		Bold:         lipgloss.NewStyle().Bold(true),
		Selected:     lipgloss.NewStyle().Reverse(true),
		SelectedBlur: lipgloss.NewStyle().Underline(true),
		Border:       lipgloss.NewStyle().Foreground(pick("#BBBBBB", "#444444")),
		PaneActive:   lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(accent),
		PaneIdle:     lipgloss.NewStyle().Foreground(pick("#6B6B6B", "#8A8A8A")),
		Cursor:       lipgloss.NewStyle().Bold(true).Foreground(accent),
		Fix:          lipgloss.NewStyle().Foreground(pick("#1A7F37", "#56D364")),
		BorderFocus:  lipgloss.NewStyle().Foreground(accent),
		Added:        lipgloss.NewStyle().Foreground(pick("#1A7F37", "#56D364")),
		Modified:     lipgloss.NewStyle().Foreground(pick("#9A6700", "#E3B341")),
		Removed:      lipgloss.NewStyle().Foreground(pick("#CF222E", "#FF7B72")),
		Unchanged:    lipgloss.NewStyle(),
		Text:         lipgloss.NewStyle(),
		Error:        lipgloss.NewStyle().Bold(true).Foreground(pick("#CF222E", "#FF7B72")),
		Warning:      lipgloss.NewStyle().Foreground(pick("#9A6700", "#E3B341")),
		Info:         lipgloss.NewStyle().Foreground(pick("#0969DA", "#79C0FF")),
		Badge:        lipgloss.NewStyle().Bold(true).Foreground(pick("#CF222E", "#FF7B72")),
		Status:       lipgloss.NewStyle().Foreground(pick("#333333", "#DDDDDD")),
		Key:          lipgloss.NewStyle().Bold(true).Foreground(accent),
		Pass:         lipgloss.NewStyle().Bold(true).Foreground(pick("#1A7F37", "#56D364")),
		Fail:         lipgloss.NewStyle().Bold(true).Foreground(pick("#CF222E", "#FF7B72")),
	}
}

// change is the style of an entry's row, by its change.
func (s *Styles) change(c tree.Change) lipgloss.Style {
	switch c {
	case tree.Added:
		return s.Added
	case tree.Modified:
		return s.Modified
	case tree.Removed:
		return s.Removed
	}
	return s.Unchanged
}
