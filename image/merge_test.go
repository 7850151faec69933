package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	dimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/tree"
)

// chainDaemon is a daemon whose inspect lists the layers' diff IDs, as
// Docker's and podman's do, before the export streams.
type chainDaemon struct {
	fakeDaemon
	diffIDs []string
}

func (f *chainDaemon) ImageInspect(ctx context.Context, ref string, o ...client.ImageInspectOption) (dimage.InspectResponse, error) {
	r, err := f.fakeDaemon.ImageInspect(ctx, ref, o...)
	r.RootFS = dimage.RootFS{Type: "layers", Layers: f.diffIDs}
	return r, err
}

// mergeImage has whiteouts, an opaque directory, a file rewritten, a hard
// link and a layer listed twice.
func mergeImage() it.Image {
	base := it.Layer(it.Dir("etc/"), it.Reg("etc/a", "a"), it.Reg("etc/b", "bb"), it.Dir("usr/"), it.Dir("usr/lib/"),
		it.Reg("usr/lib/x.so", "xxxx"), it.Sym("usr/lib/y.so", "x.so"))
	add := it.Layer(it.Dir("app/"), it.Reg("app/big", strings.Repeat("b", 5000)), it.Reg("etc/a", "a2"), it.Hard("app/a", "etc/a"))
	rm := it.Layer(it.Whiteout("app", "big"), it.Opaque("usr/lib"), it.Reg("usr/lib/z.so", "z"), it.Reg("etc/b", "bb"))
	return it.Image{Layers: [][]byte{base, add, rm, add, it.Layer(it.Reg("last", "l"))}, Tags: []string{"merge:1"}}
}

func diffIDsOf(img it.Image) []string {
	var ids []string
	for _, l := range img.Layers {
		ids = append(ids, it.Digest(l))
	}
	return ids
}

// dump says everything a tree holds, path by path.
func dump(t *tree.Tree) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n%+v\n%+v\n%q\n", t.Stats(), t.Layers(), t.Waste(), t.Warnings())
	var walk func(n tree.NodeID)
	walk = func(n tree.NodeID) {
		fmt.Fprintf(&b, "%s:", t.Path(n))
		t.Versions(n, func(l int, m tree.Meta) { fmt.Fprintf(&b, " %d=%+v", l, m) })
		b.WriteByte('\n')
		for _, c := range t.Children(n) {
			walk(c)
		}
	}
	walk(0)
	return b.String()
}

// mergeAfter merges an unmerged image's change sets, as report.Build does.
func mergeAfter(t *testing.T, img *Image) *tree.Tree {
	t.Helper()
	b := tree.NewBuilder()
	for i, l := range img.Layers {
		if l.Changes == nil {
			t.Fatalf("layer %d has no change set", i)
		}
		if _, err := b.Apply(context.Background(), l.Changes); err != nil {
			t.Fatal(err)
		}
	}
	return b.Finish()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadBoth loads what src gives twice: merged by Load and merged after.
type mergeSource func(t *testing.T) (string, Options)

func fileSource(ms []it.Member) mergeSource {
	return func(t *testing.T) (string, Options) { return writeFile(t, "a.tar", it.Tar(ms)), Options{} }
}

func dirSource(ms []it.Member) mergeSource {
	return func(t *testing.T) (string, Options) {
		d := t.TempDir()
		if err := it.WriteDir(d, ms); err != nil {
			t.Fatal(err)
		}
		return d, Options{}
	}
}

func stdinSource(data []byte) mergeSource {
	return func(t *testing.T) (string, Options) { return "-", Options{Stdin: bytes.NewReader(data)} }
}

func daemonSource(data []byte, diffIDs []string) mergeSource {
	return func(t *testing.T) (string, Options) {
		return "merge:1", Options{Source: SourceDocker, Daemon: &chainDaemon{fakeDaemon{export: data}, diffIDs}}
	}
}

// reversed puts an archive's layer members last first, the manifest still
// last: a stream that sends the layers above before those below.
func reversed(ms []it.Member) []it.Member {
	out := slices.Clone(ms[:len(ms)-1])
	slices.Reverse(out)
	return append(out, ms[len(ms)-1])
}

// TestMergeAgrees: a tree Load merges as the layers are parsed is the one
// report.Build merges after, from every kind of source, whatever order a
// stream sends the layers in; and Load keeps no change set.
func TestMergeAgrees(t *testing.T) {
	img := mergeImage()
	ms := it.DockerArchive(img)
	ids := diffIDsOf(img)
	tests := []struct {
		name string
		src  mergeSource
	}{
		{"archive file", fileSource(ms)},
		{"archive file, layers last first", fileSource(reversed(ms))},
		{"oci layout, gzip", dirSource(it.OCILayout(it.Gzip, false, img))},
		{"oci archive file, zstd", fileSource(it.OCILayout(it.Zstd, false, img))},
		{"stdin", stdinSource(it.Tar(ms))},
		{"stdin, gzip", stdinSource(it.GzipBytes(it.Tar(ms)))},
		{"daemon listing its diff IDs", daemonSource(it.Tar(ms), ids)},
		{"daemon listing its diff IDs, layers last first", daemonSource(it.Tar(reversed(ms)), ids)},
		{"daemon listing no diff IDs", daemonSource(it.Tar(ms), nil)},
		{"docker 25 archive from a daemon listing its diff IDs", daemonSource(it.Tar(it.DockerOCIArchive(img)), ids)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			arg, opt := tc.src(t)
			plain, err := Load(context.Background(), arg, opt)
			if err != nil {
				t.Fatal(err)
			}
			want := dump(mergeAfter(t, plain))
			arg, opt = tc.src(t)
			opt.Merge = true
			merged, err := Load(context.Background(), arg, opt)
			if err != nil {
				t.Fatal(err)
			}
			if merged.Tree == nil {
				t.Fatal("Load merged no tree")
			}
			if got := dump(merged.Tree); got != want {
				t.Errorf("merged as parsed:\n%s\nmerged after:\n%s", got, want)
			}
			for i, l := range merged.Layers {
				if l.Changes != nil {
					t.Errorf("layer %d keeps its change set", i)
				}
				if l.Digest != ids[i] {
					t.Errorf("layer %d digest %s, want %s", i, l.Digest, ids[i])
				}
			}
		})
	}
}

