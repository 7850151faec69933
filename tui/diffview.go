package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// layerscope diff OLD NEW opens the explorer on the difference: the files
// pane walks the union of the two final trees (diff.Union: layer 0 is
// OLD, layer 1 makes it NEW), so that + ~ - and the sizes come from the
// same view code as an image's, with the sizes as deltas; the layers pane
// lists NEW's layers, the ones shared with OLD dimmed and marked =; the
// findings overlay lists the findings NEW brought in, then those it
// fixed. v swaps in NEW's own files pane and findings (the ordinary
// explorer of NEW), and back: the root keeps the pane not shown in
// diffState.

// diffData is what the explorer shows of a difference, computed once in
// a command: the union tree, what every directory holds in OLD and in NEW,
// and the findings, new then fixed.
type diffData struct {
	d                  *diff.Diff
	old, new           *report.Report
	union              *tree.Tree
	dirs               *dirIndex
	oldBytes, newBytes *dirSizes // layer 0 and 1 of the union, whole
	findings           []report.Finding
	fixedFrom          int // findings[fixedFrom:] are the fixed ones
}

func newDiffData(ctx context.Context, d *diff.Diff, old, new *report.Report) (*diffData, error) {
	u, err := diff.Union(ctx, old.Tree, new.Tree)
	if err != nil {
		return nil, err
	}
	dirs := newDirIndex(u)
	stale := func() bool { return ctx.Err() != nil }
	dd := &diffData{d: d, old: old, new: new, union: u, dirs: dirs,
		oldBytes: computeSizes(u, dirs, 0, true, stale), newBytes: computeSizes(u, dirs, 1, true, stale)}
	if dd.oldBytes == nil || dd.newBytes == nil {
		return nil, ctx.Err()
	}
	dd.findings = append(slices.Clone(d.Findings.New), d.Findings.Fixed...)
	dd.fixedFrom = len(d.Findings.New)
	return dd, nil
}

// fixed reports whether finding i of the difference is a fixed one (OLD's).
func (dd *diffData) fixed(i int) bool { return dd != nil && i >= dd.fixedFrom }

// diffState is the root's part of a difference: the data, which view
// shows, and the files pane and findings of the other.
type diffState struct {
	data          *diffData
	load          func(context.Context) (*diffData, error)
	oldOpener     func() LayerOpener // set by WithOldLayers
	oldSource     LayerOpener
	on            bool // the difference shows; else NEW alone
	other         fileTree
	otherFindings findingsList
}

// shown reports whether the difference is what the panes show.
func (s *diffState) shown() bool { return s.data != nil && s.on }

// WithOldLayers lets the viewer of layerscope diff read a removed file's
// content from OLD, as WithLayers does for NEW.
func WithOldLayers(open func() LayerOpener) Option {
	return func(m *Model) { m.diff.oldOpener = open }
}

// NewDiff returns the explorer of d, the difference between old and new,
// two analysed images whose reports hold their trees. It opens on the
// difference; WithLayers reads NEW's files again, WithOldLayers OLD's.
func NewDiff(ctx context.Context, d *diff.Diff, old, new *report.Report, opts ...Option) Model {
	load := func(context.Context, *image.Progress) (*report.Report, error) { return new, nil }
	m := New(ctx, load, opts...)
	m.c.keys.diffKeys()
	m.diff.load = func(ctx context.Context) (*diffData, error) { return newDiffData(ctx, d, old, new) }
	return m
}

// RunDiff opens the explorer on d, the difference between old and new,
// until the user quits. Quitting before the view is ready (the union of
// two large trees takes a moment) is ErrQuit, as with Run.
func RunDiff(ctx context.Context, d *diff.Diff, old, new *report.Report, opts ...Option) error {
	final, err := tea.NewProgram(NewDiff(ctx, d, old, new, opts...), tea.WithContext(ctx)).Run()
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	return final.(Model).err
}

