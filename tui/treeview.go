package tui

import (
	"cmp"
	"maps"
	"regexp"
	"slices"

	"github.com/layerscope/layerscope/tree"
)

// treeView is the file pane's view of an immutable tree: which entries
// show, in what order, and where the cursor is. Moving costs in proportion
// to the rows moved over, never to the tree: a subtree with nothing to show
// is skipped whole, thanks to per-node masks computed once.
type treeView struct {
	t        *tree.Tree
	masks    []uint64 // per node: the layers (bit i, i < 64) that changed it or something under it
	below    []uint64 // per node: the layers that changed something under it
	layer    int
	whole    bool    // the image as it stands after layer; else the layer's changes only
	hide     [4]bool // by tree.Change: hide unchanged, added, modified, removed
	collapse map[tree.NodeID]bool
	bySize   bool
	dirs     *dirIndex                     // the nodes that hold something
	sizes    *dirSizes                     // sizes for (layer, whole), once computed
	matches  *matchSet                     // the path filter's result, when one is active
	order    map[tree.NodeID][]tree.NodeID // children by size, per directory
	// weight, when set, is what s sorts by instead of the size (a
	// difference sorts by the bytes that changed).
	weight func(tree.NodeID) int64

	// Under a filter, whether a folder kept only for the matches below it
	// has one that shows, for the view shownFor names.
	shownBelow map[tree.NodeID]bool
	shownFor   shownKey
}

// shownKey is what decides which entries show, but for collapsing.
type shownKey struct {
	layer   int
	whole   bool
	hide    [4]bool
	matches *matchSet
	sizes   *dirSizes
}

// matchSet is the nodes a path filter keeps: the matches and their parents.
type matchSet struct {
	pattern string
	keep    []bool // per node: it matches, or holds a match
	hit     []bool // per node: it matches
	count   int    // matching entries
}

// newTreeView returns a view of t; dirs is t's dirIndex when already
// built, else nil.
func newTreeView(t *tree.Tree, dirs *dirIndex) *treeView {
	v := &treeView{t: t, whole: true, collapse: map[tree.NodeID]bool{}, order: map[tree.NodeID][]tree.NodeID{}}
	v.masks, v.below = layerMasks(t)
	if dirs == nil {
		dirs = newDirIndex(t)
	}
	v.dirs = dirs
	return v
}

// layerMasks marks, for every node, the layers that added, modified or
// removed it or anything under it. Layers past 63 share bit 63.
func layerMasks(t *tree.Tree) (masks, below []uint64) {
	masks = make([]uint64, t.Len())
	below = make([]uint64, t.Len())
	for n := tree.NodeID(t.Len() - 1); n > 0; n-- {
		t.Versions(n, func(layer int, _ tree.Meta) {
			masks[n] |= 1 << min(layer, 63)
		})
		masks[n] |= below[n]
		below[t.Parent(n)] |= masks[n]
	}
	return masks, below
}

// state is what a node shows as, for the current layer and mode.
func (v *treeView) state(n tree.NodeID) (tree.Meta, tree.Change, bool) {
	ch := v.t.Change(n, v.layer)
	m, exists := v.t.At(n, v.layer)
	if ch == tree.Removed {
		// show what was removed: the version just below
		m, _ = v.t.At(n, v.layer-1)
		exists = true
	}
	return m, ch, exists
}

// aggregates are the sizes and kinds below each directory, when computed
// for the layer and mode shown.
func (v *treeView) aggregates() *dirSizes {
	if v.sizes != nil && v.sizes.layer == v.layer && v.sizes.whole == v.whole {
		return v.sizes
	}
	return nil
}

// shown is the kinds of change that show, a bit per tree.Change.
func (v *treeView) shown() uint8 {
	var k uint8
	for c, hidden := range v.hide {
		if !hidden {
			k |= 1 << c
		}
	}
	return k
}

