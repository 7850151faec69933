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

	width, height int
	styles        Styles
	keys          KeyMap
	help          help.Model

	focus    pane
	layer    int // selected layer
	layerTop int
	tv       *treeView
	cursor   pos
	top      pos
	offset   int // cursor row within the pane
	attrs    bool

	showHelp     bool
	showFindings bool
	findSel      int
	findCursor   int // the finding n/N last went to

	filtering bool
	filter    textinput.Model
	filterSeq int

	badges    map[tree.NodeID][]int // findings that name a node
	sizes     *sizeCache
	walks     *sizeWalks
	sizeDelay time.Duration // sizesDebounce; tests set 0
	status    string
}

// New returns a model that will run load when it starts.
func New(ctx context.Context, load Loader) Model {
	ctx, cancel := context.WithCancel(ctx)
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "part of a path"
	m := Model{
		load: load, prog: image.NewProgress(), ctx: ctx, cancel: cancel, start: time.Now(),
		width: 80, height: 24, styles: DefaultStyles(true), keys: DefaultKeyMap(), help: help.New(),
		filter: ti, sizes: &sizeCache{}, walks: &sizeWalks{}, sizeDelay: sizesDebounce, findCursor: -1,
	}
	m.help.Styles = help.DefaultStyles(true)
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

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
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
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		return m.wheel(msg)
	case tea.MouseClickMsg:
		return m.click(msg)
	}
	return m, nil
}

// setReport builds the views once the analysis is done.
func (m *Model) setReport(rep *report.Report) {
	m.rep = rep
	m.tv = newTreeView(rep.Tree)
	m.badges = map[tree.NodeID][]int{}
	for i, f := range rep.Findings {
		for _, p := range f.Paths {
			if n, ok := rep.Tree.Lookup(strings.TrimPrefix(p, "/")); ok {
				m.badges[n] = append(m.badges[n], i)
			}
		}
	}
	m.layer = max(len(rep.Layers)-1, 0)
	m.tv.layer = m.layer
	m.focus = layersPane
	m.cursor = m.tv.first()
	m.top = m.cursor
	m.clampScroll()
	m.scrollLayers()
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

// matchCmd runs the path filter on an immutable tree, off the key path.
func (m *Model) matchCmd() tea.Cmd {
	pattern, seq, t := m.filter.Value(), m.filterSeq, m.tv.t
	if pattern == "" {
		m.keepCursor(func() { m.tv.matches = nil })
		return nil
	}
	return func() tea.Msg { return matchesMsg{seq, computeMatches(t, pattern)} }
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
}

// rows is how many file rows fit.
func (m *Model) rows() int {
	return max(1, m.height-4)
}

// clampScroll recomputes top from the cursor and its row offset.
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
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	if m.rep == nil {
		if key.Matches(msg, k.Quit) {
			m.cancel()
			m.err = ErrQuit
			return m, tea.Quit
		}
		return m, nil
	}
	if m.filtering {
		switch msg.String() {
		case "ctrl+c":
			return m, tea.Quit
		case "esc":
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.filterSeq++
			return m, m.matchCmd()
		case "enter", "tab":
			m.filtering = false
			m.filter.Blur()
			m.focus = filesPane
			return m, nil
		}
		var cmd tea.Cmd
		before := m.filter.Value()
		m.filter, cmd = m.filter.Update(msg)
		if m.filter.Value() != before {
			m.filterSeq++
			seq := m.filterSeq
			return m, tea.Batch(cmd, tea.Tick(120*time.Millisecond, func(time.Time) tea.Msg { return debounceMsg{seq} }))
		}
		return m, cmd
	}
	if m.showHelp {
		if key.Matches(msg, k.Quit) {
			return m, tea.Quit
		}
		m.showHelp = false
		return m, nil
	}
	if m.showFindings {
		return m.findingsKey(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.cancel()
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.SwitchPane):
		m.focus = 1 - m.focus
	case key.Matches(msg, k.Findings):
		if len(m.rep.Findings) > 0 {
			m.showFindings = true
		} else {
			m.status = "no findings: nothing left behind that layerscope knows of"
		}
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
		m.filtering = true
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
	case m.focus == layersPane:
		return m.layersKey(msg)
	default:
		return m.filesKey(msg)
	}
	return m, nil
}

func (m *Model) toggleHide(c tree.Change) {
	m.keepCursor(func() { m.tv.hide[c] = !m.tv.hide[c] })
}

func (m Model) layersKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
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
		sel -= 10
	case key.Matches(msg, k.PageDown):
		sel += 10
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

func (m Model) filesKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
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
	case key.Matches(msg, k.End):
		m.cursor, m.offset = m.tv.last(), m.rows()-1
		m.clampScroll()
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
	for ; d > 0; d-- {
		p := m.tv.next(m.cursor)
		if p == nil {
			break
		}
		m.cursor = p
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
		if m.offset > 0 {
			m.offset--
		} else {
			m.top = p
		}
	}
}

// gotoFinding selects finding i's layer and reveals its path.
func (m Model) gotoFinding(i int) (tea.Model, tea.Cmd) {
	fs := m.rep.Findings
	if len(fs) == 0 {
		m.status = "no findings"
		return m, nil
	}
	i = (i%len(fs) + len(fs)) % len(fs)
	m.findCursor, m.findSel = i, i
	f := fs[i]
	cmd := m.selectLayer(f.Layer)
	m.status = ""
	if len(f.Paths) > 0 {
		if n, ok := m.tv.t.Lookup(strings.TrimPrefix(f.Paths[0], "/")); ok {
			for a := m.tv.t.Parent(n); a != 0; a = m.tv.t.Parent(a) {
				delete(m.tv.collapse, a)
			}
			p := m.tv.find(n)
			if p == nil && !m.tv.whole {
				m.tv.whole = true
				cmd = tea.Batch(cmd, m.sizesCmd())
				p = m.tv.find(n)
			}
			if p != nil {
				m.cursor = p
				m.offset = m.rows() / 3
				m.clampScroll()
				m.focus = filesPane
			} else {
				m.status = "the finding's path is hidden by a filter: esc clears it"
			}
		}
	}
	m.status = fmt.Sprintf("finding %d of %d · ", i+1, len(fs)) + m.status
	return m, cmd
}

func (m Model) findingsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.findSel = max(m.findSel-1, 0)
	case key.Matches(msg, k.Down):
		m.findSel = min(m.findSel+1, len(m.rep.Findings)-1)
	case key.Matches(msg, k.Home):
		m.findSel = 0
	case key.Matches(msg, k.End):
		m.findSel = len(m.rep.Findings) - 1
	case key.Matches(msg, k.Jump):
		m.showFindings = false
		return m.gotoFinding(m.findSel)
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Findings), msg.String() == "esc":
		m.showFindings = false
	}
	return m, nil
}

func (m Model) wheel(msg tea.MouseWheelMsg) (tea.Model, tea.Cmd) {
	if m.rep == nil {
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

func (m Model) click(msg tea.MouseClickMsg) (tea.Model, tea.Cmd) {
	if m.rep == nil || msg.Button != tea.MouseLeft {
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
func Run(ctx context.Context, load Loader) (*report.Report, error) {
	return run(ctx, load)
}

func run(ctx context.Context, load Loader, opts ...tea.ProgramOption) (*report.Report, error) {
	final, err := tea.NewProgram(New(ctx, load), append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)...).Run()
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	m := final.(Model)
	if m.err != nil {
		return nil, m.err
	}
	return m.rep, nil
}