// setDiff shows the difference, once NEW's report is set: its files pane
// and findings wait in diffState until v.
func (m *Model) setDiff(dd *diffData) {
	df := newFileTree(m.c)
	df.sizeDelay = m.files.sizeDelay
	df.loadTree(dd.union, dd.dirs, dd.findings, 1)
	df.diff = dd
	df.sizes.put(dd.newBytes)
	df.tv.weight = df.deltaWeight
	m.diff.data, m.diff.on = dd, true
	m.diff.other, m.files = m.files, df
	m.diff.otherFindings = m.findings
	m.findings = newFindingsList(m.c, dd.findings)
	m.findings.diff = dd
	m.layers.diff, m.layers.diffOn = dd.d, true
	m.layers.newPerLayer = map[int]int{}
	for _, f := range dd.d.Findings.New {
		if f.Ignored == "" {
			m.layers.newPerLayer[f.Layer]++
		}
	}
	m.keyHelp.diff = true
	if m.diff.oldOpener != nil {
		m.diff.oldSource = m.diff.oldOpener()
	}
	m.focus = filesPane
	m.setSize(m.width, m.height)
}

// toggleDiff is v: the difference, or NEW alone on the layer selected.
func (m Model) toggleDiff() (Model, tea.Cmd) {
	m.diff.on = !m.diff.on
	m.files, m.diff.other = m.diff.other, m.files
	m.findings, m.diff.otherFindings = m.diff.otherFindings, m.findings
	m.findCursor = -1
	m.layers.diffOn = m.diff.on
	m.layout()
	if m.diff.on {
		m.status = "the difference: NEW against OLD; v shows NEW alone"
		return m, m.files.sizesCmd()
	}
	m.status = fmt.Sprintf("NEW alone, after layer %d; v shows the difference again", m.layers.sel)
	return m, m.files.SetLayer(m.layers.sel)
}

// signedSize is a delta: +1.2 MB, −300 kB, ±0 B.
func signedSize(n int64) string {
	switch {
	case n > 0:
		return "+" + report.Size(n)
	case n < 0:
		return "−" + report.Size(-n)
	}
	return "±0 B"
}

// fileBytes is what a version holds: a regular file's size, else 0.
func fileBytes(m tree.Meta, ok bool) int64 {
	if !ok || m.Kind != tree.KindFile {
		return 0
	}
	return m.Size
}

// delta is what n's bytes changed by from OLD to NEW (its own, and what
// it holds), and whether it or anything under it changed.
func (f fileTree) delta(n tree.NodeID) (int64, bool) {
	dd, t := f.diff, f.tv.t
	om, oOK := t.At(n, 0)
	nm, nOK := t.At(n, 1)
	d := fileBytes(nm, nOK) + dd.newBytes.of(n) - fileBytes(om, oOK) - dd.oldBytes.of(n)
	changed := t.Change(n, 1) != tree.Unchanged || dd.newBytes.kindsBelow(n)&^(1<<tree.Unchanged) != 0
	return d, changed
}

// wasFile says OLD's version of n is a regular file.
func (f fileTree) wasFile(n tree.NodeID) bool {
	om, ok := f.tv.t.At(n, 0)
	return ok && om.Kind == tree.KindFile
}

// deltaWeight is what s sorts a difference by: the bytes that changed.
func (f fileTree) deltaWeight(n tree.NodeID) int64 {
	d, _ := f.delta(n)
	return max(d, -d)
}

// diffSize is a row's size in the difference: what the entry added or
// removed (signed), or, when neither it nor anything under it changed,
// its size.
func (f fileTree) diffSize(n tree.NodeID, meta tree.Meta, ch tree.Change) string {
	d, changed := f.delta(n)
	switch {
	case !changed && meta.Kind == tree.KindDir:
		return report.Size(f.diff.newBytes.of(n))
	case !changed:
		return report.Size(fileBytes(meta, true))
	case meta.Kind != tree.KindDir && meta.Kind != tree.KindFile && !f.wasFile(n):
		return "0 B" // a link or a device, and so was OLD's: no bytes of their own
	case meta.Kind != tree.KindDir && meta.Kind != tree.KindFile:
		return signedSize(d) // a file that became a link: its bytes went
	case ch == tree.Added && meta.Kind == tree.KindFile:
		return "+" + report.Size(meta.Size)
	case ch == tree.Removed && meta.Kind == tree.KindFile:
		return "−" + report.Size(meta.Size)
	}
	return signedSize(d)
}

