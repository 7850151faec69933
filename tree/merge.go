package tree

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// LayerStats are one layer's figures, as SPEC.md defines them.
type LayerStats struct {
	Added, Modified, Removed int
	Bytes                    int64 // regular-file bytes the layer ships
	WastedBytes              int64 // of those, bytes hidden or replaced later
}

// A version is what a path was from one layer on. Versions of a node are
// linked newest first; Kind KindNone marks a removal.
type version struct {
	Meta
	layer int32
	prev  int32 // older version of the same node, or -1
}

// A node is a path that some layer named. Node 0 is the root.
type node struct {
	path        string
	parent      int32
	cur         int32 // newest version, or -1 before the path exists
	firstChild  int32
	nextSibling int32
}

// pending is a node's state inside the layer being applied.
type pending struct {
	meta   Meta
	from   int32 // version below, or -1
	exists bool  // false: hidden by this layer
	own    bool  // meta comes from this layer (an entry or an implied directory)
}

// MaxNodes bounds the paths of one image, parents made implicit included:
// five times a very large image, and within a laptop's memory.
const MaxNodes = 5_000_000

// ErrTooManyPaths reports an image past MaxNodes.
var ErrTooManyPaths = errors.New("too many paths")

// Builder merges change sets in layer order, base first.
type Builder struct {
	nodes    []node
	versions []version
	index    map[string]int32
	layers   []LayerStats
	waste    map[int32]*wasteRec
	warnings []string

	// state of the layer being applied
	state   map[int32]*pending
	touched []int32
	// emptied holds the directories whose children this layer has hidden
	// all of, each with the children set since (the only ones that can
	// show): emptying one again costs what came back, not all it holds.
	emptied map[int32][]int32
	ctx     context.Context
	err     error // the context's, once a step saw it
	steps   int
}

type wasteRec struct {
	bytes  int64
	layers []int // sorted, unique
	events []WasteEvent
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		nodes: []node{{parent: -1, cur: -1, firstChild: -1, nextSibling: -1}},
		index: map[string]int32{},
		waste: map[int32]*wasteRec{},
	}
}

// Apply merges the next layer's change set onto the layers below it. Its
// time is linear in the change set and in what it hides, whatever the
// markers repeat; it checks ctx as it goes. After an error the Builder
// must not be used.
func (b *Builder) Apply(ctx context.Context, cs *ChangeSet) (LayerStats, error) {
	L := int32(len(b.layers))
	st := LayerStats{Bytes: cs.Bytes}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	b.state = make(map[int32]*pending)
	b.emptied = make(map[int32][]int32)
	b.touched = b.touched[:0]
	b.ctx, b.err = ctx, nil
	defer func() { b.ctx, b.state, b.emptied = nil, nil, nil }()

	// Whiteouts act on the layers below only, wherever they stand in the tar.
	for _, p := range cs.Whiteouts {
		if !b.step() {
			return st, b.err
		}
		if n, ok := b.index[p]; ok && b.present(n) {
			b.hide(n, L, &st)
		}
	}
	// A directory is emptied once: a repeated marker finds it emptied, and
	// so does the marker of a directory under one emptied already.
	for _, p := range cs.Opaques {
		if !b.step() {
			return st, b.err
		}
		n, ok := b.index[p]
		if p == "" {
			n, ok = 0, true
		}
		if ok && b.present(n) {
			b.hideChildren(n, L, &st)
		}
	}
	if b.err != nil {
		return st, b.err
	}
	for i := range cs.Entries {
		if !b.step() {
			return st, b.err
		}
		e := &cs.Entries[i]
		n := b.lookup(e.Path, L, &st)
		if p := b.state[n]; p != nil && p.exists && p.own && p.meta.Kind == KindFile {
			// The same path twice in one layer: the earlier copy is waste.
			b.addWaste(n, WasteEvent{Layer: int(L), By: int(L), Bytes: p.meta.Size, SameContent: sameContent(&p.meta, &e.Meta), SameMeta: sameMeta(&p.meta, &e.Meta)}, &st)
		}
		if e.Kind != KindDir {
			// A non-directory replaces a directory and all it holds.
			if m := b.current(n); m != nil && m.Kind == KindDir {
				b.hideChildren(n, L, &st)
			}
		}
		if e.Kind == KindHardlink {
			if t, ok := b.index[e.Link]; !ok || !b.present(t) {
				b.Warn("layer %d: hard link %q to missing %q", L, e.Path, e.Link)
			}
		}
		b.set(n, e.Meta)
	}
	if b.err != nil {
		return st, b.err
	}
	for _, w := range cs.Warnings {
		b.Warn("layer %d: %s", L, w)
	}
	if len(b.nodes) > MaxNodes {
		return st, fmt.Errorf("%w: more than %d in the image", ErrTooManyPaths, MaxNodes)
	}
	if err := b.finish(L, &st); err != nil {
		return st, err
	}
	b.layers = append(b.layers, st)
	return st, nil
}

