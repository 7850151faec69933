package tree_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/tree"
)

// windowed sees window bytes of files named "wide*", HeadSize of the
// others, and flags a file whose head holds "MARK".
type windowed struct{ window int }

func (w windowed) Window(p string) int {
	if strings.HasPrefix(p, "wide") {
		return w.window
	}
	return tree.HeadSize
}

func (windowed) Sniff(_ string, head []byte) tree.Flags {
	if bytes.Contains(head, []byte("MARK")) {
		return 1
	}
	return 0
}

// TestSniffWindow: a Sniffer's Window decides how much of each file it
// sees, up to MaxWindow, and the window changes no hash.
func TestSniffWindow(t *testing.T) {
	at := func(offset int) string { return strings.Repeat("x", offset) + "MARK" + strings.Repeat("y", 100<<10) }
	tests := []struct {
		name   string
		window int
		path   string
		body   string
		want   tree.Flags
	}{
		{"in the head", tree.MaxWindow, "wide", at(10), 1},
		{"past the head, inside a wide window", tree.MaxWindow, "wide", at(40 << 10), 1},
		{"past the head of a plain file", tree.MaxWindow, "plain", at(40 << 10), 0},
		{"past a wide window", tree.MaxWindow, "wide", at(tree.MaxWindow), 0},
		{"a window past MaxWindow is cut to it", 1 << 20, "wide", at(tree.MaxWindow + 10), 0},
		{"a small file, whole", tree.MaxWindow, "wide", "MARK", 1},
		{"a window of nothing is one byte", 0, "wide", at(10), 0},
	}
	plain, err := tree.Parse(context.Background(), bytes.NewReader(it.Layer(it.Reg("f", at(40<<10)))), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := tree.Parse(context.Background(), bytes.NewReader(it.Layer(it.Reg(tc.path, tc.body))), &tree.ParseOptions{Sniff: windowed{tc.window}})
			if err != nil {
				t.Fatal(err)
			}
			if e := cs.Entries[0]; e.Flags != tc.want || e.Size != int64(len(tc.body)) {
				t.Errorf("flags %d size %d, want %d %d", e.Flags, e.Size, tc.want, len(tc.body))
			}
			if tc.body == at(40<<10) && cs.Entries[0].Hash != plain.Entries[0].Hash {
				t.Error("the window changed the hash")
			}
		})
	}
}

// TestSniffWindowAllocs: a wide window costs no allocation per file: the
// parser reads it into its copy buffer.
func TestSniffWindowAllocs(t *testing.T) {
	var files []it.File
	for i := range 200 {
		files = append(files, it.Reg("wide"+strings.Repeat("a", i%50)+string(rune('a'+i%26)), strings.Repeat("z", 70<<10)))
	}
	layer := it.Layer(files...)
	parse := func(s tree.Sniffer) float64 {
		return testing.AllocsPerRun(3, func() {
			if _, err := tree.Parse(context.Background(), bytes.NewReader(layer), &tree.ParseOptions{Sniff: s}); err != nil {
				t.Fatal(err)
			}
		})
	}
	narrow, wide := parse(windowed{tree.HeadSize}), parse(windowed{tree.MaxWindow})
	if wide > narrow+2 { // a pooled buffer may be made again after a GC
		t.Errorf("a wide window allocates: %.0f allocations per parse, %.0f with HeadSize", wide, narrow)
	}
}
