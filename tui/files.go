package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// The files pane's messages: what its commands computed. Each names the
// pane that asked (its sizeWalks, one per pane), for layerscope diff has
// two: the root hands a message to its pane (nil: the one shown).
type (
	sizesMsg struct {
		sizes *dirSizes
		pane  *sizeWalks
	}
	// sizesDueMsg: the view stayed on a layer and mode for sizesDebounce
	// since request gen.
	sizesDueMsg struct {
		gen  uint64
		pane *sizeWalks
	}
	matchesMsg struct {
		seq  int
		ms   *matchSet
		pane *sizeWalks
	}
	debounceMsg struct {
		seq  int
		pane *sizeWalks
	}
	// rowsMsg: where the cursor's row is, and how many rows there are, for
	// the view of generation gen.
	rowsMsg struct {
		gen        uint64
		idx, total int
		pane       *sizeWalks
	}
	rowsDueMsg struct {
		gen  uint64
		pane *sizeWalks
	}
)

// paneMsg is a files pane's message.
type paneMsg interface{ paneOf() *sizeWalks }

func (m sizesMsg) paneOf() *sizeWalks    { return m.pane }
func (m sizesDueMsg) paneOf() *sizeWalks { return m.pane }
func (m matchesMsg) paneOf() *sizeWalks  { return m.pane }
func (m debounceMsg) paneOf() *sizeWalks { return m.pane }
func (m rowsMsg) paneOf() *sizeWalks     { return m.pane }
func (m rowsDueMsg) paneOf() *sizeWalks  { return m.pane }

// fileTree is the files pane: the image's tree as the selected layer
// leaves it (or that layer's changes), with the cursor, the scroll, the
// view's settings (v, A/M/R/U, s, b), the path filter and its prompt,
// and the directory sizes and row counts that commands compute.
type fileTree struct {
	c        *common
	findings []report.Finding
	noLayers bool
	diff     *diffData // set when the pane shows layerscope diff's union tree

	tv     *treeView
	cursor pos
	top    pos
	offset int // cursor row within the pane
	attrs  bool

	badges     map[tree.NodeID][]int // findings that name a node
	badgeBelow []bool                // per node: a finding names something under it
	sizes      *sizeCache
	walks      *sizeWalks
	sizeDelay  time.Duration // sizesDebounce; tests set 0

	// The cursor's row index and the row count, -1 until counted; rowGen
	// names the view they were counted for.
	rowIdx, rowTotal int
	rowGen           uint64
	rowsDirty        bool

	filter    textinput.Model
	filterSeq int
	filterErr string // why the text typed is not a regular expression

	width, height int
}

func newFileTree(c *common) fileTree {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "a regular expression or part of a path"
	return fileTree{c: c, filter: ti, sizes: &sizeCache{}, walks: &sizeWalks{}, sizeDelay: sizesDebounce, rowIdx: -1, rowTotal: -1}
}

// load shows rep's tree after its last layer.
func (f *fileTree) load(rep *report.Report) {
	f.loadTree(rep.Tree, nil, rep.Findings, max(len(rep.Layers)-1, 0))
	f.noLayers = len(rep.Layers) == 0
}

// loadTree shows t after layer, with findings' badges; dirs is t's
// dirIndex when already built.
func (f *fileTree) loadTree(t *tree.Tree, dirs *dirIndex, findings []report.Finding, layer int) {
	f.findings = findings
	f.tv = newTreeView(t, dirs)
	f.badges = map[tree.NodeID][]int{}
	f.badgeBelow = make([]bool, t.Len())
	for i, x := range findings {
		for _, p := range x.Paths {
			if n, ok := t.Lookup(strings.TrimPrefix(p, "/")); ok && n != 0 {
				f.badges[n] = append(f.badges[n], i)
				for a := t.Parent(n); a != 0 && !f.badgeBelow[a]; a = t.Parent(a) {
					f.badgeBelow[a] = true
				}
			}
		}
	}
	f.tv.layer = layer
	f.cursor = f.tv.first()
	f.top = f.cursor
	f.offset = 0
	f.clampScroll()
	f.rowsDirty = true
}