// diffStatus says what the difference did to n: added by which of NEW's
// layers, what changed, or that OLD alone has it.
func (f fileTree) diffStatus(n tree.NodeID) string {
	dd, t := f.diff, f.tv.t
	p := t.Path(n)
	path := "/" + report.Escape(p)
	by := ""
	if nn, ok := dd.new.Tree.Lookup(p); ok {
		if _, l, ok := dd.new.Tree.Final(nn); ok && l < len(dd.new.Layers) {
			by = fmt.Sprintf(" by NEW's layer %d: %s", l, dd.new.Layers[l].Instruction())
		}
	}
	om, _ := t.At(n, 0)
	nm, _ := t.At(n, 1)
	switch t.Change(n, 1) {
	case tree.Added:
		return "+ " + path + " added" + by
	case tree.Modified:
		return "~ " + path + " changed (" + changeWhat(om, nm) + ")" + by
	case tree.Removed:
		return "- " + path + " removed: OLD has it, NEW does not"
	}
	return path + ": the same in OLD and NEW"
}

// changeWhat names what differs between two versions of a path.
func changeWhat(a, b tree.Meta) string {
	if a.Kind != b.Kind {
		return a.Kind.String() + " → " + b.Kind.String()
	}
	var parts []string
	if a.Kind == tree.KindFile && (a.Size != b.Size || a.Hash != b.Hash) {
		parts = append(parts, "content")
	}
	if a.Link != b.Link {
		parts = append(parts, "target "+report.Escape(a.Link)+" → "+report.Escape(b.Link))
	}
	if a.Mode != b.Mode {
		parts = append(parts, fmt.Sprintf("mode %o → %o", a.Mode, b.Mode))
	}
	if a.UID != b.UID || a.GID != b.GID {
		parts = append(parts, fmt.Sprintf("owner %d:%d → %d:%d", a.UID, a.GID, b.UID, b.GID))
	}
	return strings.Join(parts, ", ")
}

// diffTitle is the title line of the difference.
func (m Model) diffTitle() string {
	dd, st := m.diff.data, &m.c.styles
	line := fmt.Sprintf("%s %s → %s · %s · %d of %s shared", st.Title.Render("layerscope diff"), imageLabel(dd.old), imageLabel(dd.new),
		dd.d.Headline(), dd.d.SharedLayers, plural(len(dd.new.Layers), "layer"))
	if n := len(dd.findings); n > 0 {
		line += " · " + st.Badge.Render(fmt.Sprintf("%d new, %d fixed", dd.fixedFrom, n-dd.fixedFrom))
	}
	return fit(line, m.width)
}

// openDiffViewer shows n's content as the difference has it: NEW's
// version, or, for a removed path, OLD's.
func (m Model) openDiffViewer(n tree.NodeID) (Model, tea.Cmd) {
	dd := m.diff.data
	_, ch, _ := m.files.tv.state(n)
	side, open := dd.new, m.source
	if ch == tree.Removed {
		side, open = dd.old, m.diff.oldSource
	}
	name := m.files.tv.t.Path(n)
	v := &m.viewer
	v.seq++
	v.cancel()
	v.raw, v.lines, v.top, v.more = nil, nil, 0, false
	v.title = "/" + report.Escape(name)
	m.state = stateViewer
	sn, ok := side.Tree.Lookup(name)
	meta, from, exists := side.Tree.Final(sn)
	which := "NEW"
	if side == dd.old {
		which = "OLD"
	}
	switch {
	case !ok || !exists:
		v.note = "neither image holds it" // not expected: the union holds no other
		return m, nil
	case meta.Kind != tree.KindFile:
		v.note = notAFile(meta)
		return m, nil
	case open == nil:
		v.note = which + ": " + noContent(side.Image)
		return m, nil
	}
	v.title += fmt.Sprintf(" · %s's layer %d · %s", which, from, report.Size(meta.Size))
	v.note = fmt.Sprintf("reading %s's layer %d…", which, from)
	ctx, stop := context.WithCancel(m.ctx)
	v.stop = stop
	seq := v.seq
	return m, func() tea.Msg {
		data, more, err := readLayerFile(ctx, open, from, name, viewLimit)
		return viewerMsg{seq: seq, data: data, more: more, err: err}
	}
}
