// Package tui is the interactive explorer: layers on the left, the file
// tree on the right, findings on both. It builds its models from a report
// and never redoes analysis; whatever must walk the whole tree runs in a
// command, off the key path.
package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// Loader analyses the image, reporting progress as it reads.
type Loader func(ctx context.Context, prog *image.Progress) (*report.Report, error)

type pane int

const (
	layersPane pane = iota
	filesPane
)

// state is what the root shows and who gets the keys: one at a time.
type state int

const (
	stateLoading  state = iota // the analysis runs
	stateBrowse                // the two panes
	stateFilter                // the filter prompt has the keyboard
	stateHelp                  // every key
	stateFindings              // the findings list
	stateWaste                 // the wasted-files list
	stateViewer                // a file's content
)

// Messages.
type (
	loadedMsg  struct{ rep *report.Report }
	loadErrMsg struct{ err error }
	tickMsg    struct{}
	sizesMsg   struct{ sizes *dirSizes }
	// sizesDueMsg: the view stayed on a layer and mode for sizesDebounce
	// since request gen.
	sizesDueMsg struct{ gen uint64 }
	matchesMsg  struct {
		seq int
		ms  *matchSet
	}
	debounceMsg struct{ seq int }
	// rowsMsg: where the cursor's row is, and how many rows there are, for
	// the view of generation gen.
	rowsMsg struct {
		gen        uint64
		idx, total int
	}
	rowsDueMsg struct{ gen uint64 }
)

// Model is the root: loading, then ready (or an error that ends it).
type Model struct {
	load   Loader
	prog   *image.Progress
	ctx    context.Context
	cancel context.CancelFunc
	err    error
	rep    *report.Report
	start  time.Time
	files  func() LayerOpener // set by WithLayers
	layers LayerOpener        // what files gave once the report came

	state         state
	width, height int
	styles        Styles
	keys          KeyMap
	help          help.Model

	focus    pane
	layer    int // selected layer
	layerTop int
	leftAdj  int // columns < and > took from or gave to the layers pane
	tv       *treeView
	cursor   pos
	top      pos
	offset   int // cursor row within the pane
	attrs    bool

	findings   findingsList
	waste      wasteList
	viewer     viewer
	findCursor int // the finding n/N last went to

	filter    textinput.Model
	filterSeq int
	filterErr string // why the text typed is not a regular expression

	badges     map[tree.NodeID][]int // findings that name a node
	badgeBelow []bool                // per node: a finding names something under it
	sizes      *sizeCache
	walks      *sizeWalks
	sizeDelay  time.Duration // sizesDebounce; tests set 0
	status     string

	// The cursor's row index and the row count, -1 until counted; rowGen
	// names the view they were counted for.
	rowIdx, rowTotal int
	rowGen           uint64
	rowsDirty        bool
}

// Option configures the explorer.
type Option func(*Model)

// WithLayers lets the viewer (o) read files again: open is called once the
// image has loaded and may return nil when the source cannot be read twice
// (the daemon, a stream).
func WithLayers(open func() LayerOpener) Option {
	return func(m *Model) { m.files = open }
}

// New returns a model that will run load when it starts.
func New(ctx context.Context, load Loader, opts ...Option) Model {
	ctx, cancel := context.WithCancel(ctx)
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "a regular expression or part of a path"
	m := Model{
		load: load, prog: image.NewProgress(), ctx: ctx, cancel: cancel, start: time.Now(),
		width: 80, height: 24, styles: DefaultStyles(true), keys: DefaultKeyMap(), help: help.New(),
		filter: ti, sizes: &sizeCache{}, walks: &sizeWalks{}, sizeDelay: sizesDebounce, findCursor: -1,
		rowIdx: -1, rowTotal: -1,
	}
	m.help.Styles = help.DefaultStyles(true)
	for _, o := range opts {
		o(&m)
	}
	m.setSize(m.width, m.height)
	return m
}

// Err is why the model ended without a report, if it did.
func (m Model) Err() error { return m.err }

func (m Model) Init() tea.Cmd {
	load, ctx, prog := m.load, m.ctx, m.prog
	return tea.Batch(
		func() tea.Msg {
			rep, err := load(ctx, prog)
			if err != nil {
				return loadErrMsg{err}
			}
			return loadedMsg{rep}
		},
		tick(),
		tea.RequestBackgroundColor,
	)
}

