package image

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/layerscope/layerscope/tree"
)

// merger merges the layers' change sets into one tree.Builder in layer
// order, base first, as soon as a layer and every layer below it are
// parsed, and frees each change set once its last position is merged: the
// heap then holds the tree and the few change sets parsed out of order,
// never every layer's at once.
//
// Positions are named by keys: a layer's name in the archive where the
// manifest came first, its diff ID where the daemon listed them before
// the export streamed. A key may stand at several positions (a layer
// listed twice); a change set offered for a key no position names, or one
// already held, is left alone.
type merger struct {
	ctx      context.Context
	b        *tree.Builder
	byDiffID bool

	mu      sync.Mutex
	order   []string         // each position's key, base first
	uses    map[string]int   // positions not merged yet, by key
	ready   map[string]*blob // parsed, waiting for the layers below
	next    int              // the position to merge next
	entries int              // entries merged, a repeated layer's each time
	claimed int              // entries of the layers offered, at every position
	busy    bool             // a goroutine is merging
	stopped bool             // past the entry bound, or failed: merge no more
	err     error            // the merge's error, naming its layer
}

func newMerger(ctx context.Context, order []string, byDiffID bool) *merger {
	m := &merger{ctx: ctx, b: tree.NewBuilder(), byDiffID: byDiffID, order: order,
		uses: map[string]int{}, ready: map[string]*blob{}}
	for _, k := range order {
		m.uses[k]++
	}
	return m
}

// offer hands over a parsed blob under key. The goroutine whose offer
// completes the next position merges it, and every position after it that
// is ready, before it returns; an offer that finds the merge busy returns
// at once, leaving its blob to that goroutine. m may be nil.
func (m *merger) offer(key string, b *blob) {
	if m == nil || b.err != nil || b.changes == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.uses[key] == 0 || m.ready[key] != nil {
		return
	}
	m.ready[key] = b
	if m.claimed += m.uses[key] * len(b.changes.Entries); m.claimed > MaxEntries {
		// A layer listed again and again: finish counts the positions
		// left and says so, as it would unmerged, and none is merged.
		m.stopped = true
	}
	if m.busy {
		return
	}
	m.busy = true
	defer func() { m.busy = false }()
	for !m.stopped && m.next < len(m.order) {
		key := m.order[m.next]
		b := m.ready[key]
		if b == nil {
			return
		}
		cs := b.changes
		i := m.next
		m.mu.Unlock()
		_, err := m.b.Apply(m.ctx, cs)
		m.mu.Lock()
		if err != nil {
			m.stopped, m.err = true, fmt.Errorf("merging layer %d: %w", i, err)
			return
		}
		m.entries += len(cs.Entries)
		m.next++
		if m.uses[key]--; m.uses[key] == 0 {
			delete(m.ready, key)
			b.changes = nil // merged: its entries live on in the tree
		}
	}
}

// stop ends the merge after the layer it is at: the read failed.
func (m *merger) stop() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
}

// merged reports how many positions are merged, and their entries. Call
// it once the parse is over.
func (m *merger) merged() (positions, entries int) {
	if m == nil {
		return 0, 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next, m.entries
}

// errMergedOther is a stream whose layers, merged by the diff IDs the
// daemon listed before it sent them, are not the ones its manifest names:
// the image changed between the two calls.
var errMergedOther = errors.New("the layers the daemon listed are not the ones its export holds: the image changed during the export (try again)")

// complete merges what the parse left unmerged, in order, and returns the
// tree. keys are the image's layers' keys as resolved (names, or diff IDs
// when the merge went by diff ID); blobs its parsed layers. m nil merges
// them all here, the way a stream whose order came last must. Call it once
// every digest is checked.
func (m *merger) complete(ctx context.Context, names, diffIDs []string, blobs []*blob) (*tree.Tree, error) {
	b, done := tree.NewBuilder(), 0
	if m != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.err != nil {
			return nil, m.err
		}
		keys := names
		if m.byDiffID {
			keys = diffIDs
		}
		if len(m.order) != len(keys) && m.next > 0 {
			return nil, errMergedOther
		}
		for i := range m.next {
			if m.order[i] != keys[i] {
				return nil, errMergedOther
			}
		}
		b, done = m.b, m.next
	}
	last := map[*blob]int{}
	for i := done; i < len(blobs); i++ {
		last[blobs[i]] = i
	}
	for i := done; i < len(blobs); i++ {
		cs := blobs[i].changes
		if cs == nil {
			return nil, errMergedOther // freed by a merge that went another way
		}
		if _, err := b.Apply(ctx, cs); err != nil {
			return nil, fmt.Errorf("merging layer %d: %w", i, err)
		}
		if last[blobs[i]] == i {
			blobs[i].changes = nil
		}
	}
	return b.Finish(), nil
}
