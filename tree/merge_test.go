package tree_test

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/layerscope/layerscope/tree"
)

// streamLayer parses a layer that write generates entry by entry, through
// a pipe: a layer of a hundred thousand entries is never held as a tar.
func streamLayer(t *testing.T, write func(tw *tar.Writer) error) *tree.ChangeSet {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		tw := tar.NewWriter(bw)
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	cs, err := tree.Parse(context.Background(), pr, nil)
	pr.Close()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func reg(tw *tar.Writer, name, body string) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
		return err
	}
	_, err := io.WriteString(tw, body)
	return err
}

func dir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755})
}

// repeat writes n entries, the i-th by entry(i).
func repeat(n int, entry func(tw *tar.Writer, i int) error) func(tw *tar.Writer) error {
	return func(tw *tar.Writer) error {
		for i := range n {
			if err := entry(tw, i); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestHostileLayersMergeInTime merges layers that cost the old merge time
// in proportion to markers × children (minutes for these): a directory is
// emptied once per layer, whatever the number of markers or entries that
// empty it again. Each must finish well within its deadline, with the
// figures SPEC.md gives.
func TestHostileLayersMergeInTime(t *testing.T) {
	const n = 60_000 // files in d, and markers or repeats in the layer above
	const k = n / 2  // rounds of replacing d in the layer above
	below := streamLayer(t, repeat(n, func(tw *tar.Writer, i int) error { return reg(tw, fmt.Sprintf("d/f%05d", i), "x") }))
	tests := []struct {
		name   string
		layer  func(tw *tar.Writer) error
		counts []counts
		stats  tree.ImageStats
	}{{
		name:   "the same opaque marker many times",
		layer:  repeat(n, func(tw *tar.Writer, _ int) error { return reg(tw, "d/.wh..wh..opq", "") }),
		counts: []counts{{n + 1, 0, 0}, {0, 0, n}},
		stats:  tree.ImageStats{Files: 1, ContentBytes: n, WastedBytes: n, BaseBytes: n},
	}, {
		name:   "opaque markers of the root many times",
		layer:  repeat(n, func(tw *tar.Writer, _ int) error { return reg(tw, ".wh..wh..opq", "") }),
		counts: []counts{{n + 1, 0, 0}, {0, 0, n + 1}},
		stats:  tree.ImageStats{ContentBytes: n, WastedBytes: n, BaseBytes: n},
	}, {
		name:   "the same whiteout many times",
		layer:  repeat(n, func(tw *tar.Writer, _ int) error { return reg(tw, ".wh.d", "") }),
		counts: []counts{{n + 1, 0, 0}, {0, 0, n + 1}},
		stats:  tree.ImageStats{ContentBytes: n, WastedBytes: n, BaseBytes: n},
	}, {
		name: "a directory replaced by a file and back, many times",
		layer: repeat(2*k+1, func(tw *tar.Writer, i int) error {
			if i%2 == 1 {
				return dir(tw, "d/")
			}
			return reg(tw, "d", "y")
		}),
		// d: modified (a file now); the n files under it removed. Every
		// copy of the file d but the last is replaced by a directory.
		counts: []counts{{n + 1, 0, 0}, {0, 1, n}},
		stats:  tree.ImageStats{Files: 1, RegularFiles: 1, FinalBytes: 1, ContentBytes: n + k + 1, WastedBytes: n + k, BaseBytes: n},
	}, {
		name: "a file under a replaced directory, many times",
		layer: repeat(2*k+1, func(tw *tar.Writer, i int) error {
			if i%2 == 1 {
				return reg(tw, "d/new", "z")
			}
			return reg(tw, "d", "y")
		}),
		// Each round wastes a copy of d (replaced by the directory d/new
		// needs) and one of d/new (hidden by the next d).
		counts: []counts{{n + 1, 0, 0}, {0, 1, n}},
		stats:  tree.ImageStats{Files: 1, RegularFiles: 1, FinalBytes: 1, ContentBytes: n + 2*k + 1, WastedBytes: n + 2*k, BaseBytes: n},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			above := streamLayer(t, tc.layer) // Apply reads change sets, never changes them
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			type result struct {
				tr  *tree.Tree
				err error
			}
			done := make(chan result, 1)
			go func() {
				b := tree.NewBuilder()
				for _, cs := range []*tree.ChangeSet{below, above} {
					if _, err := b.Apply(ctx, cs); err != nil {
						done <- result{err: err}
						return
					}
				}
				done <- result{tr: b.Finish()}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second): // the deadline, and a grace for a merge that ignores it
				t.Fatal("the merge ignored its 10 s deadline")
			}
			if r.err != nil {
				t.Fatalf("merge: %v (the deadline is 10 s)", r.err)
			}
			if got := layerCounts(r.tr); !reflect.DeepEqual(got, tc.counts) {
				t.Errorf("counts = %+v, want %+v", got, tc.counts)
			}
			if got := r.tr.Stats(); got != tc.stats {
				t.Errorf("stats = %+v, want %+v", got, tc.stats)
			}
			checkInvariants(t, r.tr)
		})
	}
}

// TestApplyHonoursCancellation: whatever a layer holds, a cancelled
// context stops the merge with its error.
func TestApplyHonoursCancellation(t *testing.T) {
	base := &tree.ChangeSet{Entries: []tree.Entry{
		{Path: "d", Meta: tree.Meta{Kind: tree.KindDir, Mode: 0o755}},
		{Path: "d/f", Meta: tree.Meta{Kind: tree.KindFile, Mode: 0o644, Size: 1}},
	}, Bytes: 1}
	tests := []struct {
		name string
		cs   *tree.ChangeSet
	}{
		{"entries", &tree.ChangeSet{Entries: []tree.Entry{{Path: "e", Meta: tree.Meta{Kind: tree.KindDir}}}}},
		{"whiteouts only", &tree.ChangeSet{Whiteouts: []string{"d"}}},
		{"opaque markers only", &tree.ChangeSet{Opaques: []string{"d"}}},
		{"nothing", &tree.ChangeSet{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tree.NewBuilder()
			if _, err := b.Apply(context.Background(), base); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := b.Apply(ctx, tc.cs); !errors.Is(err, context.Canceled) {
				t.Errorf("Apply with a cancelled context = %v, want context.Canceled", err)
			}
		})
	}
}