// visible reports whether n is a row.
func (v *treeView) visible(n tree.NodeID) bool {
	m, ch, exists := v.state(n)
	if !exists {
		return false
	}
	if v.matches != nil && !v.matches.keep[n] {
		return false
	}
	if v.matches != nil && !v.matches.hit[n] {
		// A folder kept only for the matches below it goes with them.
		return v.keptBelowShows(n)
	}
	if m.Kind == tree.KindDir {
		if a := v.aggregates(); a != nil {
			// A directory shows when something below it shows, or it is a
			// change that shows itself; one whose entries A/M/R/U all hide
			// goes with them.
			if k := a.kindsBelow(n); k != 0 {
				return k&v.shown() != 0 || (ch != tree.Unchanged && !v.hide[ch])
			}
		}
		// A directory shows when it passes the filters itself, or holds
		// something this layer changed (which may pass them).
		// Under a directory the layer added or removed, everything shares
		// that change: hidden with it.
		bit := uint64(1) << min(v.layer, 63)
		if v.below[n]&bit != 0 && !((ch == tree.Added || ch == tree.Removed) && v.hide[ch]) {
			return true
		}
		if !v.whole && ch == tree.Unchanged {
			return false
		}
		return !v.hide[ch]
	}
	if !v.whole && ch == tree.Unchanged {
		return false
	}
	return !v.hide[ch]
}

// keptBelowShows reports whether an entry the filter keeps under n shows.
// A walk of the kept entries below n, once per view.
func (v *treeView) keptBelowShows(n tree.NodeID) bool {
	k := shownKey{v.layer, v.whole, v.hide, v.matches, v.sizes}
	if k != v.shownFor || v.shownBelow == nil {
		v.shownFor, v.shownBelow = k, map[tree.NodeID]bool{}
	}
	if shows, ok := v.shownBelow[n]; ok {
		return shows
	}
	shows := false
	for _, c := range v.t.Children(n) {
		if v.matches.keep[c] && v.visible(c) {
			shows = true
			break
		}
	}
	v.shownBelow[n] = shows
	return shows
}

// children returns n's children in display order.
func (v *treeView) children(n tree.NodeID) []tree.NodeID {
	kids := v.t.Children(n)
	if !v.bySize || v.sizes == nil || len(kids) < 2 {
		return kids
	}
	if o, ok := v.order[n]; ok {
		return o
	}
	o := slices.Clone(kids)
	size := v.size
	if v.weight != nil {
		size = v.weight
	}
	slices.SortStableFunc(o, func(a, b tree.NodeID) int { return cmp.Compare(size(b), size(a)) })
	v.order[n] = o
	return o
}

// size is what a row shows: a file's bytes, or what a directory holds.
func (v *treeView) size(n tree.NodeID) int64 {
	m, _, _ := v.state(n)
	if m.Kind == tree.KindDir {
		if v.sizes == nil {
			return -1
		}
		return v.sizes.of(n)
	}
	return m.Size
}

func (v *treeView) expanded(n tree.NodeID) bool {
	if n == 0 {
		return true
	}
	if v.matches != nil {
		return true // a filter shows every match
	}
	return !v.collapse[n]
}

// pos is a row: the path of child indices from the root.
type pos []int

func (p pos) clone() pos { return slices.Clone(p) }

// node resolves a position.
func (v *treeView) node(p pos) tree.NodeID {
	n := tree.NodeID(0)
	for _, i := range p {
		n = v.children(n)[i]
	}
	return n
}

// first returns the first row, or nil when nothing shows.
func (v *treeView) first() pos {
	return v.firstUnder(0, nil)
}

func (v *treeView) firstUnder(n tree.NodeID, p pos) pos {
	for i, k := range v.children(n) {
		if v.visible(k) {
			return append(p, i)
		}
	}
	return nil
}

// next returns the row after p, or nil at the end.
func (v *treeView) next(p pos) pos {
	n := v.node(p)
	if m, _, _ := v.state(n); m.Kind == tree.KindDir && v.expanded(n) {
		if q := v.firstUnder(n, p.clone()); q != nil {
			return q
		}
	}
	for q := p.clone(); len(q) > 0; q = q[:len(q)-1] {
		parent := v.node(q[:len(q)-1])
		kids := v.children(parent)
		for i := q[len(q)-1] + 1; i < len(kids); i++ {
			if v.visible(kids[i]) {
				q[len(q)-1] = i
				return q
			}
		}
	}
	return nil
}

