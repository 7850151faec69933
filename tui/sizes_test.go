package tui

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/layerscope/layerscope/report"
)

// layeredReport is a report on a tree of about `files` files over
// `layers` layers, in `pkgs` package directories with a directory per
// layer in each.
func layeredReport(t testing.TB, files, layers, pkgs int) *report.Report {
	t.Helper()
	var ls [][]string
	for l := range layers {
		var entries []string
		for i := range files / layers {
			entries = append(entries, fmt.Sprintf("usr/lib/pkg%03d/l%02d/file%06d.so:%d", i%pkgs, l, i, 1000+i%5000))
		}
		ls = append(ls, entries)
	}
	rep := &report.Report{Tree: buildTree(t, ls...)}
	for i := range ls {
		rep.Layers = append(rep.Layers, report.Layer{Index: i})
	}
	return rep
}

// runAll runs commands at once, as the program does, and returns their
// messages in the order of the commands (batches flattened).
func runAll(t *testing.T, cmds ...tea.Cmd) []tea.Msg {
	t.Helper()
	out := make([][]tea.Msg, len(cmds))
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		wg.Go(func() {
			switch msg := cmd().(type) {
			case nil:
			case tea.BatchMsg:
				out[i] = runAll(t, msg...)
			default:
				out[i] = []tea.Msg{msg}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("commands still running after 20 s")
	}
	var msgs []tea.Msg
	for _, o := range out {
		msgs = append(msgs, o...)
	}
	return msgs
}

// settle runs cmds, timers included, feeds their messages to the model
// and runs what those return, until nothing is left to run.
func settle(t *testing.T, m Model, cmds ...tea.Cmd) Model {
	t.Helper()
	for len(cmds) > 0 {
		var next []tea.Cmd
		for _, msg := range runAll(t, cmds...) {
			model, cmd := m.Update(msg)
			m = model.(Model)
			next = append(next, cmd)
		}
		cmds = next
	}
	return m
}

// sizesOnly keeps the messages of the sizes walks.
func sizesOnly(msgs []tea.Msg) []tea.Msg {
	var out []tea.Msg
	for _, m := range msgs {
		switch m.(type) {
		case sizesDueMsg, sizesMsg:
			out = append(out, m)
		}
	}
	return out
}

func update(m Model, msg tea.Msg) (Model, tea.Cmd) {
	model, cmd := m.Update(msg)
	return model.(Model), cmd
}

// loadedModel is a model that has loaded rep and shows the sizes of its
// last layer, with the debounce the program has.
func loadedModel(t *testing.T, rep *report.Report) Model {
	t.Helper()
	m, _ := update(New(context.Background(), loaded(rep)), tea.WindowSizeMsg{Width: 120, Height: 40})
	m, cmd := update(m, loadedMsg{rep: rep})
	m = settle(t, m, cmd)
	if m.files.tv.sizes == nil || m.files.walks.started.Load() != 1 {
		t.Fatalf("after loading: sizes %v, %d walks; want sizes from one walk", m.files.tv.sizes != nil, m.files.walks.started.Load())
	}
	return m
}

// TestSizeWalks: on a tree too big to walk on the key path, a burst of
// keys starts one walk once it pauses, a walk that a newer key made
// stale stops, and the cache keeps a few results of directories only.
func TestSizeWalks(t *testing.T) {
	rep := layeredReport(t, 30_000, 20, 50) // above inlineNodes
	if rep.Tree.Len() < inlineNodes {
		t.Fatalf("%d nodes: sizes would be computed inline", rep.Tree.Len())
	}
	tests := []struct {
		name string
		run  func(t *testing.T, m Model)
	}{{
		name: "a burst of layer steps starts one walk",
		run: func(t *testing.T, m Model) {
			var cmds []tea.Cmd
			for range 15 {
				var cmd tea.Cmd
				m, cmd = update(m, press("k"))
				cmds = append(cmds, cmd)
			}
			if n := m.files.walks.started.Load(); n != 1 {
				t.Fatalf("%d walks started during the burst, want none", n-1)
			}
			m = settle(t, m, cmds...)
			if n := m.files.walks.started.Load(); n != 2 {
				t.Errorf("%d walks for a burst of 15 layer steps, want 1", n-1)
			}
			if m.files.tv.sizes == nil || m.files.tv.sizes.layer != m.layers.sel || m.layers.sel != 4 {
				t.Errorf("layer %d shows the sizes of %v", m.layers.sel, m.files.tv.sizes)
			}
		},
	}, {
		name: "a walk that a newer key made stale stops",
		run: func(t *testing.T, m Model) {
			m, tick := update(m, press("k"))
			due := sizesOnly(runAll(t, tick)) // the rows are counted too
			if len(due) != 1 {
				t.Fatalf("the debounce gave %v", due)
			}
			m, walk := update(m, due[0])
			if walk == nil {
				t.Fatal("no walk once the keys paused")
			}
			m, _ = update(m, press("k"))
			if msgs := runAll(t, walk); len(msgs) != 0 || m.files.walks.stopped.Load() != 1 {
				t.Errorf("a stale walk gave %v, %d stopped", msgs, m.files.walks.stopped.Load())
			}
		},
	}, {
		name: "a layer seen again comes from the cache",
		run: func(t *testing.T, m Model) {
			m, cmd := update(m, press("k"))
			m = settle(t, m, cmd)
			m, cmd = update(m, press("j"))
			if walks := sizesOnly(runAll(t, cmd)); len(walks) != 0 || m.files.tv.sizes == nil || m.files.tv.sizes.layer != m.layers.sel {
				t.Errorf("back on layer %d: %v, sizes of %v", m.layers.sel, walks, m.files.tv.sizes)
			}
			if n := m.files.walks.started.Load(); n != 2 {
				t.Errorf("%d walks for two layers, want 2", n)
			}
		},
	}, {
		name: "every layer in both modes: a few results, of directories only",
		run: func(t *testing.T, m Model) {
			m.files.sizeDelay = time.Millisecond // each step settles: no burst to wait out
			for range len(rep.Layers) {
				for range 2 {
					var cmd tea.Cmd
					m, cmd = update(m, press("v"))
					m = settle(t, m, cmd)
					if n := len(m.files.sizes.entries); n > sizeCacheLen {
						t.Fatalf("%d results cached, want at most %d", n, sizeCacheLen)
					}
				}
				var cmd tea.Cmd
				m, cmd = update(m, press("k"))
				m = settle(t, m, cmd)
			}
			if n := len(m.files.sizes.entries); n != sizeCacheLen || m.layers.sel != 0 {
				t.Errorf("on layer %d: %d results cached, want %d", m.layers.sel, n, sizeCacheLen)
			}
			for _, s := range m.files.sizes.entries {
				if len(s.bytes) != m.files.tv.dirs.n || len(s.bytes) > rep.Tree.Len()/10 {
					t.Errorf("a result of %d sizes for %d directories in %d nodes", len(s.bytes), m.files.tv.dirs.n, rep.Tree.Len())
				}
			}
			// and they are right
			for _, s := range m.files.sizes.entries {
				want := computeSizes(rep.Tree, m.files.tv.dirs, s.layer, s.whole, nil)
				if fmt.Sprint(want.bytes) != fmt.Sprint(s.bytes) {
					t.Errorf("cached sizes of layer %d differ from a fresh walk", s.layer)
				}
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, loadedModel(t, rep))
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSizeCacheMemory measures what the size cache holds after 50 layer
// steps on a tree of about 500,000 nodes, and the walks a burst starts:
// LAYERSCOPE_MEASURE=1 go test ./tui -run TestSizeCacheMemory -v
func TestSizeCacheMemory(t *testing.T) {
	if os.Getenv("LAYERSCOPE_MEASURE") == "" {
		t.Skip("a measurement: set LAYERSCOPE_MEASURE=1 to run it")
	}
	rep := layeredReport(t, 480_000, 60, 500)
	m := loadedModel(t, rep)
	m.files.sizeDelay = time.Millisecond // each step settles
	before := heapInUse()
	for range 50 {
		var cmd tea.Cmd
		m, cmd = update(m, press("k"))
		m = settle(t, m, cmd)
	}
	held := int64(heapInUse()) - int64(before)
	t.Logf("%d nodes, %d directories: after 50 settled layer steps, %d results cached, %+.1f MB held; %d walks",
		rep.Tree.Len(), m.files.tv.dirs.n, len(m.files.sizes.entries), float64(held)/1e6, m.files.walks.started.Load())
	started := m.files.walks.started.Load()
	m.files.sizeDelay = sizesDebounce
	var cmds []tea.Cmd
	for range 50 {
		var cmd tea.Cmd
		m, cmd = update(m, press("j"))
		cmds = append(cmds, cmd)
	}
	m = settle(t, m, cmds...)
	t.Logf("a burst of 50 layer steps: %d walks", m.files.walks.started.Load()-started)
	runtime.KeepAlive(m)
}