// SetSize sizes the pane: a title row, then the file rows.
func (f *fileTree) SetSize(w, h int) {
	f.width, f.height = w, h
	f.clampScroll()
}

// SetPromptWidth sizes the filter's input, drawn on the status line:
// without a width, the placeholder shows one letter.
func (f *fileTree) SetPromptWidth(w int) { f.filter.SetWidth(w) }

// rows is how many file rows fit.
func (f *fileTree) rows() int {
	return max(1, f.height-1)
}

// inlineNodes is the tree size below which whole-tree work is cheap
// enough to do on the key path.
const inlineNodes = 20_000

// Update takes what the pane's commands computed: sizes, row counts,
// filter matches. Keys come through Key.
func (f fileTree) Update(msg tea.Msg) (fileTree, tea.Cmd) {
	switch msg := msg.(type) {
	case sizesDueMsg:
		if msg.gen != f.walks.gen.Load() {
			return f, nil // a newer key asked for other sizes
		}
		return f, f.walkCmd(msg.gen)
	case sizesMsg:
		if msg.sizes.dirs != f.tv.dirs {
			return f, nil // another tree's
		}
		f.sizes.put(msg.sizes)
		if msg.sizes.layer == f.tv.layer && msg.sizes.whole == f.tv.whole {
			f.setSizes(msg.sizes)
		}
	case rowsDueMsg:
		if msg.gen == f.rowGen {
			return f, f.countCmd(msg.gen)
		}
	case rowsMsg:
		if msg.gen == f.rowGen {
			f.rowIdx, f.rowTotal = msg.idx, msg.total
		}
	case debounceMsg:
		if msg.seq == f.filterSeq {
			return f, f.matchCmd()
		}
	case matchesMsg:
		if msg.seq == f.filterSeq {
			f.keepCursor(func() { f.tv.matches = msg.ms })
		}
	}
	return f, nil
}

// recount counts the rows again when a change asked for it.
func (f *fileTree) recount() tea.Cmd {
	if !f.rowsDirty || f.tv == nil {
		return nil
	}
	f.rowsDirty = false
	return f.rowsCmd()
}

// viewKey reports whether msg changes what the pane shows rather than
// where its cursor is: those keys work from the layers pane too.
func (f fileTree) viewKey(msg tea.KeyPressMsg) bool {
	k := f.c.keys
	return key.Matches(msg, k.LayerMode, k.Filter, k.ClearFilter, k.Added, k.Modified, k.Removed, k.Unchanged, k.Sort, k.Attributes)
}

// Key handles a key: the filter's when the prompt has the keyboard, the
// view's settings, and, when the pane has the keys (focused), the moves.
func (f fileTree) Key(msg tea.KeyPressMsg, focused bool) (fileTree, tea.Cmd, action) {
	if f.filter.Focused() {
		return f.filterKey(msg)
	}
	k := f.c.keys
	switch {
	case key.Matches(msg, k.LayerMode):
		f.keepCursor(func() { f.tv.whole = !f.tv.whole })
		return f, f.sizesCmd(), action{}
	case key.Matches(msg, k.Filter):
		return f, f.filter.Focus(), action{kind: actFilter}
	case key.Matches(msg, k.ClearFilter):
		if f.filter.Value() != "" {
			f.filter.SetValue("")
			f.filterSeq++
			return f, f.matchCmd(), action{}
		}
	case key.Matches(msg, k.Added):
		f.toggleHide(tree.Added)
	case key.Matches(msg, k.Modified):
		f.toggleHide(tree.Modified)
	case key.Matches(msg, k.Removed):
		f.toggleHide(tree.Removed)
	case key.Matches(msg, k.Unchanged):
		f.toggleHide(tree.Unchanged)
	case key.Matches(msg, k.Sort):
		f.keepCursor(func() {
			f.tv.bySize = !f.tv.bySize
			f.tv.order = map[tree.NodeID][]tree.NodeID{}
		})
	case key.Matches(msg, k.Attributes):
		f.attrs = !f.attrs
	case focused:
		return f.moveKey(msg)
	}
	return f, nil, action{}
}

