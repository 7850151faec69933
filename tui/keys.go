package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is every key the explorer answers: every key goes through one of
// these bindings. dive's keys work too where they do not clash.
type KeyMap struct {
	Quit, Help, SwitchPane, Back                     key.Binding
	Up, Down, PageUp, PageDown, Home, End            key.Binding
	Collapse, Expand, Toggle, CollapseAll, ExpandAll key.Binding
	Filter, ClearFilter, Accept                      key.Binding
	Added, Modified, Removed, Unchanged              key.Binding
	Sort, Attributes, LayerMode, Wider, Narrower     key.Binding
	NextFinding, PrevFinding, Findings, Wasted, Jump key.Binding
	Open, Interrupt                                  key.Binding
	// DiffView switches layerscope diff between the difference and NEW
	// alone; off elsewhere.
	DiffView key.Binding
}

// DefaultKeyMap returns the bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all the keys")),
		SwitchPane:  key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch pane")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Home:        key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		End:         key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		Collapse:    key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "collapse / parent")),
		Expand:      key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "expand")),
		Toggle:      key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "collapse/expand")),
		CollapseAll: key.NewBinding(key.WithKeys("c", "ctrl+space"), key.WithHelp("c", "collapse all")),
		ExpandAll:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "expand all")),
		Filter:      key.NewBinding(key.WithKeys("/", "ctrl+f"), key.WithHelp("/", "filter paths (regexp)")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear the filter")),
		Accept:      key.NewBinding(key.WithKeys("enter", "tab"), key.WithHelp("enter", "keep the filter")),
		Added:       key.NewBinding(key.WithKeys("A", "ctrl+a"), key.WithHelp("A", "show/hide added")),
		Modified:    key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "show/hide modified")),
		Removed:     key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "show/hide removed")),
		Unchanged:   key.NewBinding(key.WithKeys("U", "ctrl+u"), key.WithHelp("U", "show/hide unchanged")),
		Sort:        key.NewBinding(key.WithKeys("s", "ctrl+o"), key.WithHelp("s", "sort by name/size")),
		Attributes:  key.NewBinding(key.WithKeys("b", "ctrl+b"), key.WithHelp("b", "mode and owner")),
		LayerMode:   key.NewBinding(key.WithKeys("v", "ctrl+l"), key.WithHelp("v", "layer changes / all")),
		Wider:       key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "widen the layers pane")),
		Narrower:    key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "narrow the layers pane")),
		NextFinding: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next finding")),
		PrevFinding: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous finding")),
		Findings:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "findings")),
		Wasted:      key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wasted files")),
		Jump:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to / open")),
		Open:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "view the file")),
		Interrupt:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		DiffView:    key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "diff: NEW alone / back"), key.WithDisabled()),
	}
}

// diffKeys are the keys of layerscope diff's explorer: v switches between
// the difference and NEW alone, so the layer view is ctrl+l alone.
func (k *KeyMap) diffKeys() {
	k.DiffView.SetEnabled(true)
	k.LayerMode = key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("ctrl+l", k.LayerMode.Help().Desc))
}

// ShortHelp and FullHelp make the KeyMap a help.KeyMap: ? shows FullHelp.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.Quit} }

// FullHelp is every binding, in the groups that ? titles.
func (k KeyMap) FullHelp() [][]key.Binding {
	var out [][]key.Binding
	for _, g := range k.helpGroups() {
		out = append(out, g.bindings)
	}
	return out
}

var _ help.KeyMap = KeyMap{}

// helpGroups is what ? shows and the README's key table lists.
func (k KeyMap) helpGroups() []helpGroup {
	return []helpGroup{
		{"Move", []key.Binding{k.SwitchPane, k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Narrower, k.Wider, k.Help, k.Quit}},
		{"Tree", []key.Binding{k.Toggle, k.Collapse, k.Expand, k.CollapseAll, k.ExpandAll, k.Filter, k.ClearFilter, k.Open}},
		{"View", []key.Binding{k.DiffView, k.LayerMode, k.Added, k.Modified, k.Removed, k.Unchanged, k.Sort, k.Attributes}},
		{"Findings and waste", []key.Binding{k.Findings, k.NextFinding, k.PrevFinding, k.Wasted, k.Jump, k.Back}},
	}
}

type helpGroup struct {
	title    string
	bindings []key.Binding
}

// bindingKeys is how a binding's keys read in help: every key, dive's too.
func bindingKeys(b key.Binding) []string {
	ks := b.Keys()
	out := make([]string, len(ks))
	for i, k := range ks {
		switch k {
		case "shift+tab":
			k = "⇧tab"
		case "pgdown":
			k = "pgdn"
		}
		out[i] = k
	}
	return out
}

// KeyTable is the README's key table, made from the bindings (a test
// checks that the README holds it).
func KeyTable() string {
	var b strings.Builder
	b.WriteString("| keys | what they do |\n| --- | --- |\n")
	for _, g := range DefaultKeyMap().helpGroups() {
		fmt.Fprintf(&b, "| **%s** | |\n", g.title)
		for _, bd := range g.bindings {
			ks := bindingKeys(bd)
			for i, k := range ks {
				ks[i] = "`" + strings.ReplaceAll(k, "|", `\|`) + "`"
			}
			fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(ks, ", "), bd.Help().Desc)
		}
	}
	return b.String()
}

// listKeys is the overlays' footer: move, go, back, quit, and extra.
type listKeys []key.Binding

func (l listKeys) ShortHelp() []key.Binding  { return l }
func (l listKeys) FullHelp() [][]key.Binding { return [][]key.Binding{l} }

func (k KeyMap) listKeys(extra ...key.Binding) listKeys {
	s := append([]key.Binding{k.Up, k.Down, k.Jump}, extra...)
	return append(s, k.Back, k.Quit)
}

// move answers the moving keys for every list and text: it moves pos
// (a selection, or the first line shown) by one, by a page, or to 0 or
// last, and keeps it in [0, last]. ok is false for any other key.
func move(k *KeyMap, msg tea.KeyPressMsg, pos, last, page int) (int, bool) {
	switch {
	case key.Matches(msg, k.Up):
		pos--
	case key.Matches(msg, k.Down):
		pos++
	case key.Matches(msg, k.PageUp):
		pos -= page
	case key.Matches(msg, k.PageDown):
		pos += page
	case key.Matches(msg, k.Home):
		pos = 0
	case key.Matches(msg, k.End):
		pos = last
	default:
		return pos, false
	}
	return min(max(pos, 0), max(last, 0)), true
}