// step counts a unit of the merge's work and checks the context every
// 4096. It reports false once the context is done: every loop stops.
func (b *Builder) step() bool {
	b.steps++
	if b.steps&4095 == 0 && b.err == nil {
		b.err = b.ctx.Err()
	}
	return b.err == nil
}

// present reports whether n exists in the tree as it stands (within the
// layer being applied, its pending state wins).
func (b *Builder) present(n int32) bool {
	if n == 0 {
		return true
	}
	if p := b.state[n]; p != nil {
		return p.exists
	}
	c := b.nodes[n].cur
	return c >= 0 && b.versions[c].Kind != KindNone
}

// current returns n's metadata as it stands, or nil when absent.
func (b *Builder) current(n int32) *Meta {
	if p := b.state[n]; p != nil {
		if p.exists {
			return &p.meta
		}
		return nil
	}
	c := b.nodes[n].cur
	if c < 0 || b.versions[c].Kind == KindNone {
		return nil
	}
	return &b.versions[c].Meta
}

// touch gives n a pending state in this layer, starting from what is below.
func (b *Builder) touch(n int32) *pending {
	if p := b.state[n]; p != nil {
		return p
	}
	p := &pending{from: -1}
	if c := b.nodes[n].cur; c >= 0 && b.versions[c].Kind != KindNone {
		p.from = c
		p.meta = b.versions[c].Meta
		p.exists = true
	}
	b.state[n] = p
	b.touched = append(b.touched, n)
	return p
}

func (b *Builder) set(n int32, m Meta) {
	p := b.touch(n)
	if !p.exists {
		if parent := b.nodes[n].parent; parent >= 0 {
			if back, ok := b.emptied[parent]; ok {
				b.emptied[parent] = append(back, n)
			}
		}
	}
	p.meta, p.exists, p.own = m, true, true
}

// hide removes n and all it holds from the tree as it stands.
func (b *Builder) hide(n, L int32, st *LayerStats) {
	b.hideChildren(n, L, st)
	p := b.touch(n)
	if p.own && p.exists && p.meta.Kind == KindFile {
		b.addWaste(n, WasteEvent{Layer: int(L), By: int(L), Bytes: p.meta.Size, Removed: true}, st) // this layer's own copy
	}
	p.exists, p.own = false, false
}

// hideChildren hides all n holds. The first time in a layer it looks at
// every child; after that only at the children set since: nothing else
// can have come back (hiding never makes a path show).
func (b *Builder) hideChildren(n, L int32, st *LayerStats) {
	if back, ok := b.emptied[n]; ok {
		b.emptied[n] = back[:0] // hiding sets nothing: back stays as it is
		for _, c := range back {
			if !b.step() {
				return
			}
			if b.present(c) {
				b.hide(c, L, st)
			}
		}
		return
	}
	for c := b.nodes[n].firstChild; c >= 0; c = b.nodes[c].nextSibling {
		if !b.step() {
			return
		}
		if b.present(c) {
			b.hide(c, L, st)
		}
	}
	b.emptied[n] = nil
}

// lookup returns the node for a clean path, creating it and any missing
// parent. A parent that is absent, or not a directory, becomes a directory.
func (b *Builder) lookup(p string, L int32, st *LayerStats) int32 {
	if n, ok := b.index[p]; ok {
		b.ensureDirs(b.nodes[n].parent, L, st)
		return n
	}
	parent := int32(0)
	if d := Dir(p); d != "" {
		parent = b.lookup(d, L, st)
		b.ensureDir(parent, L, st)
	}
	n := int32(len(b.nodes))
	b.nodes = append(b.nodes, node{path: p, parent: parent, cur: -1, firstChild: -1, nextSibling: b.nodes[parent].firstChild})
	b.nodes[parent].firstChild = n
	b.index[p] = n
	return n
}

func (b *Builder) ensureDirs(n, L int32, st *LayerStats) {
	for ; n > 0; n = b.nodes[n].parent {
		if m := b.current(n); m != nil && m.Kind == KindDir {
			return // its own parents exist already
		}
		b.ensureDir(n, L, st)
	}
}

