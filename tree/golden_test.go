package tree_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/tree"
)

var update = flag.Bool("update", false, "rewrite testdata/merge.golden")

// randomStack returns 1 to 5 layers of random entries, whiteouts and
// opaque markers over a few short names, seeded by i: every case of
// SPEC.md's merge turns up somewhere among a few thousand.
func randomStack(i int) []*tree.ChangeSet {
	r := rand.New(rand.NewPCG(uint64(i), 10))
	names := []string{"a", "b", "c"}
	path := func() string {
		var segs []string
		for range 1 + r.IntN(3) {
			segs = append(segs, names[r.IntN(len(names))])
		}
		return strings.Join(segs, "/")
	}
	var out []*tree.ChangeSet
	for range 1 + r.IntN(5) {
		cs := &tree.ChangeSet{}
		for range r.IntN(10) {
			switch k := r.IntN(10); {
			case k == 0:
				cs.Whiteouts = append(cs.Whiteouts, path())
			case k == 1:
				p := path()
				if r.IntN(4) == 0 {
					p = ""
				}
				cs.Opaques = append(cs.Opaques, p)
			default:
				m := tree.Meta{Mode: []uint32{0o644, 0o755}[r.IntN(2)], UID: uint32(r.IntN(2))}
				switch r.IntN(6) {
				case 0, 1:
					m.Kind = tree.KindDir
				case 2:
					m.Kind, m.Link = tree.KindSymlink, path()
				case 3:
					m.Kind, m.Link = tree.KindHardlink, path()
				default:
					m.Kind, m.Size, m.Hash, m.Flags = tree.KindFile, int64(1+r.IntN(3)), uint64(r.IntN(2)), tree.Flags(r.IntN(2))
					cs.Bytes += m.Size
				}
				cs.Entries = append(cs.Entries, tree.Entry{Path: path(), Meta: m})
			}
		}
		out = append(out, cs)
	}
	return out
}

// dump writes everything a merged tree tells: figures, waste with its
// events, warnings, and every path's versions, changes and state at each
// layer, in path order.
func dump(w *strings.Builder, tr *tree.Tree) {
	fmt.Fprintf(w, "stats %+v\n", tr.Stats())
	for i, l := range tr.Layers() {
		fmt.Fprintf(w, "layer %d %+v\n", i, l)
	}
	for _, x := range tr.Waste() {
		fmt.Fprintf(w, "waste %q %d %v %+v\n", x.Path, x.Bytes, x.Layers, x.Events)
	}
	for _, x := range tr.Warnings() {
		fmt.Fprintf(w, "warning %s\n", x)
	}
	var walk func(n tree.NodeID)
	walk = func(n tree.NodeID) {
		fmt.Fprintf(w, "path %q name %q\n", tr.Path(n), tr.Name(n))
		for l := range tr.Layers() {
			m, ok := tr.At(n, l)
			fmt.Fprintf(w, "  at %d %v %+v %v\n", l, tr.Change(n, l), m, ok)
		}
		m, l, ok := tr.Final(n)
		fmt.Fprintf(w, "  final %+v %d %v\n", m, l, ok)
		tr.Versions(n, func(l int, m tree.Meta) { fmt.Fprintf(w, "  version %d %+v\n", l, m) })
		tr.Older(n, func(l int, m *tree.Meta) bool { fmt.Fprintf(w, "  older %d %+v\n", l, *m); return true })
		if got, ok := tr.Lookup(tr.Path(n)); !ok || got != n {
			fmt.Fprintf(w, "  lookup %d %v\n", got, ok)
		}
		for _, k := range tr.Children(n) {
			if tr.Parent(k) != n {
				fmt.Fprintf(w, "  parent of %q is %d\n", tr.Name(k), tr.Parent(k))
			}
			walk(k)
		}
	}
	walk(0)
}

// TestMergeGolden merges 3,000 random layer stacks and compares all a
// tree tells with what the reviewed merge told (testdata/merge.golden,
// a digest per stack, recorded before the tree was made compact): the
// storage may change, no figure may.
func TestMergeGolden(t *testing.T) {
	const stacks = 3000
	var got []string
	for i := range stacks {
		b := tree.NewBuilder()
		var w strings.Builder
		for j, cs := range randomStack(i) {
			if _, err := b.Apply(context.Background(), cs); err != nil {
				t.Fatalf("stack %d layer %d: %v", i, j, err)
			}
		}
		tr := b.Finish()
		checkInvariants(t, tr)
		dump(&w, tr)
		got = append(got, fmt.Sprintf("%d %x", i, sha256.Sum256([]byte(w.String()))))
	}
	const golden = "testdata/merge.golden"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	bad := 0
	for i := 0; sc.Scan(); i++ {
		if i >= len(got) || sc.Text() != got[i] {
			bad++
			if bad <= 5 {
				var w strings.Builder
				b := tree.NewBuilder()
				for _, cs := range randomStack(i) {
					b.Apply(context.Background(), cs)
				}
				dump(&w, b.Finish())
				t.Errorf("stack %d differs from the golden; the tree now tells:\n%s", i, w.String())
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d stacks differ", bad, stacks)
	}
}
