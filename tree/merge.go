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

// pending is a node's state inside the layer being applied.
type pending struct {
	meta   meta
	link   string
	below  bool // the node's newest version is a path that exists
	exists bool // false: hidden by this layer
	own    bool // meta comes from this layer (an entry or an implied directory)
}

// MaxNodes bounds the paths of one image, parents made implicit included:
// five times a very large image, and within a laptop's memory.
const MaxNodes = 5_000_000

// ErrTooManyPaths reports an image past MaxNodes.
var ErrTooManyPaths = errors.New("too many paths")

// ErrTooManyLayers reports a Builder given more than 32,767 layers.
var ErrTooManyLayers = errors.New("too many layers")

// Builder merges change sets in layer order, base first.
type Builder struct {
	store
	nameBuf  strings.Builder // the last chunk of names, as it grows
	child    []int32         // each node's first child, or -1
	sibling  []int32         // each node's next sibling, or -1
	index    index
	layers   []LayerStats
	waste    map[int32]*wasteRec
	warnings []string

	// state of the layer being applied: node n's pending state, when it
	// has one, is pend[slot[n]-1], and touched[slot[n]-1] is n
	slot    []int32
	pend    []pending
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
	b := &Builder{
		store: store{
			names:  []string{""},
			links:  map[int32]string{},
			vlinks: map[int32]string{},
		},
		child:   []int32{-1},
		sibling: []int32{-1},
		slot:    []int32{0},
		waste:   map[int32]*wasteRec{},
	}
	b.nodes.push(node{layer: -1, parent: -1, older: -1})
	b.index.init()
	return b
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
	if L >= maxLayers {
		return st, fmt.Errorf("%w: more than %d", ErrTooManyLayers, maxLayers)
	}
	b.emptied = make(map[int32][]int32)
	b.ctx, b.err = ctx, nil
	defer func() { b.ctx, b.emptied = nil, nil }()

	// Whiteouts act on the layers below only, wherever they stand in the tar.
	for _, p := range cs.Whiteouts {
		if !b.step() {
			return st, b.err
		}
		if n, ok := b.find(p); ok && n != 0 && b.present(n) {
			b.hide(n, L, &st)
		}
	}
	// A directory is emptied once: a repeated marker finds it emptied, and
	// so does the marker of a directory under one emptied already.
	for _, p := range cs.Opaques {
		if !b.step() {
			return st, b.err
		}
		if n, ok := b.find(p); ok && b.present(n) {
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
		if b.err != nil {
			return st, b.err
		}
		m := pack(&e.Meta)
		if p := b.pending(n); p != nil && p.exists && p.own && p.meta.Kind == KindFile {
			// The same path twice in one layer: the earlier copy is waste.
			b.addWaste(n, WasteEvent{Layer: int(L), By: int(L), Bytes: p.meta.Size, SameContent: sameContent(&p.meta, &m), SameMeta: sameMeta(&p.meta, &m)}, &st)
		}
		if e.Kind != KindDir {
			// A non-directory replaces a directory and all it holds.
			if c := b.current(n); c != nil && c.Kind == KindDir {
				b.hideChildren(n, L, &st)
			}
		}
		if e.Kind == KindHardlink {
			if t, ok := b.find(e.Link); !ok || t == 0 || !b.present(t) {
				b.Warn("layer %d: hard link %q to missing %q", L, e.Path, e.Link)
			}
		}
		link := ""
		if e.Kind == KindSymlink || e.Kind == KindHardlink {
			link = e.Link
		}
		b.set(n, m, link)
	}
	if b.err != nil {
		return st, b.err
	}
	for _, w := range cs.Warnings {
		b.Warn("layer %d: %s", L, w)
	}
	if b.nodes.len() > MaxNodes {
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

// pending returns n's state in the layer being applied, or nil.
func (b *Builder) pending(n int32) *pending {
	if s := b.slot[n]; s > 0 {
		return &b.pend[s-1]
	}
	return nil
}

// present reports whether n exists in the tree as it stands (within the
// layer being applied, its pending state wins).
func (b *Builder) present(n int32) bool {
	if n == 0 {
		return true
	}
	if p := b.pending(n); p != nil {
		return p.exists
	}
	nd := b.nodes.at(n)
	return nd.layer >= 0 && nd.Kind != KindNone
}

// current returns n's metadata as it stands, or nil when absent. The
// pointer is valid until the next touch.
func (b *Builder) current(n int32) *meta {
	if p := b.pending(n); p != nil {
		if p.exists {
			return &p.meta
		}
		return nil
	}
	nd := b.nodes.at(n)
	if nd.layer < 0 || nd.Kind == KindNone {
		return nil
	}
	return &nd.meta
}

// touch gives n a pending state in this layer, starting from what is
// below. The pointer is valid until the next touch.
func (b *Builder) touch(n int32) *pending {
	if p := b.pending(n); p != nil {
		return p
	}
	p := pending{}
	if nd := b.nodes.at(n); nd.layer >= 0 && nd.Kind != KindNone {
		p.meta, p.link, p.below, p.exists = nd.meta, b.links[n], true, true
	}
	b.pend = append(b.pend, p)
	b.touched = append(b.touched, n)
	b.slot[n] = int32(len(b.pend))
	return &b.pend[len(b.pend)-1]
}

func (b *Builder) set(n int32, m meta, link string) {
	p := b.touch(n)
	if !p.exists {
		if parent := b.nodes.at(n).parent; parent >= 0 {
			if back, ok := b.emptied[parent]; ok {
				b.emptied[parent] = append(back, n)
			}
		}
	}
	p.meta, p.link, p.exists, p.own = m, link, true, true
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
	for c := b.child[n]; c >= 0; c = b.sibling[c] {
		if !b.step() {
			return
		}
		if b.present(c) {
			b.hide(c, L, st)
		}
	}
	b.emptied[n] = nil
}

// find returns the node of a clean path, if some layer named it.
func (b *Builder) find(p string) (int32, bool) {
	n := int32(0)
	for p != "" {
		seg, rest, _ := strings.Cut(p, "/")
		c := b.index.find(&b.store, n, seg)
		if c < 0 {
			return 0, false
		}
		n, p = c, rest
	}
	return n, true
}

// lookup returns the node for a clean path, creating it and any missing
// parent. A parent that is absent, or not a directory, becomes a directory.
func (b *Builder) lookup(p string, L int32, st *LayerStats) int32 {
	parent := int32(0)
	if d := Dir(p); d != "" {
		parent = b.dir(d)
		if b.err != nil {
			return 0
		}
		b.ensureDirs(parent, L, st)
	}
	return b.node(parent, Base(p))
}

// dir returns the node for a clean directory path, creating it and any
// missing parent.
func (b *Builder) dir(d string) int32 {
	if d == b.index.lastDir && b.index.lastNode > 0 {
		return b.index.lastNode
	}
	n, h := b.index.dir(d)
	if n > 0 {
		b.index.lastDir, b.index.lastNode = d, n
		return n
	}
	n = 0
	for p := d; p != "" && b.err == nil; {
		seg, rest, _ := strings.Cut(p, "/")
		n, p = b.node(n, seg), rest
	}
	b.index.dirs[h].path, b.index.dirs[h].node = d, n
	b.index.lastDir, b.index.lastNode = d, n
	return n
}

// node returns parent's child called name, creating it.
func (b *Builder) node(parent int32, name string) int32 {
	if n := b.index.find(&b.store, parent, name); n >= 0 {
		return n
	}
	if b.nameBuf.Len()+len(name) > 1<<nameChunkBits {
		if len(b.names) == 1<<(32-nameChunkBits) {
			b.err = fmt.Errorf("%w: their names pass 4 GiB", ErrTooManyPaths)
			return 0
		}
		b.nameBuf = strings.Builder{}
		b.nameBuf.Grow(1 << nameChunkBits)
		b.names = append(b.names, "")
	}
	if len(name) > maxName {
		b.err = fmt.Errorf("%w: a name of %d bytes", ErrName, len(name))
		return 0
	}
	n := int32(b.nodes.len())
	c := uint32(len(b.names) - 1)
	b.nodes.push(node{name: c<<nameChunkBits | uint32(b.nameBuf.Len()), nlen: uint16(len(name)), layer: -1, parent: parent, older: -1})
	b.nameBuf.WriteString(name)
	b.names[c] = b.nameBuf.String()
	b.child = append(b.child, -1)
	b.sibling = append(b.sibling, b.child[parent])
	b.child[parent] = n
	b.slot = append(b.slot, 0)
	b.index.add(&b.store, n)
	return n
}

func (b *Builder) ensureDirs(n, L int32, st *LayerStats) {
	for ; n > 0; n = b.nodes.at(n).parent {
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
	if p := b.pending(n); m != nil && p != nil && p.own && m.Kind == KindFile {
		b.addWaste(n, WasteEvent{Layer: int(L), By: int(L), Bytes: m.Size}, st)
	}
	b.set(n, meta{Kind: KindDir, Mode: 0o755}, "")
}

// finish decides what the layer changed, path by path, and records it.
func (b *Builder) finish(L int32, st *LayerStats) error {
	for i, n := range b.touched {
		if !b.step() {
			return b.err
		}
		p := &b.pend[i]
		b.slot[n] = 0
		nd := b.nodes.at(n)
		var below *meta
		if p.below {
			below = &nd.meta
		}
		switch {
		case below == nil && !p.exists:
			continue // added and hidden again in this layer
		case below == nil:
			st.Added++
		case !p.exists:
			st.Removed++
		case sameDir(below, &p.meta):
			continue // a diff re-emits the parents of every change
		default:
			st.Modified++
		}
		if below != nil && below.Kind == KindFile {
			b.addWaste(n, WasteEvent{Layer: int(nd.layer), By: int(L), Bytes: below.Size,
				Removed: !p.exists, SameContent: p.exists && sameContent(below, &p.meta), SameMeta: p.exists && sameMeta(below, &p.meta)}, nil)
		}
		if nd.layer >= 0 {
			b.versions = append(b.versions, version{meta: nd.meta, layer: nd.layer, prev: nd.older})
			v := int32(len(b.versions) - 1)
			if l, ok := b.links[n]; ok {
				b.vlinks[v] = l
				delete(b.links, n)
			}
			nd.older = v
		}
		nd.meta, nd.layer = meta{}, int16(L)
		if p.exists {
			nd.meta = p.meta
			if p.link != "" {
				b.links[n] = p.link
			}
		}
	}
	b.pend, b.touched = b.pend[:0], b.touched[:0]
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
func sameContent(old, new *meta) bool {
	return old.Kind == KindFile && new.Kind == KindFile && old.Size == new.Size && old.Hash == new.Hash
}

func sameDir(a, b *meta) bool {
	return a.Kind == KindDir && b.Kind == KindDir && a.Mode == b.Mode && a.UID == b.UID && a.GID == b.GID
}

// sameMeta reports versions with the same mode and owner.
func sameMeta(old, new *meta) bool {
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
		store:    b.store,
		layers:   b.layers,
		warnings: b.warnings,
	}
	for n, w := range b.waste {
		t.waste = append(t.waste, Waste{Path: t.path(n), Bytes: w.bytes, Layers: w.layers, Events: w.events})
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
	for i := 1; i < t.nodes.len(); i++ {
		nd := t.nodes.at(int32(i))
		if nd.layer < 0 || nd.Kind == KindNone {
			continue
		}
		t.stats.Files++
		if nd.Kind == KindFile {
			t.stats.RegularFiles++
			t.stats.FinalBytes += nd.Size
		}
	}
	if len(b.layers) > 0 {
		t.stats.BaseBytes = b.layers[0].Bytes
	}
	*b = Builder{}
	t.sortChildren()
	return t
}