func tick() tea.Cmd {
	return tea.Tick(100*time.Millisecond, func(time.Time) tea.Msg { return tickMsg{} })
}

// Update handles a message; when it changed what the files pane shows, the
// rows are counted again (at once when cheap, else in a command).
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := m.update(msg)
	if m.rowsDirty && m.tv != nil {
		m.rowsDirty = false
		cmd = tea.Batch(cmd, m.rowsCmd())
	}
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		m.clampScroll()
		if m.rep != nil {
			m.scrollLayers()
		}
		return m, nil
	case tea.BackgroundColorMsg:
		m.styles = DefaultStyles(msg.IsDark())
		m.help.Styles = help.DefaultStyles(msg.IsDark())
		return m, nil
	case tickMsg:
		if m.rep == nil && m.err == nil {
			return m, tick()
		}
		return m, nil
	case loadErrMsg:
		if m.err == nil { // after a quit, the load ends cancelled: the quit says why
			m.err = msg.err
		}
		return m, tea.Quit
	case loadedMsg:
		m.setReport(msg.rep)
		return m, m.sizesCmd()
	case sizesDueMsg:
		if msg.gen != m.walks.gen.Load() {
			return m, nil // a newer key asked for other sizes
		}
		return m, m.walkCmd(msg.gen)
	case sizesMsg:
		m.sizes.put(msg.sizes)
		if m.tv != nil && msg.sizes.layer == m.tv.layer && msg.sizes.whole == m.tv.whole {
			m.setSizes(msg.sizes)
		}
		return m, nil
	case rowsDueMsg:
		if msg.gen != m.rowGen {
			return m, nil
		}
		return m, m.countCmd(msg.gen)
	case rowsMsg:
		if msg.gen == m.rowGen {
			m.rowIdx, m.rowTotal = msg.idx, msg.total
		}
		return m, nil
	case debounceMsg:
		if msg.seq != m.filterSeq {
			return m, nil
		}
		return m, m.matchCmd()
	case matchesMsg:
		if msg.seq == m.filterSeq && m.tv != nil {
			m.keepCursor(func() { m.tv.matches = msg.ms })
		}
		return m, nil
	case viewerMsg:
		m.viewer = m.viewer.loaded(msg)
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		return m.wheel(msg)
	case tea.MouseClickMsg:
		return m.click(msg)
	}
	return m, nil
}

// setSize sizes the root and every component.
func (m *Model) setSize(w, h int) {
	m.width, m.height = w, h
	m.filter.SetWidth(min(max(w/2, 10), 40)) // without a width, the placeholder shows one letter
	m.findings.SetSize(w, h)
	m.waste.SetSize(w, h)
	m.viewer.SetSize(w, h)
}

// setReport builds the views once the analysis is done.
func (m *Model) setReport(rep *report.Report) {
	m.rep = rep
	m.state = stateBrowse
	m.tv = newTreeView(rep.Tree)
	m.badges = map[tree.NodeID][]int{}
	m.badgeBelow = make([]bool, rep.Tree.Len())
	for i, f := range rep.Findings {
		for _, p := range f.Paths {
			if n, ok := rep.Tree.Lookup(strings.TrimPrefix(p, "/")); ok && n != 0 {
				m.badges[n] = append(m.badges[n], i)
				for a := rep.Tree.Parent(n); a != 0 && !m.badgeBelow[a]; a = rep.Tree.Parent(a) {
					m.badgeBelow[a] = true
				}
			}
		}
	}
	m.findings = newFindingsList(rep.Findings)
	m.waste = newWasteList(rep.Waste)
	m.setSize(m.width, m.height)
	if m.files != nil {
		m.layers = m.files()
	}
	m.layer = max(len(rep.Layers)-1, 0)
	m.tv.layer = m.layer
	m.focus = layersPane
	m.cursor = m.tv.first()
	m.top = m.cursor
	m.offset = 0
	m.clampScroll()
	m.scrollLayers()
	m.rowsDirty = true
}

// inlineNodes is the tree size below which whole-tree work is cheap
// enough to do on the key path.
const inlineNodes = 20_000

