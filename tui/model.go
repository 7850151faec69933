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

	"charm.land/bubbles/v2/key"
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

// The root's messages; each component declares its own.
type (
	loadedMsg struct {
		rep  *report.Report
		diff *diffData // layerscope diff's, with rep NEW's report
	}
	loadErrMsg struct{ err error }
	tickMsg    struct{}
)

// Model is the root: a state machine (loading, then the panes or one
// overlay, or an error that ends it). It routes each key by state, lays
// out the panes and draws the overlays; the components do the rest.
type Model struct {
	load   Loader
	prog   *image.Progress
	ctx    context.Context
	cancel context.CancelFunc
	err    error
	rep    *report.Report
	opener func() LayerOpener // set by WithLayers
	source LayerOpener        // what opener gave once the report came

	state         state
	width, height int
	c             *common

	focus   pane
	leftAdj int // columns < and > took from or gave to the layers pane
	status  string

	layers     layerList
	files      fileTree
	findings   findingsList
	waste      wasteList
	viewer     viewer
	keyHelp    keyHelp
	findCursor int // the finding n/N last went to

	diff diffState // layerscope diff's: what shows, and the other view
}

// Option configures the explorer.
type Option func(*Model)

// WithLayers lets the viewer (o) read files again: open is called once the
// image has loaded and may return nil when the source cannot be read twice
// (the daemon, a stream).
func WithLayers(open func() LayerOpener) Option {
	return func(m *Model) { m.opener = open }
}

// New returns a model that will run load when it starts.
func New(ctx context.Context, load Loader, opts ...Option) Model {
	ctx, cancel := context.WithCancel(ctx)
	c := newCommon(true)
	m := Model{
		load: load, prog: image.NewProgress(), ctx: ctx, cancel: cancel,
		width: 80, height: 24, c: c, files: newFileTree(c), viewer: viewer{c: c}, keyHelp: keyHelp{c: c}, findCursor: -1,
	}
	for _, o := range opts {
		o(&m)
	}
	m.setSize(m.width, m.height)
	return m
}

// Err is why the model ended without a report, if it did.
func (m Model) Err() error { return m.err }

