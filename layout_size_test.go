package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// TestLayoutBlobSize: an OCI layout or archive whose layer blob is larger
// or smaller than its descriptor says is not analysed: exit 2 and one line
// that says so, as a digest mismatch is.
func TestLayoutBlobSize(t *testing.T) {
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("etc/os-release", "ID=test\n"), it.Reg("app/main.sh", "echo hi\n"))}}
	for _, tc := range []struct {
		name   string
		change func(blob []byte) []byte
		want   string
	}{
		{"a byte more", func(b []byte) []byte { return append(b, 0) }, "size mismatch: the blob holds more than the "},
		{"a byte less", func(b []byte) []byte { return b[:len(b)-1] }, "size mismatch: the blob holds "},
		{"empty", func(b []byte) []byte { return nil }, "size mismatch: the blob holds 0 bytes, its manifest says "},
		{"the bytes of another", func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)/2] ^= 0xff; return c }, "digest mismatch: content is sha256:"},
	} {
		for cname, c := range map[string]it.Compression{"plain": it.Plain, "gzip": it.Gzip} {
			for _, form := range []string{"layout", "archive"} {
				t.Run(tc.name+"/"+cname+"/"+form, func(t *testing.T) {
					ms := it.OCILayout(c, false, img)
					i := layerMember(t, ms)
					ms[i].Data = tc.change(ms[i].Data)
					arg := filepath.Join(t.TempDir(), "image")
					if form == "layout" {
						if err := it.WriteDir(arg, ms); err != nil {
							t.Fatal(err)
						}
					} else if err := os.WriteFile(arg, it.Tar(ms), 0o644); err != nil {
						t.Fatal(err)
					}
					code, _, stderr := layerscope(t, nil, "--ci", arg)
					if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, ms[i].Name) || strings.Count(stderr, "\n") != 1 {
						t.Errorf("exit %d, %q; want exit 2 and one line with %s and %q", code, stderr, ms[i].Name, tc.want)
					}
				})
			}
		}
	}
}

// layerMember is the index in an OCI layout's members of its one image's
// first layer.
func layerMember(t *testing.T, ms []it.Member) int {
	t.Helper()
	read := func(name string, v any) {
		for _, m := range ms {
			if m.Name == name {
				if err := json.Unmarshal(m.Data, v); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("the layout has no %s", name)
	}
	var idx struct{ Manifests []struct{ Digest string } }
	read("index.json", &idx)
	var m struct{ Layers []struct{ Digest string } }
	read("blobs/sha256/"+strings.TrimPrefix(idx.Manifests[0].Digest, "sha256:"), &m)
	name := "blobs/sha256/" + strings.TrimPrefix(m.Layers[0].Digest, "sha256:")
	for i, m := range ms {
		if m.Name == name {
			return i
		}
	}
	t.Fatalf("the layout has no %s", name)
	return 0
}