func (f fileTree) filterKey(msg tea.KeyPressMsg) (fileTree, tea.Cmd, action) {
	k := f.c.keys
	switch {
	case key.Matches(msg, k.Interrupt):
		return f, nil, action{kind: actQuit}
	case key.Matches(msg, k.ClearFilter):
		f.filter.Blur()
		f.filter.SetValue("")
		f.filterSeq++
		return f, f.matchCmd(), action{kind: actClose}
	case key.Matches(msg, k.Accept):
		f.filter.Blur()
		return f, nil, action{kind: actFiles}
	}
	var cmd tea.Cmd
	before := f.filter.Value()
	f.filter, cmd = f.filter.Update(msg)
	if v := f.filter.Value(); v != before {
		f.filterSeq++
		f.filterErr = ""
		if _, err := compileFilter(v); err != nil && v != "" {
			f.filterErr = "not a regexp"
		}
		seq, walks := f.filterSeq, f.walks
		return f, tea.Batch(cmd, tea.Tick(120*time.Millisecond, func(time.Time) tea.Msg { return debounceMsg{seq, walks} })), action{}
	}
	return f, cmd, action{}
}

func (f fileTree) moveKey(msg tea.KeyPressMsg) (fileTree, tea.Cmd, action) {
	k := f.c.keys
	if f.cursor == nil {
		return f, nil, action{}
	}
	n := f.tv.node(f.cursor)
	meta, _, _ := f.tv.state(n)
	isDir := meta.Kind == tree.KindDir
	switch {
	case key.Matches(msg, k.Up):
		f.move(-1)
	case key.Matches(msg, k.Down):
		f.move(1)
	case key.Matches(msg, k.PageUp):
		f.move(-f.rows())
	case key.Matches(msg, k.PageDown):
		f.move(f.rows())
	case key.Matches(msg, k.Home):
		f.cursor, f.offset = f.tv.first(), 0
		f.clampScroll()
		if f.rowTotal >= 0 {
			f.rowIdx = 0
		}
	case key.Matches(msg, k.End):
		f.cursor, f.offset = f.tv.last(), f.rows()-1
		f.clampScroll()
		if f.rowTotal >= 0 {
			f.rowIdx = f.rowTotal - 1
		}
	case key.Matches(msg, k.Open), key.Matches(msg, k.Jump) && !isDir:
		return f, nil, action{kind: actOpen, index: int(n)}
	case key.Matches(msg, k.Toggle), key.Matches(msg, k.Jump):
		if isDir {
			f.keepCursor(func() { f.tv.collapse[n] = !f.tv.collapse[n] })
		}
	case key.Matches(msg, k.Expand):
		if isDir {
			f.keepCursor(func() { delete(f.tv.collapse, n) })
		}
	case key.Matches(msg, k.Collapse):
		if isDir && !f.tv.collapse[n] {
			f.keepCursor(func() { f.tv.collapse[n] = true })
		} else if len(f.cursor) > 1 {
			f.cursor = f.cursor[:len(f.cursor)-1].clone()
			f.clampScroll()
			f.rowsDirty = true
		}
	case key.Matches(msg, k.CollapseAll):
		f.keepCursor(func() {
			for _, c := range f.tv.t.Children(0) {
				f.tv.collapse[c] = true
			}
		})
		f.cursor = f.tv.find(f.topLevel(n))
		f.clampScroll()
	case key.Matches(msg, k.ExpandAll):
		f.keepCursor(func() { clear(f.tv.collapse) })
	}
	return f, nil, action{}
}

