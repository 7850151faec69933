package tree_test

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/tree"
)

// FuzzParse feeds arbitrary bytes to the layer parser, then merges what it
// accepts on top of a base layer: no panic, and every figure adds up.
func FuzzParse(f *testing.F) {
	f.Add(base)
	f.Add(it.Layer(it.Whiteout("", "a"), it.Opaque("a"), it.Reg("a/x", "x"), it.Hard("h", "a/x"), it.Sym("s", "../../x")))
	f.Add(it.Layer(it.Reg("a", "file over dir"), it.Reg("a", "again")))
	f.Add(it.Retype(it.Layer(it.Reg("s", "abc")), 'S'))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := tree.Parse(context.Background(), bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		b := tree.NewBuilder()
		for _, l := range [][]byte{base} {
			c, _ := tree.Parse(context.Background(), bytes.NewReader(l), nil)
			b.Apply(context.Background(), c)
		}
		if _, err := b.Apply(context.Background(), cs); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, b.Finish())
	})
}

// FuzzWhiteouts builds three layers from lines of names (a name ending in
// "/" is a directory, "~NAME" a whiteout, "*DIR" an opaque marker, "=NAME"
// a second copy of a file) and merges them: no panic, and every figure adds
// up, whatever the names and their order.
func FuzzWhiteouts(f *testing.F) {
	f.Add("a/\na/x\nb\n--\n~a\nb\n--\n*c\nc/d\n")
	f.Add("x/y/z\n--\nx\n--\n~x\nx/y/\n")
	f.Add("f\n=f\n--\n~f\n--\nf\n")
	f.Add("../x\n--\n/abs\n--\n./a//b/../c\n")
	f.Fuzz(func(t *testing.T, spec string) {
		b := tree.NewBuilder()
		for i, layer := range strings.SplitN(spec, "--\n", 4) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for j, line := range strings.Split(layer, "\n") {
				if line == "" {
					continue
				}
				h := &tar.Header{Name: line, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(j + i + 1)}
				switch {
				case strings.HasPrefix(line, "~"):
					h.Name, h.Size = tree.Dir(line[1:])+"/.wh."+tree.Base(line[1:]), 0
				case strings.HasPrefix(line, "*"):
					h.Name, h.Size = line[1:]+"/.wh..wh..opq", 0
				case strings.HasPrefix(line, "="):
					h.Name = line[1:]
				case strings.HasSuffix(line, "/"):
					h.Typeflag, h.Size = tar.TypeDir, 0
				}
				if tw.WriteHeader(h) != nil {
					return
				}
				tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
			}
			tw.Close()
			cs, err := tree.Parse(context.Background(), &buf, nil)
			if err != nil {
				return
			}
			if _, err := b.Apply(context.Background(), cs); err != nil {
				t.Fatal(err)
			}
		}
		tr := b.Finish()
		checkInvariants(t, tr)
		for n := tree.NodeID(1); int(n) < tr.Len(); n++ {
			if _, ok := tr.Lookup(tr.Path(n)); !ok {
				t.Fatalf("Lookup(%q) failed", tr.Path(n))
			}
		}
	})
}
