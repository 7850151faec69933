//go:build unix

package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
)

// loadWithin runs Load under a deadline far past what the input needs:
// a Load that reaches it has not bounded its time.
func loadWithin(t *testing.T, d time.Duration, arg string, opt image.Options) (*image.Image, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	img, err := image.Load(ctx, arg, opt)
	if ctx.Err() != nil {
		t.Fatalf("Load(%s) ran past %v: %v", arg, d, err)
	}
	return img, err
}

// ociParts names the members of tiny's OCI layout: its manifest, config
// and layer blobs.
type ociParts struct {
	ms                      []it.Member
	manifest, config, layer string // digests
}

func ociLayoutOf(t *testing.T, img it.Image, c it.Compression) ociParts {
	t.Helper()
	p := ociParts{ms: it.OCILayout(c, false, img)}
	var idx struct{ Manifests []struct{ Digest string } }
	json.Unmarshal(member(p.ms, "index.json"), &idx)
	p.manifest = idx.Manifests[0].Digest
	var m struct {
		Config struct{ Digest string }
		Layers []struct{ Digest string }
	}
	json.Unmarshal(member(p.ms, blobPath(p.manifest)), &m)
	p.config, p.layer = m.Config.Digest, m.Layers[0].Digest
	return p
}

func blobPath(digest string) string { return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:") }

func without(ms []it.Member, name string) []it.Member {
	var out []it.Member
	for _, m := range ms {
		if m.Name != name {
			out = append(out, m)
		}
	}
	return out
}

// TestLayoutStaysInside: every path of a layout directory is opened inside
// it. A symlink that leads out is an error that says so; one that stays in
// still works (Docker 20.10 links a repeated layer to its first copy).
func TestLayoutStaysInside(t *testing.T) {
	p := ociLayoutOf(t, tiny, it.Gzip)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		err   string // "" when it loads
	}{
		{"blobs is a symlink out", func(t *testing.T, dir string) {
			outside := t.TempDir()
			must(t, os.Rename(filepath.Join(dir, "blobs"), filepath.Join(outside, "blobs")))
			must(t, os.Symlink(filepath.Join(outside, "blobs"), filepath.Join(dir, "blobs")))
		}, "leads outside the layout directory"},
		{"blobs is a relative symlink out", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "blobs"), filepath.Join(dir, "..", "blobs-"+filepath.Base(dir))))
			must(t, os.Symlink(filepath.Join("..", "blobs-"+filepath.Base(dir)), filepath.Join(dir, "blobs")))
		}, "leads outside the layout directory"},
		{"a layer through /proc", func(t *testing.T, dir string) {
			b := filepath.Join(dir, filepath.FromSlash(blobPath(p.layer)))
			must(t, os.Remove(b))
			must(t, os.Symlink("/proc", filepath.Join(filepath.Dir(b), "p")))
			must(t, os.Symlink("p/self/environ", b))
		}, "leads outside the layout directory"},
		{"the image manifest links to /etc", func(t *testing.T, dir string) {
			b := filepath.Join(dir, filepath.FromSlash(blobPath(p.manifest)))
			must(t, os.Remove(b))
			must(t, os.Symlink("/etc/passwd", b))
		}, "leads outside the layout directory"},
		{"index.json links out", func(t *testing.T, dir string) {
			outside := filepath.Join(t.TempDir(), "index.json")
			must(t, os.Rename(filepath.Join(dir, "index.json"), outside))
			must(t, os.Symlink(outside, filepath.Join(dir, "index.json")))
		}, "leads outside the layout directory"},
		{"a FIFO for a blob", func(t *testing.T, dir string) {
			b := filepath.Join(dir, filepath.FromSlash(blobPath(p.layer)))
			must(t, os.Remove(b))
			must(t, syscall.Mkfifo(b, 0o644))
		}, "not a regular file"},
		{"blobs is a symlink inside", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "blobs"), filepath.Join(dir, "store")))
			must(t, os.Symlink("store", filepath.Join(dir, "blobs")))
		}, ""},
		{"a blob links to a copy inside", func(t *testing.T, dir string) {
			b := filepath.Join(dir, filepath.FromSlash(blobPath(p.layer)))
			must(t, os.Rename(b, filepath.Join(dir, "layer.tgz")))
			must(t, os.Symlink("../../layer.tgz", b))
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeDir(t, p.ms)
			tc.setup(t, dir)
			_, err := loadWithin(t, 20*time.Second, dir, image.Options{})
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Load error = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMissingBlobSaysWhich: a layout or archive that lacks a blob its
// metadata names says which blob, and what it is.
func TestMissingBlobSaysWhich(t *testing.T) {
	p := ociLayoutOf(t, tiny, it.Plain)
	nested := it.Member{Name: "index.json", Data: []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:` + strings.Repeat("ab", 32) + `","size":100}]}`)}
	docker := it.DockerArchive(tiny)
	var dockerConfig string
	for _, m := range docker {
		if strings.HasSuffix(m.Name, ".json") && m.Name != "manifest.json" && !strings.Contains(m.Name, "/") {
			dockerConfig = m.Name
		}
	}
	tests := []struct {
		name string
		ms   []it.Member
		want string
	}{
		{"image manifest", without(p.ms, blobPath(p.manifest)), "the image manifest " + p.manifest + " that the index names is missing"},
		{"image config", without(p.ms, blobPath(p.config)), "the image config " + p.config + " that its manifest names is missing"},
		{"nested index", replace(p.ms, "index.json", nested.Data), "the nested index sha256:" + strings.Repeat("ab", 32) + " that an index names is missing"},
		{"docker config", without(docker, dockerConfig), `the image config "` + dockerConfig + `" that manifest.json names is missing`},
		{"nothing at all", []it.Member{{Name: "oci-layout", Data: []byte("{}")}}, "not an image archive: it has neither manifest.json nor index.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, arg := range []string{writeDir(t, tc.ms), write(t, "a.tar", it.Tar(tc.ms))} {
				_, err := loadWithin(t, 20*time.Second, arg, image.Options{})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: Load error = %v, want one containing %q", filepath.Base(arg), err, tc.want)
				}
			}
		})
	}
}

