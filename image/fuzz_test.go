package image_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
)

var tiny = it.Image{
	Layers: [][]byte{it.Layer(it.Reg("a", "a")), it.Layer(it.Whiteout("", "a"), it.Reg("b", "b"))},
	Tags:   []string{"tiny:1"},
}

// FuzzArchive reads arbitrary bytes as an archive, once as a stream and
// once from a file, merging its layers as they are parsed: an error is
// fine, a panic or a hang is not.
func FuzzArchive(f *testing.F) {
	f.Add(it.Tar(it.DockerArchive(tiny)))
	f.Add(it.Tar(it.DockerOCIArchive(tiny)))
	f.Add(it.Tar(it.OCILayout(it.Gzip, false, tiny)))
	f.Add(it.GzipBytes(it.Tar(it.DockerArchive(tiny))))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		// A few bytes of zstd can decompress to gigabytes: that is time,
		// not memory, and a deadline ends it as Ctrl+C would.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		image.Load(ctx, "-", image.Options{Stdin: bytes.NewReader(data)})
		p := filepath.Join(dir, "a.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		image.Load(ctx, p, image.Options{Merge: true})
	})
}

// FuzzManifest puts arbitrary metadata documents into a valid archive:
// manifest.json, index.json and the manifest blob they point at.
func FuzzManifest(f *testing.F) {
	docker := it.DockerArchive(tiny)
	oci := it.OCILayout(it.Plain, false, tiny)
	f.Add(member(docker, "manifest.json"), member(oci, "index.json"))
	f.Add([]byte(`[{"Config":"../x","Layers":["/etc/passwd"]}]`), []byte(`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:00"}]}`))
	f.Add([]byte(`[{"Config":"manifest.json","RepoTags":["a"],"Layers":["manifest.json","manifest.json"]}]`), []byte(`{"manifests":[{"digest":"sha256:`+"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"+`"}]}`))
	f.Fuzz(func(t *testing.T, manifest, index []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, ms := range [][]it.Member{replace(docker, "manifest.json", manifest), replace(oci, "index.json", index)} {
			image.Load(ctx, "-", image.Options{Stdin: bytes.NewReader(it.Tar(ms))})
		}
	})
}

func member(ms []it.Member, name string) []byte {
	for _, m := range ms {
		if m.Name == name {
			return m.Data
		}
	}
	return nil
}

func replace(ms []it.Member, name string, data []byte) []it.Member {
	out := append([]it.Member(nil), ms...)
	for i := range out {
		if out[i].Name == name {
			out[i].Data = data
		}
	}
	return out
}