// sizesCmd shows the directory sizes of the current layer and mode: at
// once when cached or cheap, else once the keys have paused (sizeDelay)
// and a walk has computed them. Every call makes older walks stale.
func (m *Model) sizesCmd() tea.Cmd {
	if m.tv == nil {
		return nil
	}
	gen := m.walks.gen.Add(1)
	layer, whole, t := m.tv.layer, m.tv.whole, m.tv.t
	if s := m.sizes.get(layer, whole); s != nil {
		m.setSizes(s)
		return nil
	}
	if t.Len() < inlineNodes {
		s := computeSizes(t, m.tv.dirs, layer, whole, nil) // well under a millisecond
		m.sizes.put(s)
		m.setSizes(s)
		return nil
	}
	m.keepCursor(func() {
		m.tv.sizes = nil
		m.tv.order = map[tree.NodeID][]tree.NodeID{}
	})
	if m.sizeDelay <= 0 {
		return func() tea.Msg { return sizesDueMsg{gen} }
	}
	return tea.Tick(m.sizeDelay, func(time.Time) tea.Msg { return sizesDueMsg{gen} })
}

// walkCmd computes the sizes that request gen asked for, off the key
// path; the walk stops, with no message, once a newer request exists.
func (m *Model) walkCmd(gen uint64) tea.Cmd {
	t, dirs, layer, whole, walks := m.tv.t, m.tv.dirs, m.tv.layer, m.tv.whole, m.walks
	return func() tea.Msg {
		walks.started.Add(1)
		s := computeSizes(t, dirs, layer, whole, func() bool { return walks.gen.Load() != gen })
		if s == nil {
			walks.stopped.Add(1)
			return nil
		}
		return sizesMsg{s}
	}
}

func (m *Model) setSizes(s *dirSizes) {
	m.keepCursor(func() {
		m.tv.sizes = s
		m.tv.order = map[tree.NodeID][]tree.NodeID{}
	})
}

// rowsCmd counts the rows of the view as it is now: at once on a small
// tree, else once the keys have paused, in a command on a snapshot.
func (m *Model) rowsCmd() tea.Cmd {
	m.rowGen++
	m.rowIdx, m.rowTotal = -1, -1
	if m.tv.t.Len() < inlineNodes {
		var target tree.NodeID = -1
		if m.cursor != nil {
			target = m.tv.node(m.cursor)
		}
		m.rowIdx, m.rowTotal, _ = m.tv.countRows(target, nil)
		return nil
	}
	gen := m.rowGen
	if m.sizeDelay <= 0 {
		return func() tea.Msg { return rowsDueMsg{gen} }
	}
	return tea.Tick(m.sizeDelay, func(time.Time) tea.Msg { return rowsDueMsg{gen} })
}

// countCmd counts the rows for generation gen on a snapshot of the view.
func (m *Model) countCmd(gen uint64) tea.Cmd {
	snap := m.tv.snapshot()
	var target tree.NodeID = -1
	if m.cursor != nil {
		target = m.tv.node(m.cursor)
	}
	walks := m.walks
	sizesGen := walks.gen.Load()
	return func() tea.Msg {
		// stale once anything newer asked for a walk of the tree
		idx, total, ok := snap.countRows(target, func() bool { return walks.gen.Load() != sizesGen })
		if !ok {
			return nil
		}
		return rowsMsg{gen, idx, total}
	}
}

// matchCmd runs the path filter on an immutable tree, off the key path.
// Text that is not a regular expression keeps the last result.
func (m *Model) matchCmd() tea.Cmd {
	pattern, seq, t := m.filter.Value(), m.filterSeq, m.tv.t
	m.filterErr = ""
	if pattern == "" {
		m.keepCursor(func() { m.tv.matches = nil })
		return nil
	}
	re, err := compileFilter(pattern)
	if err != nil {
		m.filterErr = "not a regexp"
		return nil
	}
	return func() tea.Msg { return matchesMsg{seq, computeMatches(t, pattern, re)} }
}

// keepCursor applies a change to the view and keeps the cursor on the same
// entry when it still shows, else on the first row.
func (m *Model) keepCursor(change func()) {
	var at tree.NodeID = -1
	if m.cursor != nil {
		at = m.tv.node(m.cursor)
	}
	change()
	m.cursor = nil
	if at >= 0 {
		m.cursor = m.tv.find(at)
	}
	if m.cursor == nil {
		m.cursor = m.tv.first()
		m.offset = 0
	}
	m.clampScroll()
	m.rowsDirty = true
}

