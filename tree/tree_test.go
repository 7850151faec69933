package tree_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/tree"
)

func build(t *testing.T, layers ...[]byte) *tree.Tree {
	t.Helper()
	b := tree.NewBuilder()
	for i, l := range layers {
		cs, err := tree.Parse(context.Background(), bytes.NewReader(l), nil)
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		if _, err := b.Apply(context.Background(), cs); err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
	}
	return b.Finish()
}

type counts struct{ Added, Modified, Removed int }

func layerCounts(tr *tree.Tree) []counts {
	var out []counts
	for _, l := range tr.Layers() {
		out = append(out, counts{l.Added, l.Modified, l.Removed})
	}
	return out
}

var base = it.Layer(it.Dir("a/"), it.Reg("a/x", "0123456789"), it.Reg("b", "12345"))

func TestMerge(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]byte
		counts []counts
		stats  tree.ImageStats
		waste  []tree.Waste
	}{{
		name:   "modify and add",
		layers: [][]byte{base, it.Layer(it.Reg("a/x", "01234567890123456789"), it.Reg("c", "c"))},
		counts: []counts{{3, 0, 0}, {1, 1, 0}},
		stats:  tree.ImageStats{Files: 4, RegularFiles: 3, FinalBytes: 26, ContentBytes: 36, WastedBytes: 10, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "whiteout hides a directory and all under it",
		layers: [][]byte{base, it.Layer(it.Whiteout("", "a"))},
		counts: []counts{{3, 0, 0}, {0, 0, 2}},
		stats:  tree.ImageStats{Files: 1, RegularFiles: 1, FinalBytes: 5, ContentBytes: 15, WastedBytes: 10, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "opaque directory keeps the directory",
		layers: [][]byte{base, it.Layer(it.Dir("a/"), it.Opaque("a"), it.Reg("a/y", "yy"))},
		counts: []counts{{3, 0, 0}, {1, 0, 1}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 2, FinalBytes: 7, ContentBytes: 17, WastedBytes: 10, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name: "opaque markers of nested directories, repeated, in any order",
		layers: [][]byte{it.Layer(it.Dir("a/"), it.Dir("a/b/"), it.Reg("a/b/x", "xx"), it.Reg("a/y", "y")),
			it.Layer(it.Opaque("a/b"), it.Reg("a/b/new", "n"), it.Opaque("a"), it.Opaque("a/b"), it.Opaque("a"))},
		// a/b is hidden and made again as it was: no change of its own
		counts: []counts{{4, 0, 0}, {1, 0, 2}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 1, FinalBytes: 1, ContentBytes: 4, WastedBytes: 3, BaseBytes: 3},
		waste:  []tree.Waste{{Path: "a/b/x", Bytes: 2, Layers: []int{0}}, {Path: "a/y", Bytes: 1, Layers: []int{0}}},
	}, {
		name:   "whiteout acts on layers below only, wherever it stands",
		layers: [][]byte{base, it.Layer(it.Reg("a/x", "new"), it.Whiteout("a", "x"))},
		counts: []counts{{3, 0, 0}, {0, 1, 0}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 2, FinalBytes: 8, ContentBytes: 18, WastedBytes: 10, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "missing parents are created as directories",
		layers: [][]byte{it.Layer(it.Reg("x/y/z", "z"))},
		counts: []counts{{3, 0, 0}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 1, FinalBytes: 1, ContentBytes: 1, BaseBytes: 1},
	}, {
		name:   "same path twice in one layer: the earlier copy is waste",
		layers: [][]byte{it.Layer(it.Reg("f", "0123456789"), it.Reg("f", "01234567890123456789"))},
		counts: []counts{{1, 0, 0}},
		stats:  tree.ImageStats{Files: 1, RegularFiles: 1, FinalBytes: 20, ContentBytes: 30, WastedBytes: 10, BaseBytes: 30},
		waste:  []tree.Waste{{Path: "f", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "chmod re-ships the whole file",
		layers: [][]byte{base, it.Layer(it.Chmod(it.Reg("a/x", "0123456789"), 0o755))},
		counts: []counts{{3, 0, 0}, {0, 1, 0}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 2, FinalBytes: 15, ContentBytes: 25, WastedBytes: 10, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "a re-emitted parent directory is no change; a new mode is",
		layers: [][]byte{base, it.Layer(it.Dir("a/"), it.Reg("a/y", "y")), it.Layer(it.Chmod(it.Dir("a/"), 0o700))},
		counts: []counts{{3, 0, 0}, {1, 0, 0}, {0, 1, 0}},
		stats:  tree.ImageStats{Files: 4, RegularFiles: 3, FinalBytes: 16, ContentBytes: 16, BaseBytes: 15},
	}, {
		name:   "a new owner is a change",
		layers: [][]byte{base, it.Layer(it.Owned(it.Dir("a/"), 1000, 1000))},
		counts: []counts{{3, 0, 0}, {0, 1, 0}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 2, FinalBytes: 15, ContentBytes: 15, BaseBytes: 15},
	}, {
		name:   "a file replaces a directory and all it holds",
		layers: [][]byte{base, it.Layer(it.Reg("a", "abc"))},
		counts: []counts{{3, 0, 0}, {0, 1, 1}},
		stats:  tree.ImageStats{Files: 2, RegularFiles: 2, FinalBytes: 8, ContentBytes: 18, WastedBytes: 10, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "a path removed and added again in later layers",
		layers: [][]byte{base, it.Layer(it.Whiteout("", "b")), it.Layer(it.Reg("b", "12345"))},
		counts: []counts{{3, 0, 0}, {0, 0, 1}, {1, 0, 0}},
		stats:  tree.ImageStats{Files: 3, RegularFiles: 2, FinalBytes: 15, ContentBytes: 20, WastedBytes: 5, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "b", Bytes: 5, Layers: []int{0}}},
	}, {
		name: "waste from several layers on one path, most bytes first",
		layers: [][]byte{base, it.Layer(it.Reg("b", "1234567")), it.Layer(it.Reg("b", "1")),
			it.Layer(it.Whiteout("", "a"))},
		counts: []counts{{3, 0, 0}, {0, 1, 0}, {0, 1, 0}, {0, 0, 2}},
		stats:  tree.ImageStats{Files: 1, RegularFiles: 1, FinalBytes: 1, ContentBytes: 23, WastedBytes: 22, BaseBytes: 15},
		waste:  []tree.Waste{{Path: "b", Bytes: 12, Layers: []int{0, 1}}, {Path: "a/x", Bytes: 10, Layers: []int{0}}},
	}, {
		name:   "symlinks, hard links and devices have no bytes",
		layers: [][]byte{it.Layer(it.Reg("f", "abc"), it.Hard("g", "f"), it.Sym("s", "/f"), it.File{Name: "dev/null", Type: '3'})},
		counts: []counts{{5, 0, 0}},
		stats:  tree.ImageStats{Files: 5, RegularFiles: 1, FinalBytes: 3, ContentBytes: 3, BaseBytes: 3},
	}, {
		name:   "names are normalised",
		layers: [][]byte{it.Layer(it.Reg("./a//b/./c", "c"), it.Reg("/a/b/../d", "d"), it.Dir("./"))},
		counts: []counts{{4, 0, 0}},
		stats:  tree.ImageStats{Files: 4, RegularFiles: 2, FinalBytes: 2, ContentBytes: 2, BaseBytes: 2},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := build(t, tc.layers...)
			if got := layerCounts(tr); !reflect.DeepEqual(got, tc.counts) {
				t.Errorf("counts = %+v, want %+v", got, tc.counts)
			}
			if got := tr.Stats(); got != tc.stats {
				t.Errorf("stats = %+v, want %+v", got, tc.stats)
			}
			got := tr.Waste()
			for i := range got {
				got[i].Events = nil // checked in TestWasteEvents
			}
			if !reflect.DeepEqual(got, tc.waste) {
				t.Errorf("waste = %+v, want %+v", got, tc.waste)
			}
			checkInvariants(t, tr)
		})
	}
}

// checkInvariants asserts what holds for every tree: each file version is
// either kept or wasted, and the per-layer and per-path figures add up.
func checkInvariants(t testing.TB, tr *tree.Tree) {
	t.Helper()
	st := tr.Stats()
	var perLayer, content, perPath int64
	for _, l := range tr.Layers() {
		perLayer += l.WastedBytes
		content += l.Bytes
	}
	for _, w := range tr.Waste() {
		perPath += w.Bytes
		if w.Bytes <= 0 || len(w.Layers) == 0 {
			t.Errorf("waste entry %+v", w)
		}
	}
	if perLayer != st.WastedBytes || perPath != st.WastedBytes {
		t.Errorf("wasted bytes: %d per layer, %d per path, %d in all", perLayer, perPath, st.WastedBytes)
	}
	if content != st.ContentBytes {
		t.Errorf("content bytes %d, layers add up to %d", st.ContentBytes, content)
	}
	if st.FinalBytes+st.WastedBytes != st.ContentBytes {
		t.Errorf("final %d + wasted %d != content %d", st.FinalBytes, st.WastedBytes, st.ContentBytes)
	}
	if st.RegularFiles > st.Files {
		t.Errorf("%d regular files of %d files", st.RegularFiles, st.Files)
	}
	if e := st.Efficiency(); e < 0 || e > 1 {
		t.Errorf("efficiency %v", e)
	}
}

func TestWasteEvents(t *testing.T) {
	tr := build(t, base,
		it.Layer(it.Chmod(it.Reg("a/x", "0123456789"), 0o755)),
		it.Layer(it.Reg("b", "other"), it.Reg("b", "again")),
		it.Layer(it.Whiteout("", "a")))
	got := map[string][]tree.WasteEvent{}
	for _, w := range tr.Waste() {
		got[w.Path] = w.Events
	}
	want := map[string][]tree.WasteEvent{
		"a/x": {{Layer: 0, By: 1, Bytes: 10, SameContent: true}, {Layer: 1, By: 3, Bytes: 10, Removed: true}},
		"b":   {{Layer: 2, By: 2, Bytes: 5, SameMeta: true}, {Layer: 0, By: 2, Bytes: 5, SameMeta: true}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events = %+v\nwant %+v", got, want)
	}
}

func TestFigures(t *testing.T) {
	s := tree.ImageStats{ContentBytes: 200, WastedBytes: 50, BaseBytes: 100}
	if got := s.Efficiency(); got != 0.75 {
		t.Errorf("efficiency = %v, want 0.75", got)
	}
	if got := s.WastePercent(); got != 50 {
		t.Errorf("waste percent = %v, want 50", got)
	}
	empty := tree.ImageStats{}
	if empty.Efficiency() != 1 || empty.WastePercent() != 0 {
		t.Errorf("empty image: efficiency %v, waste percent %v; want 1 and 0", empty.Efficiency(), empty.WastePercent())
	}
}

func TestTreeViews(t *testing.T) {
	tr := build(t, base, it.Layer(it.Reg("a/x", "new"), it.Whiteout("", "b"), it.Reg("c", "")))
	ax, ok := tr.Lookup("a/x")
	if !ok {
		t.Fatal("a/x not found")
	}
	if m, ok := tr.At(ax, 0); !ok || m.Size != 10 {
		t.Errorf("a/x after layer 0 = %+v %v, want 10 bytes", m, ok)
	}
	if m, ok := tr.At(ax, 1); !ok || m.Size != 3 {
		t.Errorf("a/x after layer 1 = %+v %v, want 3 bytes", m, ok)
	}
	b, _ := tr.Lookup("b")
	c, _ := tr.Lookup("c")
	a, _ := tr.Lookup("a")
	for _, tc := range []struct {
		n     tree.NodeID
		layer int
		want  tree.Change
	}{{ax, 0, tree.Added}, {ax, 1, tree.Modified}, {b, 1, tree.Removed}, {c, 1, tree.Added}, {c, 0, tree.Unchanged}, {a, 1, tree.Unchanged}} {
		if got := tr.Change(tc.n, tc.layer); got != tc.want {
			t.Errorf("Change(%s, %d) = %v, want %v", tr.Path(tc.n), tc.layer, got, tc.want)
		}
	}
	if _, ok := tr.At(b, 1); ok {
		t.Error("b still exists after the layer that removed it")
	}
	var names []string
	for _, k := range tr.Children(0) {
		names = append(names, tr.Name(k))
	}
	if want := []string{"a", "b", "c"}; !reflect.DeepEqual(names, want) {
		t.Errorf("root children = %v, want %v", names, want)
	}
	if _, ok := tr.Lookup("a/nope"); ok {
		t.Error("Lookup found a path no layer names")
	}
}

func TestWarnings(t *testing.T) {
	tr := build(t, it.Layer(it.Hard("g", "missing"), it.File{Name: "odd", Type: 'Z'}))
	w := strings.Join(tr.Warnings(), "\n")
	for _, want := range []string{`hard link "g" to missing "missing"`, `"odd": unknown type 'Z'`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := it.Layer(it.Reg("f", strings.Repeat("x", 2000)))
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"escaping name", it.Layer(it.Reg("../../etc/passwd", "x")), "escapes the root"},
		{"escaping hard link", it.Layer(it.Hard("g", "../x")), "escapes the root"},
		{"truncated body", good[:1024], "unexpected EOF"},
		{"truncated header", good[:100], "unexpected EOF"},
		{"garbage", bytes.Repeat([]byte("garbage!"), 128), "invalid tar header"},
		{"sparse entry", it.Retype(it.Layer(it.Reg("s", "abc")), 'S'), "sparse"},
		{"name too long", it.Layer(it.Reg(strings.Repeat("a", 5000), "x")), "too long or too deep"},
		{"name too deep", it.Layer(it.Reg(strings.Repeat("a/", 300)+"f", "x")), "too long or too deep"},
		{"link too long", it.Layer(it.Sym("s", strings.Repeat("a", 5000))), "too long or too deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tree.Parse(context.Background(), bytes.NewReader(tc.input), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"a/b": "a/b", "./a/b/": "a/b", "/a//b": "a/b", "a/./b": "a/b", "a/../b": "b", "./": "", ".": "", "/": "",
		"a/b/..": "a", ".wh.x": ".wh.x",
	} {
		got, err := tree.Clean(in)
		if err != nil || got != want {
			t.Errorf("Clean(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"..", "../a", "a/../../b", "/.."} {
		if got, err := tree.Clean(in); err == nil {
			t.Errorf("Clean(%q) = %q, want an error", in, got)
		}
	}
}

func TestSniff(t *testing.T) {
	l := it.Layer(it.Reg("k", "-----BEGIN RSA PRIVATE KEY-----\nxx"), it.Reg("p", "hello"))
	cs, err := tree.Parse(context.Background(), bytes.NewReader(l), &tree.ParseOptions{Sniff: tree.SniffFunc(func(p string, head []byte) tree.Flags {
		if bytes.Contains(head, []byte("PRIVATE KEY-----")) {
			return 1
		}
		return 0
	})})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Entries[0].Flags != 1 || cs.Entries[1].Flags != 0 {
		t.Errorf("flags = %d, %d; want 1, 0", cs.Entries[0].Flags, cs.Entries[1].Flags)
	}
	if cs.Entries[0].Hash == cs.Entries[1].Hash {
		t.Error("different contents hash the same")
	}
}