func (b *Builder) ensureDir(n, L int32, st *LayerStats) {
	if n == 0 {
		return
	}
	m := b.current(n)
	if m != nil && m.Kind == KindDir {
		return
	}
	if m != nil && b.state[n] != nil && b.state[n].own && m.Kind == KindFile {
		b.addWaste(n, WasteEvent{Layer: int(L), By: int(L), Bytes: m.Size}, st)
	}
	b.set(n, Meta{Kind: KindDir, Mode: 0o755})
}

// finish decides what the layer changed, path by path, and records it.
func (b *Builder) finish(L int32, st *LayerStats) error {
	for _, n := range b.touched {
		if !b.step() {
			return b.err
		}
		p := b.state[n]
		var below *version
		if p.from >= 0 {
			below = &b.versions[p.from]
		}
		switch {
		case below == nil && !p.exists:
			continue // added and hidden again in this layer
		case below == nil:
			st.Added++
		case !p.exists:
			st.Removed++
		case SameDir(&below.Meta, &p.meta):
			continue // a diff re-emits the parents of every change
		default:
			st.Modified++
		}
		if below != nil && below.Kind == KindFile {
			b.addWaste(n, WasteEvent{Layer: int(below.layer), By: int(L), Bytes: below.Size,
				Removed: !p.exists, SameContent: p.exists && sameContent(&below.Meta, &p.meta), SameMeta: p.exists && sameMeta(&below.Meta, &p.meta)}, nil)
		}
		var m Meta
		if p.exists {
			m = p.meta
		}
		b.versions = append(b.versions, version{Meta: m, layer: L, prev: b.nodes[n].cur})
		b.nodes[n].cur = int32(len(b.versions) - 1)
	}
	return nil
}

// addWaste counts an event's bytes as wasted at node n. st, when not nil,
// is the stats of the layer being applied (same-layer waste); waste of an
// earlier layer's copy is charged to that layer.
func (b *Builder) addWaste(n int32, ev WasteEvent, st *LayerStats) {
	if ev.Bytes == 0 {
		return
	}
	w := b.waste[n]
	if w == nil {
		w = &wasteRec{}
		b.waste[n] = w
	}
	w.bytes += ev.Bytes
	w.events = append(w.events, ev)
	if i, found := slices.BinarySearch(w.layers, ev.Layer); !found {
		w.layers = slices.Insert(w.layers, i, ev.Layer)
	}
	if st != nil {
		st.WastedBytes += ev.Bytes
	} else if ev.Layer < len(b.layers) {
		b.layers[ev.Layer].WastedBytes += ev.Bytes
	}
}

// sameContent reports a regular file replaced by the same bytes: only its
// metadata changed (a chmod or chown that re-ships the whole file).
func sameContent(old, new *Meta) bool {
	return old.Kind == KindFile && new.Kind == KindFile && old.Size == new.Size && old.Hash == new.Hash
}

// sameMeta reports versions with the same mode and owner.
func sameMeta(old, new *Meta) bool {
	return old.Mode == new.Mode && old.UID == new.UID && old.GID == new.GID
}

// Warn records an oddity that changes no figure.
func (b *Builder) Warn(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

// Finish ends the merge and returns the tree. The Builder must not be used
// after it.
func (b *Builder) Finish() *Tree {
	t := &Tree{
		nodes:    b.nodes,
		versions: b.versions,
		layers:   b.layers,
		warnings: b.warnings,
	}
	for n, w := range b.waste {
		t.waste = append(t.waste, Waste{Path: b.nodes[n].path, Bytes: w.bytes, Layers: w.layers, Events: w.events})
		t.stats.WastedBytes += w.bytes
	}
	slices.SortFunc(t.waste, func(a, b Waste) int {
		if a.Bytes != b.Bytes {
			if a.Bytes > b.Bytes {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Path, b.Path)
	})
	for _, l := range b.layers {
		t.stats.ContentBytes += l.Bytes
	}
	for i := 1; i < len(t.nodes); i++ {
		c := t.nodes[i].cur
		if c < 0 || t.versions[c].Kind == KindNone {
			continue
		}
		t.stats.Files++
		if t.versions[c].Kind == KindFile {
			t.stats.RegularFiles++
			t.stats.FinalBytes += t.versions[c].Size
		}
	}
	if len(b.layers) > 0 {
		t.stats.BaseBytes = b.layers[0].Bytes
	}
	t.sortChildren()
	*b = Builder{}
	return t
}