// rows is how many file rows fit.
func (m *Model) rows() int {
	return max(1, m.height-4)
}

// clampScroll recomputes top from the cursor and its row offset. The
// cursor keeps its row on screen unless that would leave blank rows at the
// bottom while rows above are hidden: then the view scrolls up to fill.
func (m *Model) clampScroll() {
	if m.tv == nil {
		return
	}
	m.offset = min(max(m.offset, 0), m.rows()-1)
	if m.cursor == nil {
		m.top = nil
		m.offset = 0
		return
	}
	m.top = m.cursor
	for i := 0; i < m.offset; i++ {
		p := m.tv.prev(m.top)
		if p == nil {
			m.offset = i
			break
		}
		m.top = p
	}
	below := 0
	for p := m.tv.next(m.cursor); p != nil && below < m.rows()-1-m.offset; p = m.tv.next(p) {
		below++
	}
	for short := m.rows() - 1 - m.offset - below; short > 0; short-- {
		p := m.tv.prev(m.top)
		if p == nil {
			break
		}
		m.top = p
		m.offset++
	}
}

func (m Model) key(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch m.state {
	case stateLoading:
		if key.Matches(msg, k.Quit) {
			m.cancel()
			m.err = ErrQuit
			return m, tea.Quit
		}
		return m, nil
	case stateFilter:
		return m.filterKey(msg)
	case stateHelp:
		if key.Matches(msg, k.Quit) {
			return m, tea.Quit
		}
		m.state = stateBrowse
		return m, nil
	case stateFindings:
		switch {
		case key.Matches(msg, k.NextFinding):
			m.state = stateBrowse
			return m.gotoFinding(m.findCursor + 1)
		case key.Matches(msg, k.PrevFinding):
			m.state = stateBrowse
			return m.gotoFinding(m.findCursor - 1)
		}
		var act listAction
		m.findings, act = m.findings.Update(msg, k)
		return m.listAction(act, Model.gotoFinding)
	case stateWaste:
		var act listAction
		m.waste, act = m.waste.Update(msg, k)
		return m.listAction(act, Model.gotoWaste)
	case stateViewer:
		var act listAction
		m.viewer, act = m.viewer.Update(msg, k)
		return m.listAction(act, nil)
	}
	return m.browseKey(msg)
}

// listAction carries out what an overlay asked for.
func (m Model) listAction(act listAction, jump func(Model, int) (Model, tea.Cmd)) (Model, tea.Cmd) {
	switch act.kind {
	case actQuit:
		m.cancel()
		return m, tea.Quit
	case actClose:
		m.state = stateBrowse
	case actJump:
		m.state = stateBrowse
		if jump != nil {
			return jump(m, act.index)
		}
	}
	return m, nil
}

func (m Model) filterKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Interrupt):
		m.cancel()
		return m, tea.Quit
	case key.Matches(msg, k.ClearFilter):
		m.state = stateBrowse
		m.filter.Blur()
		m.filter.SetValue("")
		m.filterSeq++
		return m, m.matchCmd()
	case key.Matches(msg, k.Accept):
		m.state = stateBrowse
		m.filter.Blur()
		m.focus = filesPane
		return m, nil
	}
	var cmd tea.Cmd
	before := m.filter.Value()
	m.filter, cmd = m.filter.Update(msg)
	if v := m.filter.Value(); v != before {
		m.filterSeq++
		m.filterErr = ""
		if _, err := compileFilter(v); err != nil && v != "" {
			m.filterErr = "not a regexp"
		}
		seq := m.filterSeq
		return m, tea.Batch(cmd, tea.Tick(120*time.Millisecond, func(time.Time) tea.Msg { return debounceMsg{seq} }))
	}
	return m, cmd
}

