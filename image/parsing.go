package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/layerscope/layerscope/tree"
)

// parsing is what the layer parsers of one Load share: the options of
// tree.Parse, one budget of entries for every layer parsed, and, when Load
// merges (Options.Merge), the merger that takes each layer as it is
// parsed once the order of the layers is known.
type parsing struct {
	opt     tree.ParseOptions
	budget  *entryBudget
	merging bool
	merge   *merger // nil until the order is known, and on a stream that names it last
}

func newParsing(opt Options) *parsing {
	return &parsing{opt: tree.ParseOptions{Sniff: opt.Sniff}, budget: newEntryBudget(maxEntries), merging: opt.Merge}
}

// startMerge sets the image's layer order, base first, when Load merges:
// from then on each layer parsed is offered to ps.merge under its key (its
// name, or its diff ID). The first order set stays.
func (ps *parsing) startMerge(ctx context.Context, keys []string, byDiffID bool) *merger {
	if ps.merging && ps.merge == nil {
		ps.merge = newMerger(ctx, keys, byDiffID)
	}
	return ps.merge
}

// Each store's blobs go through the parsing of its Load; finish asks it
// for the merge.
func (t *tarFile) parsing() *parsing     { return t.ps }
func (d *dirStore) parsing() *parsing    { return d.ps }
func (s *streamStore) parsing() *parsing { return s.ps }
func (s *remoteStore) parsing() *parsing { return s.ps }

// maxEntries is MaxEntries; tests lower it.
var maxEntries = MaxEntries

// parse reads one layer tar within the budget: the layer may keep at most
// what is left of it, and what it keeps is taken from it.
func (ps *parsing) parse(ctx context.Context, r io.Reader) (*tree.ChangeSet, error) {
	opt := ps.opt
	opt.MaxEntries = ps.budget.limit()
	if opt.MaxEntries <= 0 {
		return nil, ps.budget.err()
	}
	cs, err := tree.Parse(ctx, r, &opt)
	if errors.Is(err, tree.ErrTooManyEntries) && opt.MaxEntries < tree.DefaultMaxEntries {
		return nil, ps.budget.exhaust()
	}
	if err != nil {
		return nil, err
	}
	if err := ps.budget.spend(len(cs.Entries)); err != nil {
		return nil, err
	}
	if parsedHook != nil {
		parsedHook(cs)
	}
	return cs, nil
}

// parsedHook, when tests set it, sees each change set as its parse ends.
var parsedHook func(*tree.ChangeSet)

// entryBudget bounds the entries of all the layers one Load parses: the
// chosen image's, and on a stream every layer that streams past before the
// manifest says which are the image's. A parser may keep what is left when
// it starts, and what it keeps is counted when it ends: the few parsers at
// work at once (one per core) may each hold up to what was left, and the
// next one to start or end past the budget fails.
type entryBudget struct {
	mu    sync.Mutex
	max   int
	spent int
}

func newEntryBudget(max int) *entryBudget { return &entryBudget{max: max} }

// limit is the most entries the next layer may keep: what is left, and
// never more than tree's bound on one layer.
func (b *entryBudget) limit() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return min(b.max-b.spent, tree.DefaultMaxEntries)
}

// spend takes n entries from the budget.
func (b *entryBudget) spend(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += n
	if b.spent > b.max {
		return b.errLocked()
	}
	return nil
}

// exhaust marks the budget spent, by a layer that went past what was left.
func (b *entryBudget) exhaust() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent = b.max + 1
	return b.errLocked()
}

// check says whether the budget is overdrawn.
func (b *entryBudget) check() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent > b.max {
		return b.errLocked()
	}
	return nil
}

func (b *entryBudget) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errLocked()
}

func (b *entryBudget) errLocked() error {
	return fmt.Errorf("%w: more than %d in all the layers read (layerscope's limit)", tree.ErrTooManyEntries, b.max)
}