func (m Model) Init() tea.Cmd {
	load, ctx, prog, loadDiff := m.load, m.ctx, m.prog, m.diff.load
	return tea.Batch(
		func() tea.Msg {
			rep, err := load(ctx, prog)
			if err != nil {
				return loadErrMsg{err}
			}
			if loadDiff == nil {
				return loadedMsg{rep: rep}
			}
			dd, err := loadDiff(ctx)
			if err != nil {
				return loadErrMsg{err}
			}
			return loadedMsg{rep: rep, diff: dd}
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
	if c := m.files.recount(); c != nil {
		cmd = tea.Batch(cmd, c)
	}
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, nil
	case tea.BackgroundColorMsg:
		m.c.setBackground(msg.IsDark())
		return m, nil
	case tickMsg:
		if m.state == stateLoading && m.err == nil {
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
		if msg.diff != nil {
			m.setDiff(msg.diff)
		}
		return m, m.files.sizesCmd()
	case paneMsg:
		if m.state == stateLoading {
			return m, nil
		}
		// The pane that asked: with layerscope diff, the one not shown may.
		var cmd tea.Cmd
		if p := msg.paneOf(); p != nil && m.diff.data != nil && p == m.diff.other.walks {
			m.diff.other, cmd = m.diff.other.Update(msg)
			return m, cmd
		}
		m.files, cmd = m.files.Update(msg)
		return m, cmd
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

// setSize sizes the root and lays out every component.
func (m *Model) setSize(w, h int) {
	m.width, m.height = w, h
	m.files.SetPromptWidth(min(max(w/2, 10), 40))
	m.findings.SetSize(w, h)
	if m.diff.data != nil {
		m.diff.otherFindings.SetSize(w, h)
	}
	m.waste.SetSize(w, h)
	m.viewer.SetSize(w, h)
	m.keyHelp.SetSize(w, h)
	m.layout()
}

// layout splits the screen between the panes: the title above, the
// status and the footer below, a separator between.
func (m *Model) layout() {
	if m.rep == nil {
		return
	}
	lw := m.leftWidth()
	bodyH := max(m.height-3, 1)
	m.layers.SetSize(lw, bodyH)
	m.files.SetSize(max(m.width-lw-1, 1), bodyH)
	if m.diff.data != nil {
		m.diff.other.SetSize(max(m.width-lw-1, 1), bodyH)
	}
}

// setReport builds the panes and overlays once the analysis is done.
func (m *Model) setReport(rep *report.Report) {
	m.rep = rep
	m.state = stateBrowse
	m.layers = newLayerList(m.c, rep)
	m.files.load(rep)
	m.findings = newFindingsList(m.c, rep.Findings)
	m.waste = newWasteList(m.c, rep.Waste)
	if m.opener != nil {
		m.source = m.opener()
	}
	m.focus = layersPane
	m.setSize(m.width, m.height)
}

// key routes a key by state: one component has the keyboard at a time.
func (m Model) key(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.c.keys
	switch m.state {
	case stateLoading:
		if key.Matches(msg, k.Quit) {
			m.cancel()
			m.err = ErrQuit
			return m, tea.Quit
		}
		return m, nil
	case stateFilter:
		var cmd tea.Cmd
		var act action
		m.files, cmd, act = m.files.Key(msg, true)
		m2, c := m.act(act, nil)
		return m2, tea.Batch(cmd, c)
	case stateHelp:
		var act action
		m.keyHelp, act = m.keyHelp.Update(msg)
		return m.act(act, nil)
	case stateFindings:
		switch {
		case key.Matches(msg, k.NextFinding):
			m.state = stateBrowse
			return m.gotoFinding(m.findings.sel + 1) // from the one highlighted
		case key.Matches(msg, k.PrevFinding):
			m.state = stateBrowse
			return m.gotoFinding(m.findings.sel - 1)
		}
		var act action
		m.findings, act = m.findings.Update(msg)
		return m.act(act, Model.gotoFinding)
	case stateWaste:
		var act action
		m.waste, act = m.waste.Update(msg)
		return m.act(act, Model.gotoWaste)
	case stateViewer:
		var act action
		m.viewer, act = m.viewer.Update(msg)
		return m.act(act, nil)
	}
	return m.browseKey(msg)
}

// act carries out what a component asked for; jump goes to an overlay's
// item.
func (m Model) act(a action, jump func(Model, int) (Model, tea.Cmd)) (Model, tea.Cmd) {
	switch a.kind {
	case actQuit:
		m.cancel()
		return m, tea.Quit
	case actClose:
		m.state = stateBrowse
	case actJump:
		m.state = stateBrowse
		if jump != nil {
			return jump(m, a.index)
		}
	case actSelect:
		return m, m.selectLayer(a.index)
	case actFiles:
		m.state = stateBrowse
		m.focus = filesPane
	case actFilter:
		m.state = stateFilter
		m.focus = filesPane
	case actOpen:
		return m.openViewer(tree.NodeID(a.index))
	}
	return m, nil
}

// browseKey: the keys of the whole explorer first, then the view's
// settings (from either pane), then the focused pane's moves.
func (m Model) browseKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.c.keys
	if key.Matches(msg, k.Quit) {
		m.cancel()
		return m, tea.Quit
	}
	m.status = "" // a message lasts until the next key
	switch {
	case key.Matches(msg, k.DiffView) && m.diff.data != nil:
		return m.toggleDiff()
	case key.Matches(msg, k.Help):
		m.state = stateHelp
	case key.Matches(msg, k.SwitchPane):
		m.focus = 1 - m.focus
	case key.Matches(msg, k.Findings):
		if len(m.findings.fs) == 0 {
			m.status = m.noFindings()
			break
		}
		if n, ok := m.files.current(); m.focus == filesPane && ok {
			if i, ok := m.files.findingFor(n); ok {
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
			return m.gotoFinding(len(m.findings.fs) - 1)
		}
		return m.gotoFinding(m.findCursor - 1)
	case key.Matches(msg, k.Attributes):
		m.files.attrs = !m.files.attrs
		if m.files.attrs {
			switch m.files.attrColumns() {
			case attrsMode:
				m.status = "no room for owners here: < narrows the layers pane"
			case attrsNone:
				m.status = "no room for modes here: < narrows the layers pane"
			}
		}
	case key.Matches(msg, k.Wider):
		m.resizeLeft(+4)
	case key.Matches(msg, k.Narrower):
		m.resizeLeft(-4)
	case m.focus == layersPane && !m.files.viewKey(msg):
		var act action
		m.layers, act = m.layers.Update(msg)
		return m.act(act, nil)
	default:
		var cmd tea.Cmd
		var act action
		m.files, cmd, act = m.files.Key(msg, m.focus == filesPane)
		m, c := m.act(act, nil)
		return m, tea.Batch(cmd, c)
	}
	return m, nil
}

// resizeLeft widens (d > 0) or narrows the layers pane, within bounds.
func (m *Model) resizeLeft(d int) {
	before := m.leftWidth()
	m.leftAdj += d
	after := m.leftWidth()
	m.leftAdj -= d - (after - before) // what the bounds refused is not kept
	m.layout()
}

// selectLayer shows another layer in both panes (the difference is of
// the whole images: its files stay).
func (m *Model) selectLayer(l int) tea.Cmd {
	if l == m.layers.sel || l < 0 || l >= len(m.rep.Layers) {
		return nil
	}
	m.layers.Select(l)
	if m.diff.shown() {
		return nil
	}
	return m.files.SetLayer(l)
}

// noFindings is what f, n and N say when the list is empty.
func (m Model) noFindings() string {
	if m.diff.shown() {
		return "no new or fixed findings: NEW and OLD leave the same things behind"
	}
	return "no findings: nothing left behind that layerscope knows of"
}

// gotoFinding selects finding i's layer and reveals its path; a finding
// with no path (the image runs as root, a build argument) is shown in the
// status line, with its layer selected.
func (m Model) gotoFinding(i int) (Model, tea.Cmd) {
	fs := m.findings.fs
	if len(fs) == 0 {
		m.status = m.noFindings()
		return m, nil
	}
	i = (i%len(fs) + len(fs)) % len(fs)
	m.findCursor = i
	m.findings.Select(i)
	f := fs[i]
	var cmd tea.Cmd
	head := fmt.Sprintf("finding %d of %d · ", i+1, len(fs))
	if m.findings.diff.fixed(i) {
		head = fmt.Sprintf("fixed finding %d of %d · ", i+1, len(fs)) // its layer is OLD's
	} else {
		cmd = m.selectLayer(f.Layer)
		if m.findings.diff != nil {
			head = "new " + head
		}
	}
	var n tree.NodeID
	ok := false
	if len(f.Paths) > 0 {
		n, ok = m.files.tv.t.Lookup(strings.TrimPrefix(f.Paths[0], "/"))
	}
	if !ok || n == 0 {
		// No path to show: the finding itself, whole, over its layer, and
		// a line in the list that says so.
		m.focus = layersPane
		m.state = stateFindings
		m.findings.note = fmt.Sprintf("%snames no path to show: it is about layer %d, selected behind this list (esc)", head, f.Layer)
		if m.findings.diff.fixed(i) {
			m.findings.note = head + "names no path to show: OLD had it, NEW has not"
		}
		m.findings.top = m.findings.scroll()
		return m, cmd
	}
	c, ok := m.reveal(n)
	if !ok {
		m.status = head + "its path is hidden; " + m.files.hiddenBy(n)
	} else {
		m.status = head + string(f.Severity) + ": " + report.Escape(f.Message)
	}
	return m, tea.Batch(cmd, c)
}

// reveal shows n in the files pane, which takes the keys.
func (m *Model) reveal(n tree.NodeID) (tea.Cmd, bool) {
	cmd, ok := m.files.reveal(n)
	if ok {
		m.focus = filesPane
	}
	return cmd, ok
}

// gotoWaste selects the layer that shipped wasted path i and reveals it,
// in NEW alone when the difference shows.
func (m Model) gotoWaste(i int) (Model, tea.Cmd) {
	w := m.waste.items[i]
	var cmd tea.Cmd
	if m.diff.shown() {
		m, cmd = m.toggleDiff()
	}
	if len(w.Layers) > 0 {
		cmd = tea.Batch(cmd, m.selectLayer(w.Layers[0]))
	}
	n, ok := m.rep.Tree.Lookup(strings.TrimPrefix(w.Path, "/"))
	if !ok {
		return m, cmd
	}
	c, shown := m.reveal(n)
	if !shown {
		m.status = "/" + report.Escape(strings.TrimPrefix(w.Path, "/")) + " is hidden; " + m.files.hiddenBy(n)
	} else {
		m.status = fmt.Sprintf("%s wasted: layer %s shipped /%s, a later one hid it", report.Size(w.Bytes), report.Escape(layerNumbers(w.Layers)), report.Escape(strings.TrimPrefix(w.Path, "/")))
	}
	return m, tea.Batch(cmd, c)
}

func layerNumbers(ls []int) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = fmt.Sprint(l)
	}
	return strings.Join(s, ", ")
}

func (m Model) wheel(msg tea.MouseWheelMsg) (Model, tea.Cmd) {
	d := 0
	switch msg.Button {
	case tea.MouseWheelUp:
		d = -3
	case tea.MouseWheelDown:
		d = 3
	}
	if d == 0 {
		return m, nil
	}
	switch m.state {
	case stateFindings, stateWaste, stateHelp, stateViewer:
		// The overlays move as their arrow keys do: a finding or a wasted
		// path per notch, three lines of help or content.
		step, steps := tea.KeyPressMsg{Code: tea.KeyDown}, 3
		if d < 0 {
			step = tea.KeyPressMsg{Code: tea.KeyUp}
		}
		if m.state == stateFindings || m.state == stateWaste {
			steps = 1
		}
		for range steps {
			switch m.state {
			case stateFindings:
				m.findings, _ = m.findings.Update(step)
			case stateWaste:
				m.waste, _ = m.waste.Update(step)
			case stateHelp:
				m.keyHelp, _ = m.keyHelp.Update(step)
			case stateViewer:
				m.viewer, _ = m.viewer.Update(step)
			}
		}
		return m, nil
	case stateBrowse:
	default:
		return m, nil
	}
	if msg.X < m.leftWidth() {
		return m, m.selectLayer(min(max(m.layers.sel+d/3, 0), len(m.rep.Layers)-1))
	}
	m.files.move(d)
	return m, nil
}

func (m Model) click(msg tea.MouseClickMsg) (Model, tea.Cmd) {
	if m.state != stateBrowse || msg.Button != tea.MouseLeft {
		return m, nil
	}
	row := msg.Y - 2 // title and pane header
	if msg.X < m.leftWidth() {
		m.focus = layersPane
		if l, ok := m.layers.at(row); ok {
			return m, m.selectLayer(l)
		}
		return m, nil
	}
	m.focus = filesPane
	m.files.click(row)
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