func (m Model) browseKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	if key.Matches(msg, k.Quit) {
		m.cancel()
		return m, tea.Quit
	}
	m.status = "" // a message lasts until the next key
	switch {
	case key.Matches(msg, k.Help):
		m.state = stateHelp
	case key.Matches(msg, k.SwitchPane):
		m.focus = 1 - m.focus
	case key.Matches(msg, k.Findings):
		if len(m.rep.Findings) == 0 {
			m.status = "no findings: nothing left behind that layerscope knows of"
			break
		}
		if m.focus == filesPane && m.cursor != nil {
			if i, ok := m.findingFor(m.tv.node(m.cursor)); ok {
				m.findings.Select(i)
			}
		}
		m.state = stateFindings
	case key.Matches(msg, k.Wasted):
		if len(m.rep.Waste) == 0 {
			m.status = "no wasted files: nothing ships that a later layer hides"
			break
		}
		m.state = stateWaste
	case key.Matches(msg, k.NextFinding):
		return m.gotoFinding(m.findCursor + 1)
	case key.Matches(msg, k.PrevFinding):
		if m.findCursor < 0 {
			return m.gotoFinding(len(m.rep.Findings) - 1)
		}
		return m.gotoFinding(m.findCursor - 1)
	case key.Matches(msg, k.LayerMode):
		m.keepCursor(func() { m.tv.whole = !m.tv.whole })
		return m, m.sizesCmd()
	case key.Matches(msg, k.Filter):
		m.state = stateFilter
		m.focus = filesPane
		return m, m.filter.Focus()
	case key.Matches(msg, k.ClearFilter):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.filterSeq++
			return m, m.matchCmd()
		}
	case key.Matches(msg, k.Added):
		m.toggleHide(tree.Added)
	case key.Matches(msg, k.Modified):
		m.toggleHide(tree.Modified)
	case key.Matches(msg, k.Removed):
		m.toggleHide(tree.Removed)
	case key.Matches(msg, k.Unchanged):
		m.toggleHide(tree.Unchanged)
	case key.Matches(msg, k.Sort):
		m.keepCursor(func() {
			m.tv.bySize = !m.tv.bySize
			m.tv.order = map[tree.NodeID][]tree.NodeID{}
		})
	case key.Matches(msg, k.Attributes):
		m.attrs = !m.attrs
	case key.Matches(msg, k.Wider):
		m.resizeLeft(+4)
	case key.Matches(msg, k.Narrower):
		m.resizeLeft(-4)
	case m.focus == layersPane:
		return m.layersKey(msg)
	default:
		return m.filesKey(msg)
	}
	return m, nil
}

// resizeLeft widens (d > 0) or narrows the layers pane, within bounds.
func (m *Model) resizeLeft(d int) {
	before := m.leftWidth()
	m.leftAdj += d
	after := m.leftWidth()
	m.leftAdj -= d - (after - before) // what the bounds refused is not kept
}

func (m *Model) toggleHide(c tree.Change) {
	m.keepCursor(func() { m.tv.hide[c] = !m.tv.hide[c] })
}

func (m Model) layersKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	n := len(m.rep.Layers)
	if n == 0 {
		return m, nil
	}
	sel := m.layer
	switch {
	case key.Matches(msg, k.Up):
		sel--
	case key.Matches(msg, k.Down):
		sel++
	case key.Matches(msg, k.PageUp):
		sel -= m.layerRows()
	case key.Matches(msg, k.PageDown):
		sel += m.layerRows()
	case key.Matches(msg, k.Home):
		sel = 0
	case key.Matches(msg, k.End):
		sel = n - 1
	case key.Matches(msg, k.Jump), key.Matches(msg, k.Expand):
		m.focus = filesPane
		return m, nil
	default:
		return m, nil
	}
	return m, m.selectLayer(min(max(sel, 0), n-1))
}

// selectLayer shows another layer: what is visible follows at once; the
// directory sizes follow when computed.
func (m *Model) selectLayer(l int) tea.Cmd {
	if l == m.layer || l < 0 || l >= len(m.rep.Layers) {
		return nil
	}
	m.layer = l
	m.scrollLayers()
	m.keepCursor(func() { m.tv.layer = l })
	return m.sizesCmd()
}

