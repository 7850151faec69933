package image

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// TestOpenLayerBlobSize: a layout's blob that is no longer the size its
// descriptor gives, when it is opened again or while it is read, is a
// one-line size mismatch, as it is when the image is loaded; never a
// shorter or a longer layer than the one analysed.
func TestOpenLayerBlobSize(t *testing.T) {
	// Bytes that do not compress: the blob is much larger than what
	// opening it reads ahead.
	noise := make([]byte, 200_000)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	img := it.Image{Layers: [][]byte{
		it.Layer(it.Reg("etc/os-release", "ID=test\n"), it.Reg("app/data", string(noise))),
		it.Layer(it.Reg("app/main.sh", "echo hi\n")),
	}}
	grow := func(n int) func(t *testing.T, p string) {
		return func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(make([]byte, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	shrink := func(by int64) func(t *testing.T, p string) {
		return func(t *testing.T, p string) {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, max(fi.Size()-by, 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	changes := []struct {
		name   string
		change func(t *testing.T, path string)
		want   string
	}{
		{"a byte more", grow(1), "size mismatch: the blob holds "},
		{"a MiB more", grow(1 << 20), "size mismatch: the blob holds "},
		{"a byte less", shrink(1), "size mismatch: the blob holds "},
		{"empty", shrink(1 << 40), "size mismatch: the blob holds "},
	}
	for cname, c := range map[string]it.Compression{"plain": it.Plain, "gzip": it.Gzip, "zstd": it.Zstd} {
		for _, ch := range changes {
			for _, when := range []string{"before it is opened", "while it is read"} {
				t.Run(cname+"/"+ch.name+"/"+when, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					dir := filepath.Join(t.TempDir(), "layout")
					if err := it.WriteDir(dir, it.OCILayout(c, false, img)); err != nil {
						t.Fatal(err)
					}
					loaded, err := Load(ctx, dir, Options{})
					if err != nil {
						t.Fatal(err)
					}
					name := loaded.refs[0].name
					blob := filepath.Join(dir, filepath.FromSlash(name))
					if when == "before it is opened" {
						ch.change(t, blob)
					}
					rc, err := loaded.OpenLayer(ctx, 0)
					if err == nil {
						if when == "while it is read" {
							ch.change(t, blob)
						}
						_, err = io.ReadAll(rc)
						rc.Close()
					}
					if err == nil || !strings.Contains(err.Error(), ch.want) || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
						t.Errorf("err = %v; want one line naming %s with %q", err, name, ch.want)
					}
				})
			}
		}
	}
	t.Run("the size it was analysed at reads as before", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "layout")
		if err := it.WriteDir(dir, it.OCILayout(it.Gzip, false, img)); err != nil {
			t.Fatal(err)
		}
		loaded, err := Load(context.Background(), dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := lastBody(t, loaded, 1, "app/main.sh"); got != "echo hi\n" {
			t.Errorf("layer 1 app/main.sh = %q", got)
		}
	})
}
