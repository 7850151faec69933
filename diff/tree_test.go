package diff_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/diff"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// finalPaths calls fn for every path of t's final image.
func finalPaths(t *tree.Tree, fn func(p string, m tree.Meta)) {
	var walk func(n tree.NodeID)
	walk = func(n tree.NodeID) {
		for _, c := range t.Children(n) {
			if m, _, ok := t.Final(c); ok {
				fn(t.Path(c), m)
				walk(c)
			}
		}
	}
	walk(0)
}

// TestUnion: the union tree of two images says what Compare says, path by
// path: layer 1's change is the path's, its versions at layers 0 and 1
// are OLD's and NEW's, removed paths stay with their OLD version, and the
// layer's counts are the summary's.
func TestUnion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new it.Image
	}{
		{"the same image", it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v1"))}}, it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v1"))}}},
		{"added, removed and changed content",
			it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v1"), it.Dir("src/"), it.Dir("src/pkg/"), it.Reg("src/pkg/main.go", "package main"))}},
			it.Image{Layers: [][]byte{base, it.Layer(it.Reg("app", "v2 longer"), it.Dir("new/"), it.Reg("new/a.txt", "hello"))}}},
		{"modes, owners, link targets",
			it.Image{Layers: [][]byte{base, it.Layer(it.Dir("d/"), it.Reg("d/f", "1"), it.Reg("run", "x"), it.Reg("own", "y"), it.Sym("ln", "a"))}},
			it.Image{Layers: [][]byte{base, it.Layer(it.Chmod(it.Dir("d/"), 0o700), it.Reg("d/f", "1"), it.Chmod(it.Reg("run", "x"), 0o755), it.Owned(it.Reg("own", "y"), 1, 2), it.Sym("ln", "b"))}}},
		{"a directory becomes a file, a file a directory",
			it.Image{Layers: [][]byte{base, it.Layer(it.Dir("x/"), it.Reg("x/in", "1"), it.Dir("x/sub/"), it.Reg("x/sub/deep", "2"), it.Reg("y", "file"))}},
			it.Image{Layers: [][]byte{base, it.Layer(it.Reg("x", "now a file"), it.Dir("y/"), it.Reg("y/in", "3"))}}},
		{"NEW removes with whiteouts",
			it.Image{Layers: [][]byte{base}},
			it.Image{Layers: [][]byte{base, it.Layer(it.Reg("tmp.bin", "0123456789")), it.Layer(it.Whiteout("", "tmp.bin"), it.Whiteout("", "bin"))}}},
		{"a different base", it.Image{Layers: [][]byte{base}},
			it.Image{Layers: [][]byte{it.Layer(it.Dir("etc/"), it.Reg("etc/os-release", "alpine"), it.Dir("bin/"), it.Reg("bin/sh", "ELF shell"))}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, new := analyse(t, tc.old), analyse(t, tc.new)
			d, err := diff.Compare(context.Background(), old, new)
			if err != nil {
				t.Fatal(err)
			}
			u, err := diff.Union(context.Background(), old.Tree, new.Tree)
			if err != nil {
				t.Fatal(err)
			}
			checkUnion(t, d, old, new, u)
		})
	}
}

// checkUnion checks u against d, old and new.
func checkUnion(t *testing.T, d *diff.Diff, old, new *report.Report, u *tree.Tree) {
	t.Helper()
	want := map[string]tree.Change{diff.Added: tree.Added, diff.Changed: tree.Modified, diff.Removed: tree.Removed}
	for _, p := range d.Paths {
		n, ok := u.Lookup(strings.TrimPrefix(p.Path, "/"))
		if !ok {
			t.Errorf("%s %s: not in the union", p.Change, p.Path)
			continue
		}
		if got := u.Change(n, 1); got != want[p.Change] {
			t.Errorf("%s %s: layer 1 %s it", p.Change, p.Path, got)
		}
		om, oOK := u.At(n, 0)
		nm, nOK := u.At(n, 1)
		if oOK != (p.Change != diff.Added) || nOK != (p.Change != diff.Removed) {
			t.Errorf("%s %s: in OLD %v, in NEW %v", p.Change, p.Path, oOK, nOK)
		}
		size := func(m tree.Meta, ok bool) int64 {
			if !ok || m.Kind != tree.KindFile {
				return 0
			}
			return m.Size
		}
		if size(om, oOK) != p.OldBytes || size(nm, nOK) != p.NewBytes {
			t.Errorf("%s %s: %d > %d bytes, want %d > %d", p.Change, p.Path, size(om, oOK), size(nm, nOK), p.OldBytes, p.NewBytes)
		}
	}
	changed := 0
	for n := tree.NodeID(1); int(n) < u.Len(); n++ {
		if u.Change(n, 1) != tree.Unchanged {
			changed++
		}
	}
	if changed != len(d.Paths) {
		t.Errorf("%d paths changed in layer 1, want %d", changed, len(d.Paths))
	}
	if st := u.Layers()[1]; st.Added != d.Summary.Added || st.Modified != d.Summary.Changed || st.Removed != d.Summary.Removed {
		t.Errorf("layer 1 counts +%d ~%d -%d, want +%d ~%d -%d", st.Added, st.Modified, st.Removed, d.Summary.Added, d.Summary.Changed, d.Summary.Removed)
	}
	// Each image is whole at its layer, every version the same.
	for i, side := range []*report.Report{old, new} {
		finalPaths(side.Tree, func(p string, m tree.Meta) {
			n, ok := u.Lookup(p)
			got, exists := u.At(n, i)
			if !ok || !exists || diff.Differ(&got, &m) {
				t.Errorf("/%s: not at layer %d as the image has it", p, i)
			}
		})
	}
}

func TestUnionCancelled(t *testing.T) {
	var files []it.File
	for i := range 5000 {
		files = append(files, it.Reg("f/"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+"-"+string(rune('a'+i/26%26))+string(rune('a'+i/676)), "1"))
	}
	old := analyse(t, it.Image{Layers: [][]byte{it.Layer(files...)}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := diff.Union(ctx, old.Tree, old.Tree); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled union: %v", err)
	}
	if _, err := diff.Union(context.Background(), nil, old.Tree); err == nil {
		t.Error("a report without its tree gave no error")
	}
}
