package tree

import (
	"slices"
	"strings"
)

// ImageStats are the whole image's figures, as SPEC.md defines them.
type ImageStats struct {
	Files        int   // non-root entries of every type in the final tree
	RegularFiles int   // its regular files
	FinalBytes   int64 // their bytes
	ContentBytes int64 // the bytes of every layer together
	WastedBytes  int64 // bytes of file versions hidden or replaced later
	BaseBytes    int64 // layer 0's bytes
}

// Efficiency is 1 − wasted / content (1 when content is 0).
func (s ImageStats) Efficiency() float64 {
	if s.ContentBytes == 0 {
		return 1
	}
	return 1 - float64(s.WastedBytes)/float64(s.ContentBytes)
}

// WastePercent is 100 × wasted / (content − layer 0's bytes): the share of
// what the image's own build added. 0 when the build added nothing.
func (s ImageStats) WastePercent() float64 {
	own := s.ContentBytes - s.BaseBytes
	if own <= 0 {
		return 0
	}
	return 100 * float64(s.WastedBytes) / float64(own)
}

// Waste is one path's wasted bytes and the layers whose versions of it were
// hidden or replaced.
type Waste struct {
	Path   string
	Bytes  int64
	Layers []int
	Events []WasteEvent // each wasted copy, in the order it was found
}

// WasteEvent is one wasted copy of a path: the layer that shipped it, and
// the layer that hid or replaced it.
type WasteEvent struct {
	Layer       int
	By          int
	Bytes       int64
	Removed     bool // hidden, not replaced
	SameContent bool // replaced by the same bytes
	SameMeta    bool // replaced with the same mode and owner (with SameContent: written again unchanged)
}

// NodeID names a path of a Tree. The root is 0.
type NodeID int32

// Change is what a layer did to a path.
type Change uint8

const (
	Unchanged Change = iota
	Added
	Modified
	Removed
)

func (c Change) String() string {
	return [...]string{"unchanged", "added", "modified", "removed"}[c]
}

// Tree is the merged result: every path any layer named, with each version
// of it. It is immutable, and safe for concurrent readers.
type Tree struct {
	store
	kids     []NodeID // children of every node, sorted by name
	kidStart []int32  // node i's children are kids[kidStart[i]:kidStart[i+1]]
	layers   []LayerStats
	waste    []Waste
	warnings []string
	stats    ImageStats
}

func (t *Tree) Stats() ImageStats      { return t.stats }
func (t *Tree) Layers() []LayerStats   { return t.layers }
func (t *Tree) Waste() []Waste         { return t.waste }
func (t *Tree) Warnings() []string     { return t.warnings }
func (t *Tree) Len() int               { return t.nodes.len() }
func (t *Tree) Name(n NodeID) string   { return t.name(int32(n)) }
func (t *Tree) Parent(n NodeID) NodeID { return NodeID(t.nodes.at(int32(n)).parent) }
func (t *Tree) Children(n NodeID) []NodeID {
	return t.kids[t.kidStart[n]:t.kidStart[n+1]]
}

// Path returns n's clean path ("" for the root). The tree keeps names, not
// paths: each call builds the string.
func (t *Tree) Path(n NodeID) string { return t.path(int32(n)) }

// Lookup finds a clean path.
func (t *Tree) Lookup(p string) (NodeID, bool) {
	n := NodeID(0)
	for p != "" {
		seg, rest, _ := strings.Cut(p, "/")
		kids := t.Children(n)
		i, ok := slices.BinarySearchFunc(kids, seg, func(k NodeID, s string) int {
			return strings.Compare(t.Name(k), s)
		})
		if !ok {
			return 0, false
		}
		n, p = kids[i], rest
	}
	return n, true
}

// At returns what n is after layer `layer` (base 0), and whether it exists
// then.
func (t *Tree) At(n NodeID, layer int) (Meta, bool) {
	if n == 0 {
		return Meta{Kind: KindDir}, true
	}
	for v := t.newest(int32(n)); v != none; v = t.older(int32(n), v) {
		if m, l := t.version(int32(n), v); l <= layer {
			return t.expand(int32(n), v, m), m.Kind != KindNone
		}
	}
	return Meta{}, false
}

// Final returns what n is in the final image, the layer that put it
// there, and whether it exists at all.
func (t *Tree) Final(n NodeID) (Meta, int, bool) {
	if n == 0 {
		return Meta{Kind: KindDir}, 0, true
	}
	nd := t.nodes.at(int32(n))
	if nd.layer < 0 || nd.Kind == KindNone {
		return Meta{}, 0, false
	}
	return t.expand(int32(n), newest, &nd.meta), int(nd.layer), true
}

// Change reports what layer `layer` did to n.
func (t *Tree) Change(n NodeID, layer int) Change {
	for v := t.newest(int32(n)); v != none; v = t.older(int32(n), v) {
		m, l := t.version(int32(n), v)
		if l < layer {
			return Unchanged
		} else if l > layer {
			continue
		}
		if m.Kind == KindNone {
			return Removed
		}
		if p := t.older(int32(n), v); p != none {
			if below, _ := t.version(int32(n), p); below.Kind != KindNone {
				return Modified
			}
		}
		return Added
	}
	return Unchanged
}

// Versions calls fn for every version of n, newest first. A removal has
// Kind KindNone.
func (t *Tree) Versions(n NodeID, fn func(layer int, m Meta)) {
	for v := t.newest(int32(n)); v != none; v = t.older(int32(n), v) {
		m, l := t.version(int32(n), v)
		fn(l, t.expand(int32(n), v, m))
	}
}

// Older calls fn for each version of n before its final one, newest
// first, until fn returns false. A removal has Kind KindNone. *m is valid
// only during the call.
func (t *Tree) Older(n NodeID, fn func(layer int, m *Meta) bool) {
	v := t.newest(int32(n))
	if v == none {
		return
	}
	for v = t.older(int32(n), v); v != none; v = t.older(int32(n), v) {
		m, l := t.version(int32(n), v)
		e := t.expand(int32(n), v, m)
		if !fn(l, &e) {
			return
		}
	}
}

// sortChildren lays the children of every node out in one array, by name.
func (t *Tree) sortChildren() {
	nodes := t.nodes.len()
	count := make([]int32, nodes+1)
	for i := 1; i < nodes; i++ {
		count[t.nodes.at(int32(i)).parent+1]++
	}
	t.kidStart = make([]int32, nodes+1)
	for i := 1; i <= nodes; i++ {
		t.kidStart[i] = t.kidStart[i-1] + count[i]
	}
	t.kids = make([]NodeID, nodes-1)
	fill := count[:nodes] // reused: count[i+1] is done with once kidStart[i+1] is
	copy(fill, t.kidStart[:nodes])
	for i := 1; i < nodes; i++ {
		p := t.nodes.at(int32(i)).parent
		t.kids[fill[p]] = NodeID(i)
		fill[p]++
	}
	for i := range nodes {
		kids := t.kids[t.kidStart[i]:t.kidStart[i+1]]
		if len(kids) > 1 {
			slices.SortFunc(kids, func(a, b NodeID) int { return strings.Compare(t.Name(a), t.Name(b)) })
		}
	}
}
