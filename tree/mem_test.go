package tree_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/tree"
)

// synthetic returns the change sets of an image shaped like
// internal/imagetest.WriteLarge's: files spread over 500 package
// directories per layer, a last layer that rewrites a tenth of layer 0's
// files and empties a directory, and a symlink in every 20 entries.
func synthetic(files, layers int) []*tree.ChangeSet {
	var out []*tree.ChangeSet
	per := files / layers
	for l := range layers {
		cs := &tree.ChangeSet{}
		for i := range per {
			p := fmt.Sprintf("usr/lib/pkg%03d/l%d/file%05d.so", i%500, l, i)
			if l == layers-1 && i < per/10 {
				p = fmt.Sprintf("usr/lib/pkg%03d/l0/file%05d.so", i%500, i)
			}
			m := tree.Meta{Kind: tree.KindFile, Mode: 0o755, Size: int64(i % 4096), Hash: uint64(i*7 + l)}
			if i%20 == 19 {
				m = tree.Meta{Kind: tree.KindSymlink, Mode: 0o777, Link: fmt.Sprintf("file%05d.so", i-1)}
			}
			cs.Entries = append(cs.Entries, tree.Entry{Path: p, Meta: m})
			cs.Bytes += m.Size
		}
		if l == layers-1 && layers > 1 {
			cs.Opaques = append(cs.Opaques, "usr/lib/pkg007/l1")
		}
		out = append(out, cs)
	}
	return out
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// mergedBytesPerEntry merges a synthetic image, freeing each change set
// once merged as image.Load does (Options.Merge), and returns the live
// heap the tree holds per path (what the change sets allocated is counted
// too: a tree may keep their strings).
func mergedBytesPerEntry(t testing.TB, files, layers int) float64 {
	before := heap()
	sets := synthetic(files, layers)
	b := tree.NewBuilder()
	for i := range sets {
		if _, err := b.Apply(context.Background(), sets[i]); err != nil {
			t.Fatal(err)
		}
		sets[i] = nil
	}
	tr := b.Finish()
	after := heap()
	runtime.KeepAlive(tr)
	return float64(int64(after)-int64(before)) / float64(tr.Len())
}

// TestMergedTreeMemory holds the merged tree to at most 100 bytes per path
// (issue 10): node, name, versions, children and side tables together.
func TestMergedTreeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a tree of 300,000 paths")
	}
	if per := mergedBytesPerEntry(t, 300_000, 7); per > 100 {
		t.Errorf("%.1f bytes per path live after the merge, want at most 100", per)
	} else {
		t.Logf("%.1f bytes per path live after the merge", per)
	}
}

// BenchmarkMerge merges a synthetic image of a million files in 7 layers
// and reports the live bytes per path the tree holds after (the change
// sets are made outside the timer).
func BenchmarkMerge(b *testing.B) {
	per := mergedBytesPerEntry(b, 1_000_000, 7)
	for b.Loop() {
		b.StopTimer()
		sets := synthetic(1_000_000, 7)
		b.StartTimer()
		bl := tree.NewBuilder()
		for i := range sets {
			if _, err := bl.Apply(context.Background(), sets[i]); err != nil {
				b.Fatal(err)
			}
			sets[i] = nil
		}
		bl.Finish()
	}
	b.ReportMetric(per, "B/path")
}

// TestParseLeavesNoSlack: a change set waits in memory for the layers
// below it, so Parse returns its entries without the room append left.
func TestParseLeavesNoSlack(t *testing.T) {
	for _, n := range []int{1, 520, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cs := streamLayer(t, repeat(n, func(tw *tar.Writer, i int) error { return reg(tw, fmt.Sprintf("d/f%05d", i), "x") }))
			if len(cs.Entries) != n {
				t.Fatalf("%d entries, want %d", len(cs.Entries), n)
			}
			if c := cap(cs.Entries); c > n+n/16 {
				t.Errorf("capacity %d for %d entries", c, n)
			}
		})
	}
}

// TestApplyBounds: a node keeps a name's length in 16 bits and a layer's
// number in 15: a change set past either is an error, never a name cut
// short or a layer number wrapped.
func TestApplyBounds(t *testing.T) {
	tests := []struct {
		name   string
		layers int
		path   string
		want   error
	}{
		{"a name of 70,000 bytes", 1, "d/" + strings.Repeat("x", 70_000), tree.ErrName},
		{"a name of 60,000 bytes", 1, "d/" + strings.Repeat("x", 60_000), nil},
		{"32,768 layers", 32_768, "a", tree.ErrTooManyLayers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tree.NewBuilder()
			var err error
			for i := 0; i < tt.layers && err == nil; i++ {
				_, err = b.Apply(context.Background(), &tree.ChangeSet{Entries: []tree.Entry{{Path: tt.path, Meta: tree.Meta{Kind: tree.KindFile}}}})
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Apply: %v, want %v", err, tt.want)
			}
			if err == nil {
				if n, ok := b.Finish().Lookup(tt.path); !ok || n == 0 {
					t.Errorf("%.20q… not found", tt.path)
				}
			}
		})
	}
}