// TestMergeErrors: merging as the layers are parsed changes no error. A
// digest that fails after the layers below it merged, and an image whose
// repeated layer is past the entry bound, fail as they did unmerged; a
// daemon whose listed layers are not its export's says so.
func TestMergeErrors(t *testing.T) {
	img := mergeImage()
	bad := it.DockerArchive(img)
	for i, m := range bad {
		if strings.HasSuffix(m.Name, ".json") && m.Name != "manifest.json" {
			// The config names another diff ID for the last layer: the
			// manifest and config stay consistent, the content does not.
			bad[i].Data = bytes.Replace(m.Data, []byte(it.Digest(img.Layers[4])[7:]), []byte(strings.Repeat("0", 64)), 1)
		}
	}
	fixManifest(t, bad)
	repeated, repeatedIDs := listedOften(manyFiles("w", 10_001), MaxLayers)
	ids := diffIDsOf(img)
	swapped := slices.Clone(ids)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	tests := []struct {
		name      string
		src       mergeSource
		want      string
		sameAsOld bool
	}{
		{"archive file, last layer's digest", fileSource(bad), "layer 4 (", true},
		{"stdin, last layer's digest", stdinSource(it.Tar(bad)), "layer 4 (", true},
		{"daemon, last layer's digest", daemonSource(it.Tar(bad), ids), "layer 4 (", true},
		{"archive file, a layer listed 1,000 times", fileSource(repeated), "image has 10001000 entries in its layers: more than 10000000", true},
		{"daemon, a layer listed 1,000 times", daemonSource(it.Tar(repeated), repeatedIDs), "image has 10001000 entries in its layers: more than 10000000", true},
		{"daemon listing other layers", daemonSource(it.Tar(it.DockerArchive(img)), swapped), errMergedOther.Error(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			arg, opt := tc.src(t)
			_, old := Load(ctx, arg, opt)
			arg, opt = tc.src(t)
			opt.Merge = true
			_, err := Load(ctx, arg, opt)
			switch {
			case ctx.Err() != nil:
				t.Fatalf("Load ran past its deadline: %v", err)
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Load error = %v, want %q", err, tc.want)
			case tc.sameAsOld && (old == nil || old.Error() != err.Error()):
				t.Errorf("merged: %v\nunmerged: %v", err, old)
			case strings.ContainsAny(err.Error(), "\n\r"):
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// listedOften is an archive whose manifest lists one layer n times.
func listedOften(layer []byte, n int) ([]it.Member, []string) {
	var names, ids []string
	id := it.Digest(layer)
	for range n {
		names = append(names, "l/layer.tar")
		ids = append(ids, id)
	}
	cfg := mustJSON(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": ids}})
	manifest := mustJSON([]map[string]any{{"Config": "c.json", "RepoTags": []string{"merge:1"}, "Layers": names}})
	return []it.Member{{Name: "l/layer.tar", Data: layer}, {Name: "c.json", Data: cfg}, {Name: "manifest.json", Data: manifest}}, ids
}

// fixManifest renames the config after a change to it, as its digest.
func fixManifest(t *testing.T, ms []it.Member) {
	t.Helper()
	var old, cfg string
	for i, m := range ms {
		if strings.HasSuffix(m.Name, ".json") && m.Name != "manifest.json" {
			old, cfg = m.Name, it.Digest(m.Data)[7:]+".json"
			ms[i].Name = cfg
		}
	}
	last := &ms[len(ms)-1]
	last.Data = bytes.ReplaceAll(last.Data, []byte(old), []byte(cfg))
}

// TestMergeFreesAsItGoes: while a many-layer image loads, at most a few
// change sets are alive at once (the peak is the tree and those, not
// every layer's), and none is once Load returns. The layers stream in
// order; change sets are watched with weak pointers, counted after a
// collection each time a new one is made. A stream whose manifest comes
// last keeps them all until it is read: the count must see that.
func TestMergeFreesAsItGoes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const layers = 24
	img := it.Image{Tags: []string{"merge:1"}}
	for l := range layers {
		img.Layers = append(img.Layers, manyFiles(fmt.Sprintf("l%d", l), 2000))
	}
	data := it.Tar(it.DockerArchive(img))
	tests := []struct {
		name    string
		src     mergeSource
		bounded bool
	}{
		{"archive file", fileSource(it.DockerArchive(img)), true},
		{"oci layout", dirSource(it.OCILayout(it.Plain, false, img)), true},
		{"daemon listing its diff IDs", daemonSource(data, diffIDsOf(img)), true},
		// The manifest comes last: every change set waits for it.
		{"stdin", stdinSource(data), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu      sync.Mutex
				made    []weak.Pointer[tree.ChangeSet]
				maxLive int
			)
			live := func() int {
				runtime.GC()
				n := 0
				for _, p := range made {
					if p.Value() != nil {
						n++
					}
				}
				return n
			}
			parsedHook = func(cs *tree.ChangeSet) {
				mu.Lock()
				defer mu.Unlock()
				made = append(made, weak.Make(cs))
				maxLive = max(maxLive, live())
			}
			defer func() { parsedHook = nil }()
			arg, opt := tc.src(t)
			opt.Merge = true
			got, err := Load(context.Background(), arg, opt)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(made) != layers {
				t.Fatalf("%d change sets made, want %d", len(made), layers)
			}
			// Two parsing, one merging, one parsed out of order, and
			// room for a merge that lags a little.
			t.Logf("at most %d of %d change sets alive at once", maxLive, layers)
			switch {
			case tc.bounded && maxLive > 6:
				t.Errorf("%d of %d change sets alive at once, want at most 6", maxLive, layers)
			case !tc.bounded && maxLive != layers:
				t.Errorf("%d of %d change sets alive at once: the count misses some", maxLive, layers)
			}
			if n := live(); n != 0 {
				t.Errorf("%d change sets alive after Load", n)
			}
			runtime.KeepAlive(got)
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestMergeCancel: a Load cancelled while its layers merge stops, and says
// it was interrupted.
func TestMergeCancel(t *testing.T) {
	img := it.Image{Tags: []string{"merge:1"}}
	for l := range 12 {
		img.Layers = append(img.Layers, manyFiles(fmt.Sprintf("l%d", l), 2000))
	}
	tests := []struct {
		name string
		src  mergeSource
	}{
		{"archive file", fileSource(it.DockerArchive(img))},
		{"daemon listing its diff IDs", daemonSource(it.Tar(it.DockerArchive(img)), diffIDsOf(img))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int32
			parsedHook = func(*tree.ChangeSet) {
				if n.Add(1) == 3 {
					cancel()
				}
			}
			defer func() { parsedHook = nil }()
			arg, opt := tc.src(t)
			opt.Merge = true
			done := make(chan error, 1)
			go func() { _, err := Load(ctx, arg, opt); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
					t.Fatalf("Load error = %v, want an interruption", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Load went on 30 s after it was cancelled")
			}
		})
	}
}