// zstdZeros is a zstd frame of RLE blocks that decompresses to n×128 KiB
// of zeros: 4 bytes a block, so 2 MB of it make 64 GiB.
func zstdZeros(blocks int) []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38} // magic; no size, no checksum; 128 KiB window
	const size = 128 << 10
	for i := range blocks {
		last := 0
		if i == blocks-1 {
			last = 1
		}
		h := size<<3 | 1<<1 | last // block size, type RLE, last block
		out = append(out, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return out
}

// sparseLayout writes tiny's OCI layout with its layer blob replaced by a
// sparse file of size bytes, whose descriptor keeps the real blob's size.
func sparseLayout(t *testing.T, size int64) string {
	t.Helper()
	p := ociLayoutOf(t, tiny, it.Plain)
	dir := writeDir(t, p.ms)
	b := filepath.Join(dir, filepath.FromSlash(blobPath(p.layer)))
	f, err := os.OpenFile(b, os.O_WRONLY|os.O_TRUNC, 0)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
	return dir
}

// TestLyingSizesAndBombs: a blob is read no further than its descriptor's
// size and a byte; a layer holds no more than 1 MiB after its
// end-of-archive marker; a stream's member that claims 2^62 bytes of
// zeros ends. Each within a deadline that reading the input whole would
// pass by hours.
func TestLyingSizesAndBombs(t *testing.T) {
	bomb := zstdZeros(512 << 10) // 64 GiB of zeros in 2 MiB
	bombImage := it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "a"))}}
	bp := ociLayoutOf(t, bombImage, it.Zstd)
	bombMembers := replace(bp.ms, blobPath(bp.layer), bomb)
	// The manifest names the bomb by its own digest and size.
	var m map[string]any
	json.Unmarshal(member(bp.ms, blobPath(bp.manifest)), &m)
	layer := m["layers"].([]any)[0].(map[string]any)
	layer["digest"], layer["size"] = it.Digest(bomb), len(bomb)
	md, _ := json.Marshal(m)
	bombMembers = without(bombMembers, blobPath(bp.layer))
	bombMembers = without(bombMembers, blobPath(bp.manifest))
	bombMembers = append(bombMembers, it.Member{Name: blobPath(it.Digest(bomb)), Data: bomb}, it.Member{Name: blobPath(it.Digest(md)), Data: md})
	bombMembers = replace(bombMembers, "index.json", bytes.Replace(member(bp.ms, "index.json"), []byte(bp.manifest), []byte(it.Digest(md)), 1))

	var endless bytes.Buffer
	tw := tar.NewWriter(&endless)
	tw.WriteHeader(&tar.Header{Name: "abc/layer.tar", Size: 1 << 62, Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX})

	tests := []struct {
		name  string
		arg   func(t *testing.T) string
		stdin io.Reader
		want  string
	}{
		{"64 GiB sparse blob, descriptor says its real size", func(t *testing.T) string { return sparseLayout(t, 64<<30) }, nil,
			fmt.Sprintf("the blob holds more than the %d bytes its manifest gives", len(tiny.Layers[0]))},
		{"short blob", func(t *testing.T) string { return sparseLayout(t, 512) }, nil,
			fmt.Sprintf("size mismatch: the blob holds 512 bytes, its manifest says %d", len(tiny.Layers[0]))},
		{"zstd bomb in a layout", func(t *testing.T) string { return writeDir(t, bombMembers) }, nil, "more than 1 MiB after its end-of-archive marker"},
		{"zstd bomb in an archive", func(t *testing.T) string { return write(t, "a.tar", it.Tar(bombMembers)) }, nil, "more than 1 MiB after its end-of-archive marker"},
		{"zstd bomb on stdin", nil, bytes.NewReader(it.Tar(bombMembers)), "more than 1 MiB after its end-of-archive marker"},
		{"member of 2^62 zeros on stdin", nil, io.MultiReader(bytes.NewReader(endless.Bytes()), zeros{}), `archive member "abc/layer.tar": layer has more than 1 MiB after its end-of-archive marker`},
		{"archive followed by 2 MiB on stdin", nil, io.MultiReader(bytes.NewReader(it.Tar(it.DockerArchive(tiny))), bytes.NewReader(make([]byte, 2<<20))), "the archive has more than 1 MiB after its end-of-archive marker"},
		{"archive followed by endless zeros on stdin", nil, io.MultiReader(bytes.NewReader(it.Tar(it.DockerArchive(tiny))), zeros{}), "the archive has more than 1 MiB after its end-of-archive marker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			arg, opt := "-", image.Options{Stdin: tc.stdin}
			if tc.arg != nil {
				arg = tc.arg(t)
			}
			_, err := loadWithin(t, 20*time.Second, arg, opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestPaddingThatToolsWrite: GNU tar pads a layer to its 10 KiB record;
// Docker and BuildKit write none. Both load.
func TestPaddingThatToolsWrite(t *testing.T) {
	l := it.Layer(it.Reg("a", "a"))
	padded := append(bytes.Clone(l), make([]byte, 10240-len(l)%10240)...)
	img := it.Image{Layers: [][]byte{padded, l}}
	for _, c := range []it.Compression{it.Plain, it.Gzip, it.Zstd} {
		dir := writeDir(t, it.OCILayout(c, false, img))
		if _, err := loadWithin(t, 20*time.Second, dir, image.Options{}); err != nil {
			t.Errorf("compression %d: %v", c, err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// blockingReader never returns from Read until it is closed.
type blockingReader chan struct{}

func (b blockingReader) Read([]byte) (int, error) { <-b; return 0, io.EOF }

// TestStdinCancel: a read from standard input that waits on a pipe nobody
// writes to ends when the context does, with an error that says so.
func TestStdinCancel(t *testing.T) {
	tests := []struct {
		name string
		in   func(t *testing.T) io.Reader
	}{
		{"os.Pipe", func(t *testing.T) io.Reader {
			r, w, err := os.Pipe()
			must(t, err)
			t.Cleanup(func() { w.Close(); r.Close() })
			return r
		}},
		{"a blocking pipe, as a shell gives", func(t *testing.T) io.Reader {
			var fds [2]int
			must(t, syscall.Pipe(fds[:]))
			r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
			t.Cleanup(func() { w.Close(); r.Close() })
			if err := r.SetReadDeadline(time.Time{}); err == nil {
				t.Fatal("the test pipe takes deadlines: it does not test the blocking case")
			}
			return r
		}},
		{"any reader", func(t *testing.T) io.Reader {
			b := make(blockingReader)
			t.Cleanup(func() { close(b) })
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := image.Load(ctx, "-", image.Options{Stdin: in})
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || err.Error() != "reading standard input: interrupted" {
					t.Fatalf("err = %v, want an interruption", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Load still waits on the pipe 10 s after the context ended")
			}
		})
	}
}