func (m Model) filesKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	if m.cursor == nil {
		return m, nil
	}
	n := m.tv.node(m.cursor)
	meta, _, _ := m.tv.state(n)
	isDir := meta.Kind == tree.KindDir
	switch {
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.move(-m.rows())
	case key.Matches(msg, k.PageDown):
		m.move(m.rows())
	case key.Matches(msg, k.Home):
		m.cursor, m.offset = m.tv.first(), 0
		m.clampScroll()
		if m.rowTotal >= 0 {
			m.rowIdx = 0
		}
	case key.Matches(msg, k.End):
		m.cursor, m.offset = m.tv.last(), m.rows()-1
		m.clampScroll()
		if m.rowTotal >= 0 {
			m.rowIdx = m.rowTotal - 1
		}
	case key.Matches(msg, k.Open), key.Matches(msg, k.Jump) && !isDir:
		return m.openViewer(n)
	case key.Matches(msg, k.Toggle), key.Matches(msg, k.Jump):
		if isDir {
			m.keepCursor(func() { m.tv.collapse[n] = !m.tv.collapse[n] })
		}
	case key.Matches(msg, k.Expand):
		if isDir {
			m.keepCursor(func() { delete(m.tv.collapse, n) })
		}
	case key.Matches(msg, k.Collapse):
		if isDir && !m.tv.collapse[n] {
			m.keepCursor(func() { m.tv.collapse[n] = true })
		} else if len(m.cursor) > 1 {
			m.cursor = m.cursor[:len(m.cursor)-1].clone()
			m.clampScroll()
			m.rowsDirty = true
		}
	case key.Matches(msg, k.CollapseAll):
		m.keepCursor(func() {
			for _, c := range m.tv.t.Children(0) {
				m.tv.collapse[c] = true
			}
		})
		m.cursor = m.tv.find(m.topLevel(n))
		m.clampScroll()
	case key.Matches(msg, k.ExpandAll):
		m.keepCursor(func() { clear(m.tv.collapse) })
	}
	return m, nil
}

// topLevel is the top-level directory that holds n.
func (m *Model) topLevel(n tree.NodeID) tree.NodeID {
	for m.tv.t.Parent(n) != 0 {
		n = m.tv.t.Parent(n)
	}
	return n
}

// scrollLayers keeps the selected layer in the rows the layers pane shows.
func (m *Model) scrollLayers() {
	n := m.layerRows()
	m.layerTop = min(m.layerTop, m.layer)
	if m.layer >= m.layerTop+n {
		m.layerTop = m.layer - n + 1
	}
	m.layerTop = max(min(m.layerTop, len(m.rep.Layers)-n), 0)
}

// move steps the cursor by d rows, scrolling at the edges.
func (m *Model) move(d int) {
	if m.cursor == nil {
		return
	}
	moved := 0
	for ; d > 0; d-- {
		p := m.tv.next(m.cursor)
		if p == nil {
			break
		}
		m.cursor = p
		moved++
		if m.offset < m.rows()-1 {
			m.offset++
		} else {
			m.top = m.tv.next(m.top)
		}
	}
	for ; d < 0; d++ {
		p := m.tv.prev(m.cursor)
		if p == nil {
			break
		}
		m.cursor = p
		moved--
		if m.offset > 0 {
			m.offset--
		} else {
			m.top = p
		}
	}
	if m.rowIdx >= 0 {
		m.rowIdx += moved
	}
}

// gotoFinding selects finding i's layer and reveals its path; a finding
// with no path (the image runs as root, a build argument) is shown in the
// status line, with its layer selected.
func (m Model) gotoFinding(i int) (Model, tea.Cmd) {
	fs := m.rep.Findings
	if len(fs) == 0 {
		m.status = "no findings: nothing left behind that layerscope knows of"
		return m, nil
	}
	i = (i%len(fs) + len(fs)) % len(fs)
	m.findCursor = i
	m.findings.Select(i)
	f := fs[i]
	cmd := m.selectLayer(f.Layer)
	head := fmt.Sprintf("finding %d of %d · ", i+1, len(fs))
	var n tree.NodeID
	ok := false
	if len(f.Paths) > 0 {
		n, ok = m.tv.t.Lookup(strings.TrimPrefix(f.Paths[0], "/"))
	}
	if !ok || n == 0 {
		// No path to show: the finding itself, whole, over its layer.
		m.focus = layersPane
		m.state = stateFindings
		return m, cmd
	}
	var c tea.Cmd
	if c, ok = m.reveal(n); !ok {
		m.status = head + "its path is hidden by a filter: esc clears it"
	} else {
		m.status = head + f.Severity + ": " + report.Escape(f.Message)
	}
	return m, tea.Batch(cmd, c)
}

