package diff

import (
	"context"
	"fmt"

	"github.com/layerscope/layerscope/tree"
)

// Union is OLD's and NEW's final trees as one tree of two layers, the
// view of the difference that the explorer walks: layer 0 is OLD's final
// image, and layer 1 turns it into NEW's. Layer 1 adds what NEW added,
// writes again what changed (as Differ says) and hides what NEW removed,
// so that for every path:
//   - Change(n, 1) is Added, Modified or Removed as Compare counts it
//     (Modified for changed), Unchanged otherwise;
//   - At(n, 0) is its version in OLD and At(n, 1) its version in NEW;
//   - a removed path stays in the tree, its OLD version below layer 1.
//
// Layer 1's stats count Compare's added, changed and removed paths, and
// its bytes are those of the regular files NEW added or changed. Neither
// tree changes. The work is linear in the two trees; ctx is checked as it
// goes.
func Union(ctx context.Context, old, new *tree.Tree) (*tree.Tree, error) {
	if old == nil || new == nil {
		return nil, errNoTree
	}
	u := unionBuilder{ctx: ctx, old: old, new: new}
	u.all(old, 0, &u.base)
	if err := u.walk(0, 0); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := tree.NewBuilder()
	for i, cs := range []*tree.ChangeSet{&u.base, &u.top} {
		if _, err := b.Apply(ctx, cs); err != nil {
			return nil, fmt.Errorf("the union of the two trees, layer %d: %w", i, err)
		}
	}
	return b.Finish(), nil
}

// unionBuilder gathers the two change sets of Union.
type unionBuilder struct {
	ctx       context.Context
	old, new  *tree.Tree
	base, top tree.ChangeSet
	steps     int
}

// add puts what n is in t's final image into cs.
func add(t *tree.Tree, n tree.NodeID, m tree.Meta, cs *tree.ChangeSet) {
	cs.Entries = append(cs.Entries, tree.Entry{Path: t.Path(n), Meta: m})
	if m.Kind == tree.KindFile {
		cs.Bytes += m.Size
	}
}

// all puts every path under n of t's final image into cs, parents first.
func (u *unionBuilder) all(t *tree.Tree, n tree.NodeID, cs *tree.ChangeSet) {
	for _, c := range t.Children(n) {
		if u.steps++; u.steps&1023 == 0 && u.ctx.Err() != nil {
			return // Union reports it
		}
		m, _, ok := t.Final(c)
		if !ok {
			continue // hidden, and all under it
		}
		add(t, c, m, cs)
		u.all(t, c, cs)
	}
}

// walk compares the children of on (in OLD) and nn (in NEW), two paths
// that both images hold as directories (or the root), as Compare does,
// and puts into layer 1 what makes OLD's children NEW's.
func (u *unionBuilder) walk(on, nn tree.NodeID) error {
	ok, nk := u.old.Children(on), u.new.Children(nn)
	return pair(u.ctx, &u.steps, u.old, u.new, ok, nk, func(o, n tree.NodeID) error {
		var om, nm tree.Meta
		oOK, nOK := false, false
		if o != none {
			om, _, oOK = u.old.Final(o)
		}
		if n != none {
			nm, _, nOK = u.new.Final(n)
		}
		switch {
		case oOK && nOK:
			if Differ(&om, &nm) {
				// A non-directory over a directory hides all it held.
				add(u.new, n, nm, &u.top)
			}
			switch {
			case om.Kind == tree.KindDir && nm.Kind == tree.KindDir:
				if err := u.walk(o, n); err != nil {
					return err
				}
			case nm.Kind == tree.KindDir:
				u.all(u.new, n, &u.top)
			}
		case nOK:
			add(u.new, n, nm, &u.top)
			u.all(u.new, n, &u.top)
		case oOK:
			// A whiteout hides the path and all under it.
			u.top.Whiteouts = append(u.top.Whiteouts, u.old.Path(o))
		}
		return nil
	})
}