func (f *fileTree) toggleHide(c tree.Change) {
	f.keepCursor(func() { f.tv.hide[c] = !f.tv.hide[c] })
}

// topLevel is the top-level directory that holds n.
func (f *fileTree) topLevel(n tree.NodeID) tree.NodeID {
	for f.tv.t.Parent(n) != 0 {
		n = f.tv.t.Parent(n)
	}
	return n
}

// SetLayer shows layer l: what is visible follows at once; the directory
// sizes follow when computed.
func (f *fileTree) SetLayer(l int) tea.Cmd {
	f.keepCursor(func() { f.tv.layer = l })
	return f.sizesCmd()
}

// sizesCmd shows the directory sizes of the current layer and mode: at
// once when cached or cheap, else once the keys have paused (sizeDelay)
// and a walk has computed them. Every call makes older walks stale.
func (f *fileTree) sizesCmd() tea.Cmd {
	if f.tv == nil {
		return nil
	}
	gen := f.walks.gen.Add(1)
	walks := f.walks
	layer, whole, t := f.tv.layer, f.tv.whole, f.tv.t
	if s := f.sizes.get(layer, whole); s != nil {
		f.setSizes(s)
		return nil
	}
	if t.Len() < inlineNodes {
		s := computeSizes(t, f.tv.dirs, layer, whole, nil) // well under a millisecond
		f.sizes.put(s)
		f.setSizes(s)
		return nil
	}
	f.keepCursor(func() {
		f.tv.sizes = nil
		f.tv.order = map[tree.NodeID][]tree.NodeID{}
	})
	if f.sizeDelay <= 0 {
		return func() tea.Msg { return sizesDueMsg{gen, walks} }
	}
	return tea.Tick(f.sizeDelay, func(time.Time) tea.Msg { return sizesDueMsg{gen, walks} })
}

// walkCmd computes the sizes that request gen asked for, off the key
// path; the walk stops, with no message, once a newer request exists.
func (f *fileTree) walkCmd(gen uint64) tea.Cmd {
	t, dirs, layer, whole, walks := f.tv.t, f.tv.dirs, f.tv.layer, f.tv.whole, f.walks
	return func() tea.Msg {
		walks.started.Add(1)
		s := computeSizes(t, dirs, layer, whole, func() bool { return walks.gen.Load() != gen })
		if s == nil {
			walks.stopped.Add(1)
			return nil
		}
		return sizesMsg{s, walks}
	}
}

func (f *fileTree) setSizes(s *dirSizes) {
	f.keepCursor(func() {
		f.tv.sizes = s
		f.tv.order = map[tree.NodeID][]tree.NodeID{}
	})
}

// rowsCmd counts the rows of the view as it is now: at once on a small
// tree, else once the keys have paused, in a command on a snapshot.
func (f *fileTree) rowsCmd() tea.Cmd {
	f.rowGen++
	f.rowIdx, f.rowTotal = -1, -1
	if f.tv.t.Len() < inlineNodes {
		var target tree.NodeID = -1
		if f.cursor != nil {
			target = f.tv.node(f.cursor)
		}
		f.rowIdx, f.rowTotal, _ = f.tv.countRows(target, nil)
		return nil
	}
	gen, walks := f.rowGen, f.walks
	if f.sizeDelay <= 0 {
		return func() tea.Msg { return rowsDueMsg{gen, walks} }
	}
	return tea.Tick(f.sizeDelay, func(time.Time) tea.Msg { return rowsDueMsg{gen, walks} })
}

// countCmd counts the rows for generation gen on a snapshot of the view.
func (f *fileTree) countCmd(gen uint64) tea.Cmd {
	snap := f.tv.snapshot()
	var target tree.NodeID = -1
	if f.cursor != nil {
		target = f.tv.node(f.cursor)
	}
	walks := f.walks
	sizesGen := walks.gen.Load()
	return func() tea.Msg {
		// stale once anything newer asked for a walk of the tree
		idx, total, ok := snap.countRows(target, func() bool { return walks.gen.Load() != sizesGen })
		if !ok {
			return nil
		}
		return rowsMsg{gen, idx, total, walks}
	}
}

