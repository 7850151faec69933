package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the explorer answers. dive's keys work too where
// they do not clash; the help lists both.
type KeyMap struct {
	Quit, Help, SwitchPane                           key.Binding
	Up, Down, PageUp, PageDown, Home, End            key.Binding
	Collapse, Expand, Toggle, CollapseAll, ExpandAll key.Binding
	Filter, ClearFilter                              key.Binding
	Added, Modified, Removed, Unchanged              key.Binding
	Sort, Attributes, LayerMode                      key.Binding
	NextFinding, PrevFinding, Findings, Jump         key.Binding
}

// DefaultKeyMap returns the bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		SwitchPane:  key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch pane")),
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
		Filter:      key.NewBinding(key.WithKeys("/", "ctrl+f"), key.WithHelp("/", "filter paths")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Added:       key.NewBinding(key.WithKeys("A", "ctrl+a"), key.WithHelp("A", "show/hide added")),
		Modified:    key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "show/hide modified")),
		Removed:     key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "show/hide removed")),
		Unchanged:   key.NewBinding(key.WithKeys("U", "ctrl+u"), key.WithHelp("U", "show/hide unchanged")),
		Sort:        key.NewBinding(key.WithKeys("s", "ctrl+o"), key.WithHelp("s", "sort by name/size")),
		Attributes:  key.NewBinding(key.WithKeys("b", "ctrl+b"), key.WithHelp("b", "mode and owner")),
		LayerMode:   key.NewBinding(key.WithKeys("v", "ctrl+l"), key.WithHelp("v", "layer changes / all")),
		NextFinding: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next finding")),
		PrevFinding: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous finding")),
		Findings:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "findings")),
		Jump:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to")),
	}
}

// ShortHelp is the footer for the layers pane.
func (k KeyMap) layersHelp() []key.Binding {
	return []key.Binding{k.SwitchPane, k.Up, k.Down, k.LayerMode, k.Findings, k.NextFinding, k.Help, k.Quit}
}

// filesHelp is the footer for the files pane.
func (k KeyMap) filesHelp() []key.Binding {
	return []key.Binding{k.SwitchPane, k.Toggle, k.Filter, k.Sort, k.LayerMode, k.Added, k.Findings, k.Help, k.Quit}
}

// helpGroups is what ? shows: titled groups of bindings.
func (k KeyMap) helpGroups() []helpGroup {
	return []helpGroup{
		{"Move", []key.Binding{k.SwitchPane, k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Help, k.Quit}},
		{"Tree", []key.Binding{k.Toggle, k.Collapse, k.Expand, k.CollapseAll, k.ExpandAll, k.Filter, k.ClearFilter}},
		{"View", []key.Binding{k.LayerMode, k.Added, k.Modified, k.Removed, k.Unchanged, k.Sort, k.Attributes}},
		{"Findings", []key.Binding{k.Findings, k.NextFinding, k.PrevFinding, k.Jump}},
	}
}

type helpGroup struct {
	title    string
	bindings []key.Binding
}