// prev returns the row before p, or nil at the start.
func (v *treeView) prev(p pos) pos {
	q := p.clone()
	parent := v.node(q[:len(q)-1])
	kids := v.children(parent)
	for i := q[len(q)-1] - 1; i >= 0; i-- {
		if v.visible(kids[i]) {
			q[len(q)-1] = i
			return v.lastUnder(q)
		}
	}
	if len(q) == 1 {
		return nil
	}
	return q[:len(q)-1]
}

// lastUnder descends from p to its last visible descendant.
func (v *treeView) lastUnder(p pos) pos {
	for {
		n := v.node(p)
		if m, _, _ := v.state(n); m.Kind != tree.KindDir || !v.expanded(n) {
			return p
		}
		kids := v.children(n)
		found := false
		for i := len(kids) - 1; i >= 0; i-- {
			if v.visible(kids[i]) {
				p = append(p, i)
				found = true
				break
			}
		}
		if !found {
			return p
		}
	}
}

// last returns the last row.
func (v *treeView) last() pos {
	kids := v.children(0)
	for i := len(kids) - 1; i >= 0; i-- {
		if v.visible(kids[i]) {
			return v.lastUnder(pos{i})
		}
	}
	return nil
}

// find returns the position of node n; when a directory above it is
// collapsed, that directory's; nil when it is not a row.
func (v *treeView) find(n tree.NodeID) pos {
	var chain []tree.NodeID
	for ; n != 0; n = v.t.Parent(n) {
		chain = append(chain, n)
	}
	var p pos
	parent := tree.NodeID(0)
	for i := len(chain) - 1; i >= 0; i-- {
		if !v.expanded(parent) {
			return p
		}
		if !v.visible(chain[i]) {
			return nil
		}
		idx := slices.Index(v.children(parent), chain[i])
		if idx < 0 {
			return nil
		}
		p = append(p, idx)
		parent = chain[i]
	}
	return p
}

// snapshot is a copy that a command may walk while Update goes on.
func (v *treeView) snapshot() *treeView {
	c := *v
	c.collapse = maps.Clone(v.collapse)
	c.order = map[tree.NodeID][]tree.NodeID{}
	c.shownBelow = nil
	return &c
}

// countRows returns the index of target's row (-1 when it is not one)
// and the number of rows. It stops, returning ok false, once stale (when
// given) reports true; it asks every 4096 rows.
func (v *treeView) countRows(target tree.NodeID, stale func() bool) (idx, total int, ok bool) {
	idx = -1
	var walk func(n tree.NodeID) bool
	walk = func(n tree.NodeID) bool {
		for _, k := range v.children(n) {
			if !v.visible(k) {
				continue
			}
			if k == target {
				idx = total
			}
			total++
			if total&4095 == 0 && stale != nil && stale() {
				return false
			}
			if m, _, _ := v.state(k); m.Kind == tree.KindDir && v.expanded(k) && len(v.t.Children(k)) > 0 {
				if !walk(k) {
					return false
				}
			}
		}
		return true
	}
	ok = walk(0)
	return idx, total, ok
}

// compileFilter reads a filter as a regular expression, case folded:
// plain text is one too, mostly ("go.sum" also matches "goXsum").
func compileFilter(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile("(?i)" + pattern)
}

// computeMatches keeps the nodes whose path the expression matches, and
// their parents.
func computeMatches(t *tree.Tree, pattern string, re *regexp.Regexp) *matchSet {
	ms := &matchSet{pattern: pattern, keep: make([]bool, t.Len()), hit: make([]bool, t.Len())}
	ms.keep[0] = true
	for n := tree.NodeID(1); int(n) < t.Len(); n++ {
		if re.MatchString(t.Path(n)) {
			ms.count++
			ms.hit[n] = true
			for a := n; a != 0 && !ms.keep[a]; a = t.Parent(a) {
				ms.keep[a] = true
			}
		}
	}
	return ms
}