// matchCmd runs the path filter on an immutable tree, off the key path.
// Text that is not a regular expression keeps the last result.
func (f *fileTree) matchCmd() tea.Cmd {
	pattern, seq, t := f.filter.Value(), f.filterSeq, f.tv.t
	f.filterErr = ""
	if pattern == "" {
		f.keepCursor(func() { f.tv.matches = nil })
		return nil
	}
	re, err := compileFilter(pattern)
	if err != nil {
		f.filterErr = "not a regexp"
		return nil
	}
	walks := f.walks
	return func() tea.Msg { return matchesMsg{seq, computeMatches(t, pattern, re), walks} }
}

// keepCursor applies a change to the view and keeps the cursor on the same
// entry when it still shows, else on the first row.
func (f *fileTree) keepCursor(change func()) {
	var at tree.NodeID = -1
	if f.cursor != nil {
		at = f.tv.node(f.cursor)
	}
	change()
	f.cursor = nil
	if at >= 0 {
		f.cursor = f.tv.find(at)
	}
	if f.cursor == nil {
		f.cursor = f.tv.first()
		f.offset = 0
	}
	f.clampScroll()
	f.rowsDirty = true
}

// clampScroll recomputes top from the cursor and its row offset. The
// cursor keeps its row on screen unless that would leave blank rows at the
// bottom while rows above are hidden: then the view scrolls up to fill.
func (f *fileTree) clampScroll() {
	if f.tv == nil {
		return
	}
	f.offset = min(max(f.offset, 0), f.rows()-1)
	if f.cursor == nil {
		f.top = nil
		f.offset = 0
		return
	}
	f.top = f.cursor
	for i := 0; i < f.offset; i++ {
		p := f.tv.prev(f.top)
		if p == nil {
			f.offset = i
			break
		}
		f.top = p
	}
	below := 0
	for p := f.tv.next(f.cursor); p != nil && below < f.rows()-1-f.offset; p = f.tv.next(p) {
		below++
	}
	for short := f.rows() - 1 - f.offset - below; short > 0; short-- {
		p := f.tv.prev(f.top)
		if p == nil {
			break
		}
		f.top = p
		f.offset++
	}
}

// move steps the cursor by d rows, scrolling at the edges.
func (f *fileTree) move(d int) {
	if f.cursor == nil {
		return
	}
	moved := 0
	for ; d > 0; d-- {
		p := f.tv.next(f.cursor)
		if p == nil {
			break
		}
		f.cursor = p
		moved++
		if f.offset < f.rows()-1 {
			f.offset++
		} else {
			f.top = f.tv.next(f.top)
		}
	}
	for ; d < 0; d++ {
		p := f.tv.prev(f.cursor)
		if p == nil {
			break
		}
		f.cursor = p
		moved--
		if f.offset > 0 {
			f.offset--
		} else {
			f.top = p
		}
	}
	if f.rowIdx >= 0 {
		f.rowIdx += moved
	}
}

// click moves the cursor to row (0 is the first under the title).
func (f *fileTree) click(row int) {
	if row >= 0 && row < f.rows() {
		f.move(row - f.offset)
	}
}

// reveal moves the cursor to n, expanding the directories above it and
// showing the whole image when the layer's changes do not hold it. It
// reports false when n is not a row (a filter hides it).
func (f *fileTree) reveal(n tree.NodeID) (tea.Cmd, bool) {
	var cmd tea.Cmd
	for a := f.tv.t.Parent(n); a != 0; a = f.tv.t.Parent(a) {
		delete(f.tv.collapse, a)
	}
	p := f.tv.find(n)
	if p == nil && !f.tv.whole {
		f.tv.whole = true
		cmd = f.sizesCmd()
		p = f.tv.find(n)
	}
	if p == nil {
		return cmd, false
	}
	f.cursor = p
	f.offset = f.rows() / 3
	f.clampScroll()
	f.rowsDirty = true
	return cmd, true
}

