package tui

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// buildTree merges change sets made in memory: entries are "path:size"
// (a trailing / makes a directory), whiteouts "~path".
func buildTree(t testing.TB, layers ...[]string) *tree.Tree {
	t.Helper()
	b := tree.NewBuilder()
	for _, l := range layers {
		cs := &tree.ChangeSet{}
		for _, e := range l {
			if p, ok := strings.CutPrefix(e, "~"); ok {
				cs.Whiteouts = append(cs.Whiteouts, p)
				continue
			}
			if p, ok := strings.CutSuffix(e, "/"); ok {
				cs.Entries = append(cs.Entries, tree.Entry{Path: p, Meta: tree.Meta{Kind: tree.KindDir, Mode: 0o755}})
				continue
			}
			p, size, _ := strings.Cut(e, ":")
			var n int64
			fmt.Sscan(size, &n)
			cs.Entries = append(cs.Entries, tree.Entry{Path: p, Meta: tree.Meta{Kind: tree.KindFile, Mode: 0o644, Size: n, Hash: uint64(len(e))}})
			cs.Bytes += n
		}
		if _, err := b.Apply(context.Background(), cs); err != nil {
			t.Fatal(err)
		}
	}
	return b.Finish()
}

// rows lists the visible rows, as indented names.
func rows(v *treeView) []string {
	var out []string
	for p := v.first(); p != nil; p = v.next(p) {
		out = append(out, strings.Repeat(" ", len(p)-1)+v.t.Name(v.node(p)))
	}
	return out
}

func TestTreeView(t *testing.T) {
	tr := buildTree(t,
		[]string{"a/", "a/x:10", "a/y:1", "b:5", "c/d/e:100"},
		[]string{"a/x:20", "~b", "f:1"},
	)
	v := newTreeView(tr, nil)
	v.layer = 1
	tests := []struct {
		name  string
		setup func()
		want  []string
	}{
		{"whole image after the last layer, removed entries shown", func() {}, []string{"a", " x", " y", "b", "c", " d", "  e", "f"}},
		{"after layer 0", func() { v.layer = 0 }, []string{"a", " x", " y", "b", "c", " d", "  e"}},
		{"layer changes only", func() { v.whole = false }, []string{"a", " x", "b", "f"}},
		{"hide removed", func() { v.hide[tree.Removed] = true }, []string{"a", " x", " y", "c", " d", "  e", "f"}},
		{"hide unchanged", func() { v.hide[tree.Unchanged] = true }, []string{"a", " x", "b", "f"}},
		{"collapsed", func() { v.collapse[mustLookup(tr, "a")] = true; v.collapse[mustLookup(tr, "c")] = true }, []string{"a", "b", "c", "f"}},
		{"sorted by size", func() { v.bySize = true; v.sizes = computeSizes(tr, v.dirs, 1, true, nil) }, []string{"c", " d", "  e", "a", " x", " y", "b", "f"}},
		{"filtered", func() { v.matches = matches(tr, "X") }, []string{"a", " x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v = newTreeView(tr, nil)
			v.layer = 1
			tc.setup()
			got := rows(v)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows %q, want %q", got, tc.want)
			}
			// prev undoes next, last is the end, find finds every row.
			var back []string
			for p := v.last(); p != nil; p = v.prev(p) {
				back = append(back, strings.Repeat(" ", len(p)-1)+v.t.Name(v.node(p)))
			}
			slices.Reverse(back)
			if !reflect.DeepEqual(back, got) {
				t.Errorf("walking back gives %q", back)
			}
			for p := v.first(); p != nil; p = v.next(p) {
				if q := v.find(v.node(p)); !reflect.DeepEqual(q, p) {
					t.Errorf("find(%s) = %v, want %v", v.t.Path(v.node(p)), q, p)
				}
			}
		})
	}
	dirs := newDirIndex(tr)
	if s := computeSizes(tr, dirs, 1, true, nil); s.of(mustLookup(tr, "a")) != 21 || s.of(0) != 122 {
		t.Errorf("sizes after layer 1: a=%d root=%d, want 21 and 122", s.of(mustLookup(tr, "a")), s.of(0))
	}
	if s := computeSizes(tr, dirs, 1, false, nil); s.of(0) != 21 {
		t.Errorf("bytes layer 1 wrote: %d, want 21", s.of(0))
	}
}

func mustLookup(t *tree.Tree, p string) tree.NodeID {
	n, _ := t.Lookup(p)
	return n
}

// bigReport is a report on a tree of n files over 7 layers, as a large
// image has them: 500 directories of files.
func bigReport(b testing.TB, n int) *report.Report {
	var layers [][]string
	for l := 0; l < 7; l++ {
		var entries []string
		for i := 0; i < n/7; i++ {
			entries = append(entries, fmt.Sprintf("usr/lib/pkg%03d/l%d/file%06d.so:%d", i%500, l, i, 1000+i%5000))
		}
		layers = append(layers, entries)
	}
	tr := buildTree(b, layers...)
	rep := &report.Report{Tree: tr}
	for i := range layers {
		rep.Layers = append(rep.Layers, report.Layer{Index: i, CreatedBy: fmt.Sprintf("RUN install %d", i)})
	}
	return rep
}

// BenchmarkKeyFrame measures what a key costs on an image of 500,000
// files: Update, then View, for moves, page moves and layer switches. It
// reports the 99th percentile as p99-ms.
func BenchmarkKeyFrame(b *testing.B) {
	rep := bigReport(b, 500_000)
	m := New(context.Background(), loaded(rep))
	var model tea.Model = m
	model, _ = model.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	model, _ = model.Update(loadedMsg{rep: rep})
	keys := []tea.Msg{press("down"), press("down"), press("pgdown"), press("tab"), press("k"), press("j"), press("tab")}
	var times []time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		model, _ = model.Update(keys[i%len(keys)])
		_ = model.View()
		times = append(times, time.Since(start))
		i++
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

// matches is the filter's result for a pattern, as the command computes it.
func matches(t *tree.Tree, pattern string) *matchSet {
	re, err := compileFilter(pattern)
	if err != nil {
		panic(err)
	}
	return computeMatches(t, pattern, re)
}

// BenchmarkKeyFrameDiff is BenchmarkKeyFrame in layerscope diff's
// explorer: the union of two images of about 500,000 files, OLD holding
// a tenth more than NEW, with v switching to NEW alone and back.
func BenchmarkKeyFrameDiff(b *testing.B) {
	old, new := bigReport(b, 500_000), bigReport(b, 450_000)
	d, err := diff.Compare(context.Background(), old, new)
	if err != nil {
		b.Fatal(err)
	}
	dd, err := newDiffData(context.Background(), d, old, new)
	if err != nil {
		b.Fatal(err)
	}
	var model tea.Model = NewDiff(context.Background(), d, old, new)
	model, _ = model.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	model, _ = model.Update(loadedMsg{rep: new, diff: dd})
	keys := []tea.Msg{press("down"), press("down"), press("pgdown"), press("tab"), press("k"), press("j"), press("tab"), press("v"), press("down"), press("v")}
	var times []time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		model, _ = model.Update(keys[i%len(keys)])
		_ = model.View()
		times = append(times, time.Since(start))
		i++
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}