// reveal moves the cursor to n, expanding the directories above it and
// showing the whole image when the layer's changes do not hold it.
func (m *Model) reveal(n tree.NodeID) (tea.Cmd, bool) {
	var cmd tea.Cmd
	for a := m.tv.t.Parent(n); a != 0; a = m.tv.t.Parent(a) {
		delete(m.tv.collapse, a)
	}
	p := m.tv.find(n)
	if p == nil && !m.tv.whole {
		m.tv.whole = true
		cmd = m.sizesCmd()
		p = m.tv.find(n)
	}
	if p == nil {
		return cmd, false
	}
	m.cursor = p
	m.offset = m.rows() / 3
	m.clampScroll()
	m.focus = filesPane
	m.rowsDirty = true
	return cmd, true
}

// gotoWaste selects the layer that shipped wasted path i and reveals it.
func (m Model) gotoWaste(i int) (Model, tea.Cmd) {
	w := m.waste.items[i]
	var cmd tea.Cmd
	if len(w.Layers) > 0 {
		cmd = m.selectLayer(w.Layers[0])
	}
	n, ok := m.tv.t.Lookup(strings.TrimPrefix(w.Path, "/"))
	if !ok {
		return m, cmd
	}
	c, shown := m.reveal(n)
	if !shown {
		m.status = "/" + report.Escape(w.Path) + " is hidden by a filter: esc clears it"
	} else {
		m.status = fmt.Sprintf("%s wasted: layer %s shipped /%s, a later one hid it", report.Size(w.Bytes), report.Escape(layerList(w.Layers)), report.Escape(strings.TrimPrefix(w.Path, "/")))
	}
	return m, tea.Batch(cmd, c)
}

func layerList(ls []int) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = fmt.Sprint(l)
	}
	return strings.Join(s, ", ")
}

func (m Model) wheel(msg tea.MouseWheelMsg) (Model, tea.Cmd) {
	if m.state != stateBrowse {
		return m, nil
	}
	d := 0
	switch msg.Button {
	case tea.MouseWheelUp:
		d = -3
	case tea.MouseWheelDown:
		d = 3
	}
	if msg.X < m.leftWidth() {
		return m, m.selectLayer(min(max(m.layer+d/3, 0), len(m.rep.Layers)-1))
	}
	m.move(d)
	return m, nil
}

func (m Model) click(msg tea.MouseClickMsg) (Model, tea.Cmd) {
	if m.state != stateBrowse || msg.Button != tea.MouseLeft {
		return m, nil
	}
	row := msg.Y - 2 // title and pane header
	if msg.X < m.leftWidth() {
		m.focus = layersPane
		if l := m.layerTop + row; row >= 0 && l < len(m.rep.Layers) && row < m.layerRows() {
			return m, m.selectLayer(l)
		}
		return m, nil
	}
	m.focus = filesPane
	if row >= 0 && row < m.rows() {
		m.move(row - m.offset)
	}
	return m, nil
}

// ErrQuit is what Run returns when the user quits before the analysis
// has finished: their choice, not a failure. It also matches
// context.Canceled (errors.Is), as an interrupt does, so that a caller
// can treat both alike (exit 130).
var ErrQuit error = quitError{}

type quitError struct{}

func (quitError) Error() string        { return "quit before the analysis finished" }
func (quitError) Is(target error) bool { return target == context.Canceled }

// Run opens the explorer, analyses the image with load while it shows
// progress, and returns the report once the user quits. A user who quits
// before the report is ready gets ErrQuit; a load that fails returns its
// error.
func Run(ctx context.Context, load Loader, opts ...Option) (*report.Report, error) {
	return run(ctx, load, opts)
}

func run(ctx context.Context, load Loader, opts []Option, popts ...tea.ProgramOption) (*report.Report, error) {
	final, err := tea.NewProgram(New(ctx, load, opts...), append([]tea.ProgramOption{tea.WithContext(ctx)}, popts...)...).Run()
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	m := final.(Model)
	if m.err != nil {
		return nil, m.err
	}
	return m.rep, nil
}