// hiddenBy says what keeps n from being a row after reveal gave up, and
// the key that shows it ("A hides added entries: press A to show them"): the filter, when it drops n, else the A/M/R/U
// toggles that hide n or a directory above it.
func (f *fileTree) hiddenBy(n tree.NodeID) string {
	v := f.tv
	if v.matches != nil && !v.matches.keep[n] {
		return "the filter hides it: esc clears it"
	}
	hidden := v.hide
	defer func() { v.hide = hidden }()
	var hides []int
	for c, on := range hidden {
		if !on {
			continue
		}
		v.hide = hidden
		v.hide[c] = false
		if v.find(n) != nil {
			hides = append(hides, c)
		}
	}
	if len(hides) == 0 {
		v.hide = [4]bool{}
		if v.find(n) == nil {
			return "nothing shows it" // not expected: nothing else hides a row
		}
		for c, on := range hidden {
			if on {
				hides = append(hides, c)
			}
		}
	}
	keys := []string{"U", "A", "M", "R"}
	if len(hides) == 1 {
		c := hides[0]
		return fmt.Sprintf("%s hides %s entries: press %s to show them", keys[c], changeNames[c], keys[c])
	}
	var ks []string
	for _, c := range hides {
		ks = append(ks, keys[c])
	}
	return fmt.Sprintf("%s hide it: press them to show it", strings.Join(ks, " and "))
}

// changeNames is what each tree.Change is called on screen.
var changeNames = [...]string{"unchanged", "added", "modified", "removed"}

// current is the node under the cursor, if any.
func (f fileTree) current() (tree.NodeID, bool) {
	if f.cursor == nil {
		return 0, false
	}
	return f.tv.node(f.cursor), true
}

// findingFor returns the finding that names n or a directory above it.
func (f fileTree) findingFor(n tree.NodeID) (int, bool) {
	for a := n; a != 0; a = f.tv.t.Parent(a) {
		if fs, ok := f.badges[a]; ok {
			return fs[0], true
		}
	}
	return 0, false
}

// ShortHelp and FullHelp make the pane a help.KeyMap: its footer, the
// keys that matter most first (footer drops what does not fit).
func (f fileTree) ShortHelp() []key.Binding {
	k := f.c.keys
	return []key.Binding{k.SwitchPane, k.DiffView, k.Filter, k.Toggle, k.Open, k.Sort, k.LayerMode, k.Added, k.Findings, k.Wasted, k.Help, k.Quit}
}

func (f fileTree) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

// filterHelp is the prompt's keys.
type filterHelp struct{ k *KeyMap }

