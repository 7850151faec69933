package image

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// TestOpenLayer: a layer of an archive file or a layout (plain, gzip,
// zstd) reads again as the tar it was; a stream cannot be read twice; a
// file that changed since is refused.
func TestOpenLayer(t *testing.T) {
	img := it.Image{Layers: [][]byte{
		it.Layer(it.Reg("etc/os-release", "ID=test\n")),
		it.Layer(it.Reg("app/main.sh", "echo hi\n"), it.Reg("app/main.sh", "echo bye\n")),
	}, User: "10001"}
	dir := t.TempDir()
	archive := filepath.Join(dir, "image.tar")
	if err := os.WriteFile(archive, it.Tar(it.DockerArchive(img)), 0o644); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{"docker archive": archive}
	for name, c := range map[string]it.Compression{"plain": it.Plain, "gzip": it.Gzip, "zstd": it.Zstd} {
		d := filepath.Join(dir, "oci-"+name)
		if err := it.WriteDir(d, it.OCILayout(c, false, img)); err != nil {
			t.Fatal(err)
		}
		sources["layout "+name] = d
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			loaded, err := Load(context.Background(), src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !loaded.CanReread() {
				t.Fatal("a file source cannot be read again")
			}
			if got := lastBody(t, loaded, 1, "app/main.sh"); got != "echo bye\n" {
				t.Errorf("layer 1 app/main.sh = %q, want the later copy", got)
			}
			if got := lastBody(t, loaded, 0, "etc/os-release"); got != "ID=test\n" {
				t.Errorf("layer 0 etc/os-release = %q", got)
			}
			if _, err := loaded.OpenLayer(context.Background(), 2); err == nil {
				t.Error("layer 2 of 2 opened")
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if rc, err := loaded.OpenLayer(ctx, 0); err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
				if !errors.Is(err, context.Canceled) {
					t.Errorf("a cancelled read: %v", err)
				}
			}
		})
	}
	t.Run("standard input is read once", func(t *testing.T) {
		data, _ := os.ReadFile(archive)
		loaded, err := Load(context.Background(), "-", Options{Stdin: strings.NewReader(string(data))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loaded.OpenLayer(context.Background(), 0); !errors.Is(err, ErrReadOnce) || loaded.CanReread() {
			t.Errorf("stdin: %v", err)
		}
	})
	t.Run("an archive that changed since", func(t *testing.T) {
		loaded, err := Load(context.Background(), archive, Options{})
		if err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(archive, later, later); err != nil {
			t.Fatal(err)
		}
		if _, err := loaded.OpenLayer(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "changed since it was analysed") {
			t.Errorf("changed archive: %v", err)
		}
	})
}

// lastBody reads the last copy of name in layer i.
func lastBody(t *testing.T, img *Image, i int, name string) string {
	t.Helper()
	rc, err := img.OpenLayer(context.Background(), i)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var body string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return body
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == name {
			b, _ := io.ReadAll(tr)
			body = string(b)
		}
	}
}
