package tui

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/layerscope/layerscope/tree"
)

// What a directory holds depends on the layer and the mode, and takes a
// walk of the whole tree. So sizes are computed off the key path, for
// directories only, a short while after the keys stop (a burst of layer
// steps starts one walk, not one per key), a walk that a newer key made
// stale stops, and only the last few results are kept.

// sizesDebounce is how long the view must stay on a layer and mode before
// a walk starts.
const sizesDebounce = 120 * time.Millisecond

// sizeCacheLen is how many (layer, mode) results are kept.
const sizeCacheLen = 8

// dirIndex numbers the nodes that hold something: only they need a size
// of their own (a file's size is its own; an empty directory holds 0).
// It is built once per tree and shared by every result.
type dirIndex struct {
	slot []int32 // per node: its slot, or -1
	n    int     // slots
}

func newDirIndex(t *tree.Tree) *dirIndex {
	d := &dirIndex{slot: make([]int32, t.Len())}
	for n := range t.Len() {
		d.slot[n] = -1
		if len(t.Children(tree.NodeID(n))) > 0 {
			d.slot[n] = int32(d.n)
			d.n++
		}
	}
	return d
}

// dirSizes are the bytes every directory holds for one layer and mode,
// and what lies below it: the kinds of change of the entries that may show
// (a bit per tree.Change) and the bytes the layer added or modified.
type dirSizes struct {
	layer   int
	whole   bool
	dirs    *dirIndex // the tree's they are
	slot    []int32   // the dirIndex's
	bytes   []int64   // by slot
	kinds   []uint8   // by slot
	changed []int64   // by slot
}

// kindsBelow returns the kinds of change of n's entries (0: none shows).
func (s *dirSizes) kindsBelow(n tree.NodeID) uint8 {
	if i := s.slot[n]; i >= 0 {
		return s.kinds[i]
	}
	return 0
}

// changedBelow returns the bytes the layer added or modified under n.
func (s *dirSizes) changedBelow(n tree.NodeID) int64 {
	if i := s.slot[n]; i >= 0 {
		return s.changed[i]
	}
	return 0
}

// of returns what n holds (0 when it holds nothing).
func (s *dirSizes) of(n tree.NodeID) int64 {
	if i := s.slot[n]; i >= 0 {
		return s.bytes[i]
	}
	return 0
}

// computeSizes sums, for every directory, what it holds for a layer and
// mode (what the image holds after the layer, or what the layer wrote),
// the kinds of change below it and the bytes the layer changed below it.
// It returns nil as soon as stale (when given) reports true; it asks
// every 4096 nodes.
func computeSizes(t *tree.Tree, d *dirIndex, layer int, whole bool, stale func() bool) *dirSizes {
	s := &dirSizes{layer: layer, whole: whole, dirs: d, slot: d.slot, bytes: make([]int64, d.n), kinds: make([]uint8, d.n), changed: make([]int64, d.n)}
	for n := tree.NodeID(t.Len() - 1); n > 0; n-- {
		if stale != nil && n&4095 == 0 && stale() {
			return nil
		}
		var held, changed int64
		var kinds uint8
		m, ok := t.At(n, layer)
		ch := t.Change(n, layer)
		if (ok || ch == tree.Removed) && (whole || ch != tree.Unchanged) {
			kinds = 1 << ch
		}
		if ok && m.Kind == tree.KindFile {
			if whole || ch != tree.Unchanged {
				held = m.Size
			}
			if ch == tree.Added || ch == tree.Modified {
				changed = m.Size
			}
		}
		if i := d.slot[n]; i >= 0 {
			held += s.bytes[i]
			changed += s.changed[i]
			kinds |= s.kinds[i]
		}
		p := d.slot[t.Parent(n)] // a parent always has a slot
		s.bytes[p] += held
		s.changed[p] += changed
		s.kinds[p] |= kinds
	}
	return s
}

// sizeCache keeps the last few results, least recently used first.
type sizeCache struct {
	entries []*dirSizes
}

func (c *sizeCache) get(layer int, whole bool) *dirSizes {
	i := slices.IndexFunc(c.entries, func(s *dirSizes) bool { return s.layer == layer && s.whole == whole })
	if i < 0 {
		return nil
	}
	s := c.entries[i]
	c.entries = append(slices.Delete(c.entries, i, i+1), s)
	return s
}

func (c *sizeCache) put(s *dirSizes) {
	if c.get(s.layer, s.whole) != nil {
		c.entries[len(c.entries)-1] = s
		return
	}
	if len(c.entries) >= sizeCacheLen {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, s)
}

// sizeWalks is shared by the model and the walks it starts: the walks
// read it, only Update changes gen.
type sizeWalks struct {
	gen     atomic.Uint64 // the newest request: a walk for an older one stops
	started atomic.Int64  // walks begun
	stopped atomic.Int64  // walks that stopped as stale
}