func (h filterHelp) ShortHelp() []key.Binding  { return []key.Binding{h.k.Accept, h.k.ClearFilter} }
func (h filterHelp) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (f fileTree) View(focused bool) string {
	tv, st, w, h := f.tv, &f.c.styles, f.width, f.height
	title := fmt.Sprintf("Files after layer %d", tv.layer)
	if f.noLayers {
		title = "Files"
	}
	if !tv.whole {
		title = fmt.Sprintf("Changes in layer %d", tv.layer)
	}
	if f.diff != nil {
		title = "NEW against OLD"
		if !tv.whole {
			title += " · changes only"
		}
	}
	var flags []string
	if tv.bySize {
		flags = append(flags, "by size")
	}
	for c, name := range []string{"unchanged", "added", "modified", "removed"} {
		if tv.hide[c] {
			flags = append(flags, "no "+name)
		}
	}
	if tv.matches != nil {
		flags = append(flags, fmt.Sprintf("/%s/: %s", report.Escape(tv.matches.pattern), plural(tv.matches.count, "match")))
	}
	if f.attrs {
		switch f.attrColumns() {
		case attrsMode:
			flags = append(flags, "no room for owners: < makes room")
		case attrsNone:
			flags = append(flags, "no room for b: < makes room")
		}
	}
	if len(flags) > 0 {
		title += " · " + strings.Join(flags, " · ")
	}
	pos := ""
	if f.rowTotal > h-1 && f.rowIdx >= 0 {
		pos = span(f.rowIdx-f.offset, h-1, f.rowTotal)
	}
	lines := []string{paneHeader(st, title, pos, focused, w)}
	p := f.top
	for row := 0; row < h-1 && p != nil; row++ {
		line := f.fileRow(p, w)
		if row == f.offset {
			sel := st.SelectedBlur
			if focused {
				sel = st.Selected
			}
			line = sel.Render(fit(ansi.Strip(line), w))
		}
		lines = append(lines, line)
		p = tv.next(p)
	}
	if len(lines) == 1 {
		lines = append(lines, f.emptyHint(w)...)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return fitLines(lines[:max(h, 1)], w) // the hint may not fit a small pane
}

// emptyHint says what hides everything, and the keys that bring it back.
func (f fileTree) emptyHint(w int) []string {
	var why []string
	switch k := f.c.keys.LayerMode.Help().Key; {
	case !f.tv.whole && f.diff != nil:
		why = append(why, k+" shows what did not change too")
	case !f.tv.whole:
		why = append(why, k+" shows the whole image, not only this layer's changes")
	}
	for c, k := range []string{"U", "A", "M", "R"} {
		if f.tv.hide[c] {
			why = append(why, fmt.Sprintf("%s shows %s entries", k, changeNames[c]))
		}
	}
	if f.tv.matches != nil {
		why = append(why, "esc clears the filter")
	}
	text := "nothing to show"
	if len(why) > 0 {
		text += ": " + strings.Join(why, "; ")
	}
	var out []string
	for _, l := range strings.Split(ansi.Wrap(text, max(w-2, 10), " "), "\n") {
		out = append(out, "  "+f.c.styles.Dim.Render(l))
	}
	return out
}

var markers = [...]string{" ", "+", "~", "-"}

// What b shows, as the pane's width allows: the names come first.
const (
	attrsNone = iota
	attrsMode // drwxr-xr-x
	attrsFull // drwxr-xr-x     0:0
)

// minNameWidth is the room a row keeps for the name and its indent
// before b's columns may take any.
const minNameWidth = 20

// attrColumns is what b shows at the pane's width: mode and owner, the
// mode alone, or nothing, so that names keep minNameWidth columns.
func (f fileTree) attrColumns() int {
	if !f.attrs {
		return attrsNone
	}
	room := f.width - 11 - minNameWidth // the marker and the size
	switch {
	case room >= 23:
		return attrsFull
	case room >= 11:
		return attrsMode
	}
	return attrsNone
}

func (f fileTree) fileRow(p pos, w int) string {
	tv, st := f.tv, &f.c.styles
	n := tv.node(p)
	meta, ch, _ := tv.state(n)
	size := "…"
	if f.diff != nil {
		size = f.diffSize(n, meta, ch)
	} else if s := tv.size(n); s >= 0 {
		size = report.Size(s)
	}
	name := report.Escape(tv.t.Name(n))
	inside := "" // what a collapsed directory hides
	switch meta.Kind {
	case tree.KindDir:
		if tv.expanded(n) {
			name = "▾ " + name + "/"
		} else {
			name = "▸ " + name + "/"
			inside = f.collapsedSummary(n)
		}
	case tree.KindSymlink:
		name = "  " + name + " → " + report.Escape(meta.Link)
	case tree.KindHardlink:
		name = "  " + name + " ⇒ /" + report.Escape(meta.Link)
	default:
		name = "  " + name
	}
	attrs := ""
	switch f.attrColumns() {
	case attrsFull:
		attrs = fmt.Sprintf("%s %5d:%-5d ", modeString(meta), meta.UID, meta.GID)
	case attrsMode:
		attrs = modeString(meta) + " "
	}
	badge := ""
	if _, ok := f.findingFor(n); ok || (inside != "" || !tv.expanded(n)) && meta.Kind == tree.KindDir && f.badgeBelow[n] {
		badge = " " + st.Badge.Render("●")
	}
	line := fmt.Sprintf("%s %s%8s %s%s", markers[ch], attrs, size, strings.Repeat("  ", len(p)-1), name)
	if inside != "" {
		inside = " " + st.Dim.Render(inside)
	}
	room := w - lipgloss.Width(badge)
	if lipgloss.Width(line)+lipgloss.Width(inside) > room {
		inside = ""
	}
	return st.change(ch).Render(ansi.Truncate(line, room, "…")) + inside + badge
}

// collapsedSummary is what a collapsed directory holds that the layer
// changed: the kinds of change (+ ~ -) and the bytes added or modified.
func (f fileTree) collapsedSummary(n tree.NodeID) string {
	a := f.tv.aggregates()
	if a == nil {
		return ""
	}
	k := a.kindsBelow(n)
	var marks string
	for c := tree.Added; c <= tree.Removed; c++ {
		if k&(1<<c) != 0 {
			marks += markers[c]
		}
	}
	if marks == "" {
		return ""
	}
	if b := a.changedBelow(n); b > 0 && f.diff == nil { // a difference's row says its delta
		return fmt.Sprintf("[%s %s]", marks, report.Size(b))
	}
	return "[" + marks + "]"
}

// FilterView is the prompt, drawn on the status line while it has the
// keyboard, with how many paths match or why the text is no expression.
func (f fileTree) FilterView(w int) string {
	st := &f.c.styles
	note := ""
	switch {
	case f.filterErr != "":
		note = "  " + st.Error.Render(f.filterErr) + st.Dim.Render(": the last result stays")
	case f.tv.matches != nil:
		note = st.Dim.Render("  " + plural(f.tv.matches.count, "path") + " match")
	}
	return fit(f.filter.View()+note, w)
}

// Status is the pane's status line: the finding that names the entry
// under the cursor, or its path.
// It has none when nothing shows.
func (f fileTree) Status(w int) (string, bool) {
	st := &f.c.styles
	n, ok := f.current()
	if !ok {
		return "", false
	}
	if i, ok := f.findingFor(n); ok {
		x := f.findings[i]
		line := st.Badge.Render("● ") + severityStyle(st, x.Severity) + " " + report.Escape(x.Message) + st.Dim.Render(" · f: the finding whole, with its fix")
		return fit(line, w), true
	}
	if f.diff != nil {
		_, ch, _ := f.tv.state(n)
		return fit(st.change(ch).Render(f.diffStatus(n)), w), true
	}
	return fit(st.Dim.Render("/"+report.Escape(f.tv.t.Path(n))), w), true
}

// modeString is the mode as ls -l shows it: lrwxrwxrwx for a symlink
// (Linux ignores a link's own mode), s/S and t/T for setuid, setgid and
// sticky.
func modeString(meta tree.Meta) string {
	typ := byte('-')
	switch meta.Kind {
	case tree.KindDir:
		typ = 'd'
	case tree.KindSymlink:
		return "lrwxrwxrwx"
	case tree.KindChar:
		typ = 'c'
	case tree.KindBlock:
		typ = 'b'
	case tree.KindFIFO:
		typ = 'p'
	}
	b := []byte{typ}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if meta.Mode&(1<<(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	special := func(bit uint32, at int, set, unset byte) {
		if meta.Mode&bit == 0 {
			return
		}
		if b[at] == '-' {
			b[at] = unset
		} else {
			b[at] = set
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}
