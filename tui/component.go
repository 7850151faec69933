package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// The explorer is built the way Bubbles and soft-serve build theirs. The
// root (Model) owns the state machine (loading, browsing, one overlay at
// a time), routes each key by state, lays the panes out and draws the
// overlays. Each pane (layerList, fileTree) and overlay (findingsList,
// wasteList, viewer, keyHelp) is a component: its own model, SetSize,
// Update and View, and its key help as a help.KeyMap, so the footer and
// ? come from the bindings. A component draws with the styles the root
// built once and hands down in a common; none makes a style in View.

// common is what the root hands every component: the styles (built once,
// again when the terminal reports its background), the keys and the help
// renderer. Components keep the pointer; only the root's Update changes
// what it points to.
type common struct {
	styles Styles
	keys   KeyMap
	help   help.Model
}

func newCommon(isDark bool) *common {
	c := &common{keys: DefaultKeyMap(), help: help.New()}
	c.setBackground(isDark)
	return c
}

func (c *common) setBackground(isDark bool) {
	c.styles = DefaultStyles(isDark)
	c.help.Styles = help.DefaultStyles(isDark)
}

// What a component asks the root to do after a key: the root alone
// changes the state, the focus and the other panes, in the same Update,
// so that a key is one frame.
type actionKind int

const (
	actNone   actionKind = iota
	actClose             // back to the panes
	actJump              // back, and go to item index
	actQuit              // end the program
	actSelect            // show layer index
	actFiles             // the files pane takes the keys
	actOpen              // view node index's content
	actFilter            // the filter prompt takes the keys
)

type action struct {
	kind  actionKind
	index int
}

// Every component's keys show in the footer and ? through help.KeyMap.
var (
	_ help.KeyMap = layerList{}
	_ help.KeyMap = fileTree{}
	_ help.KeyMap = findingsList{}
	_ help.KeyMap = wasteList{}
	_ help.KeyMap = viewer{}
	_ help.KeyMap = keyHelp{}
	_ help.KeyMap = filterHelp{}
)

// footer is km's short help in w columns: its last two keys always (? and
// q on a pane, back and quit on an overlay), then, in their order, as many
// of the others as fit. Keys that do not fit drop out whole; the line is
// not cut.
func footer(c *common, km help.KeyMap, w int) string {
	const sep = 3 // help's " • "
	keys := km.ShortHelp()
	last := keys[max(len(keys)-2, 0):]
	width := func(b key.Binding) int { return ansi.StringWidth(b.Help().Key) + 1 + ansi.StringWidth(b.Help().Desc) }
	used := -sep
	for _, b := range last {
		used += sep + width(b)
	}
	shown := make([]key.Binding, 0, len(keys))
	for _, b := range keys[:len(keys)-len(last)] {
		if b.Enabled() && used+sep+width(b) <= w {
			shown = append(shown, b)
			used += sep + width(b)
		}
	}
	return fit(c.help.ShortHelpView(append(shown, last...)), w)
}
