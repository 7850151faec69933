package image_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
)

var sample = it.Image{
	Layers: [][]byte{
		it.Layer(it.Dir("bin/"), it.Reg("bin/sh", "#!shell"), it.Reg("etc/passwd", "root:x:0:0")),
		it.Layer(it.Reg("app/big", strings.Repeat("x", 5000)), it.Reg("app/main", "main")),
		it.Layer(it.Whiteout("app", "big")),
	},
	History: []it.History{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "},
		{CreatedBy: "/bin/sh -c #(nop)  ENV A=b", EmptyLayer: true},
		{CreatedBy: "COPY app /app # buildkit"},
		{CreatedBy: "RUN /bin/sh -c rm /app/big # buildkit"},
	},
	User: "app",
	Tags: []string{"sample:1"},
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeDir(t *testing.T, ms []it.Member) string {
	t.Helper()
	dir := t.TempDir()
	if err := it.WriteDir(dir, ms); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T, arg string, opt image.Options) *image.Image {
	t.Helper()
	img, err := image.Load(context.Background(), arg, opt)
	if err != nil {
		t.Fatalf("Load(%s): %v", arg, err)
	}
	return img
}

// TestSourcesAgree reads one image from every kind of source and checks
// that each names the same layers with the same change sets.
func TestSourcesAgree(t *testing.T) {
	docker := it.Tar(it.DockerArchive(sample))
	tests := []struct {
		name   string
		arg    func(t *testing.T) (string, *bytes.Reader)
		source string
	}{
		{"docker archive", func(t *testing.T) (string, *bytes.Reader) { return write(t, "a.tar", docker), nil }, image.SourceDockerArchive},
		{"docker archive, gzip", func(t *testing.T) (string, *bytes.Reader) { return write(t, "a.tgz", it.GzipBytes(docker)), nil }, image.SourceDockerArchive},
		{"docker archive, zstd", func(t *testing.T) (string, *bytes.Reader) { return write(t, "a.tzst", it.ZstdBytes(docker)), nil }, image.SourceDockerArchive},
		{"docker archive on stdin", func(t *testing.T) (string, *bytes.Reader) { return "-", bytes.NewReader(docker) }, image.SourceDockerArchive},
		{"docker archive on stdin, gzip", func(t *testing.T) (string, *bytes.Reader) { return "-", bytes.NewReader(it.GzipBytes(docker)) }, image.SourceDockerArchive},
		{"docker archive unpacked", func(t *testing.T) (string, *bytes.Reader) { return writeDir(t, it.DockerArchive(sample)), nil }, image.SourceDockerArchive},
		{"docker 25 archive", func(t *testing.T) (string, *bytes.Reader) {
			return write(t, "a.tar", it.Tar(it.DockerOCIArchive(sample))), nil
		}, image.SourceDockerArchive},
		{"oci layout", func(t *testing.T) (string, *bytes.Reader) {
			return writeDir(t, it.OCILayout(it.Plain, false, sample)), nil
		}, image.SourceOCI},
		{"oci layout, gzip", func(t *testing.T) (string, *bytes.Reader) {
			return writeDir(t, it.OCILayout(it.Gzip, false, sample)), nil
		}, image.SourceOCI},
		{"oci layout, zstd", func(t *testing.T) (string, *bytes.Reader) {
			return writeDir(t, it.OCILayout(it.Zstd, false, sample)), nil
		}, image.SourceOCI},
		{"oci archive, gzip", func(t *testing.T) (string, *bytes.Reader) {
			return write(t, "o.tar", it.Tar(it.OCILayout(it.Gzip, false, sample))), nil
		}, image.SourceOCIArchive},
		{"oci archive on stdin, zstd", func(t *testing.T) (string, *bytes.Reader) {
			return "-", bytes.NewReader(it.Tar(it.OCILayout(it.Zstd, false, sample)))
		}, image.SourceOCIArchive},
	}
	var want []string
	for _, l := range sample.Layers {
		want = append(want, it.Digest(l))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			arg, stdin := tc.arg(t)
			opt := image.Options{}
			if stdin != nil {
				opt.Stdin = stdin
			}
			img := load(t, arg, opt)
			var got []string
			for _, l := range img.Layers {
				got = append(got, l.Digest)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("layer digests = %v, want %v", got, want)
			}
			if img.Source != tc.source {
				t.Errorf("source = %q, want %q", img.Source, tc.source)
			}
			if img.Config.User != "app" || img.Ref != "sample:1" {
				t.Errorf("user %q ref %q, want app and sample:1", img.Config.User, img.Ref)
			}
			if n := len(img.Layers[1].Changes.Entries); n != 2 {
				t.Errorf("layer 1 has %d entries, want 2", n)
			}
			if w := img.Layers[2].Changes.Whiteouts; !reflect.DeepEqual(w, []string{"app/big"}) {
				t.Errorf("layer 2 whiteouts = %v", w)
			}
			if h := img.Layers[1].History.CreatedBy; h != "COPY app /app # buildkit" {
				t.Errorf("layer 1 history = %q", h)
			}
		})
	}
}

func TestRepeatedLayerSymlink(t *testing.T) {
	same := it.Layer(it.Reg("f", "same"))
	img := it.Image{Layers: [][]byte{same, it.Layer(it.Reg("g", "g")), same}}
	ms := it.DockerArchive(img)
	var links int
	for _, m := range ms {
		if m.Link != "" {
			links++
		}
	}
	if links != 1 {
		t.Fatalf("test archive has %d symlinks, want 1", links)
	}
	for _, arg := range []string{write(t, "a.tar", it.Tar(ms)), write(t, "a.tgz", it.GzipBytes(it.Tar(ms))), writeDir(t, ms)} {
		got := load(t, arg, image.Options{})
		if len(got.Layers) != 3 || got.Layers[2].Digest != it.Digest(same) {
			t.Errorf("%s: layers %+v", arg, got.Layers)
		}
	}
}

func TestPickImage(t *testing.T) {
	a := sample
	b := it.Image{Layers: [][]byte{it.Layer(it.Reg("b", "b"))}, Tags: []string{"web:1.2"}}
	many := write(t, "many.tar", it.Tar(it.DockerArchive(a, b)))
	if got := load(t, many+":web:1.2", image.Options{}); got.Ref != "web:1.2" || len(got.Layers) != 1 {
		t.Errorf("picked %q with %d layers, want web:1.2 with 1", got.Ref, len(got.Layers))
	}
	if got := load(t, many+":docker.io/library/sample:1", image.Options{}); got.Ref != "docker.io/library/sample:1" || len(got.Layers) != 3 {
		t.Errorf("picked %q with %d layers, want sample:1 with 3", got.Ref, len(got.Layers))
	}
	_, err := image.Load(context.Background(), many, image.Options{})
	if err == nil || !strings.Contains(err.Error(), "sample:1, web:1.2") {
		t.Errorf("Load without a ref: %v; want an error listing both", err)
	}
	_, err = image.Load(context.Background(), many+":nope", image.Options{})
	if err == nil || !strings.Contains(err.Error(), `no image "nope"`) {
		t.Errorf("Load of a missing ref: %v", err)
	}
	ociMany := writeDir(t, it.OCILayout(it.Gzip, false, a, b))
	if got := load(t, ociMany+":1.2", image.Options{}); len(got.Layers) != 1 {
		t.Errorf("picked %d layers from the OCI layout by tag, want 1", len(got.Layers))
	}
}

func TestPlatforms(t *testing.T) {
	amd := sample
	arm := it.Image{Layers: [][]byte{it.Layer(it.Reg("arm", "arm"))}, OS: "linux", Arch: "arm64", Variant: "v8"}
	dir := writeDir(t, it.OCILayout(it.Gzip, true, amd, arm))
	if got := load(t, dir, image.Options{}); got.Config.Architecture != "amd64" {
		t.Errorf("default platform picked %s", got.Config.Architecture)
	}
	p, _ := image.ParsePlatform("linux/arm64")
	if got := load(t, dir, image.Options{Platform: p}); got.Config.Architecture != "arm64" {
		t.Errorf("--platform linux/arm64 picked %s", got.Config.Architecture)
	}
	p, _ = image.ParsePlatform("linux/s390x")
	_, err := image.Load(context.Background(), dir, image.Options{Platform: p})
	if err == nil || !strings.Contains(err.Error(), "linux/amd64, linux/arm64/v8") {
		t.Errorf("missing platform: %v; want the platforms listed", err)
	}
	// A single image is analysed whatever its platform: nothing runs.
	armOnly := writeDir(t, it.OCILayout(it.Plain, true, arm))
	if got := load(t, armOnly, image.Options{}); got.Config.Architecture != "arm64" {
		t.Errorf("single arm64 image: got %s", got.Config.Architecture)
	}
	// Blobs of the platforms not chosen may be missing.
	ms := it.OCILayout(it.Gzip, true, amd, arm)
	var kept []it.Member
	armLayer, _ := compressOf(t, ms, arm)
	for _, m := range ms {
		if m.Name != armLayer {
			kept = append(kept, m)
		}
	}
	if got := load(t, writeDir(t, kept), image.Options{}); got.Config.Architecture != "amd64" {
		t.Errorf("with the other platform's layer missing: got %s", got.Config.Architecture)
	}
	p, _ = image.ParsePlatform("linux/arm64")
	if _, err := image.Load(context.Background(), writeDir(t, kept), image.Options{Platform: p}); err == nil || !strings.Contains(err.Error(), "not in the archive") {
		t.Errorf("chosen image's layer missing: %v", err)
	}
}

// compressOf finds the member holding img's only layer in an OCI layout.
func compressOf(t *testing.T, ms []it.Member, img it.Image) (string, []byte) {
	t.Helper()
	for _, m := range ms {
		if strings.HasPrefix(m.Name, "blobs/") && len(m.Data) > 2 && m.Data[0] == 0x1f {
			if bytes.Contains(gunzip(t, m.Data), []byte("arm")) && !bytes.Contains(gunzip(t, m.Data), []byte("bin/sh")) {
				return m.Name, m.Data
			}
		}
	}
	t.Fatal("layer not found")
	return "", nil
}

func TestBadInput(t *testing.T) {
	docker := it.Tar(it.DockerArchive(sample))
	corrupt := func(ms []it.Member, match string, f func([]byte) []byte) []it.Member {
		out := make([]it.Member, len(ms))
		copy(out, ms)
		for i := range out {
			if strings.Contains(out[i].Name, match) {
				out[i].Data = f(bytes.Clone(out[i].Data))
			}
		}
		return out
	}
	flip := func(b []byte) []byte { b[len(b)/3] ^= 0xff; return b }
	secondLayer := strings.TrimSuffix(it.DockerArchive(sample)[3].Name, "/") // <id>/ of layer 1
	tests := []struct {
		name  string
		data  []byte
		stdin bool
		want  string
	}{
		{"empty file", nil, false, "not an image archive"},
		{"garbage", bytes.Repeat([]byte("garbage!"), 200), false, "not an image archive"},
		{"truncated archive", docker[:len(docker)/2], false, "truncated"},
		{"truncated archive on stdin", docker[:len(docker)/2], true, "truncated"},
		{"truncated gzip", it.GzipBytes(docker)[:len(it.GzipBytes(docker))-40], true, "truncated"},
		{"a layer's content changed", it.Tar(corrupt(it.DockerArchive(sample), secondLayer+"/layer.tar", func(b []byte) []byte {
			return bytes.Replace(b, []byte("xxxx"), []byte("yyyy"), 1)
		})), false, "digest mismatch"},
		{"a layer's tar broken", it.Tar(corrupt(it.DockerArchive(sample), secondLayer+"/layer.tar", flip)), false, "layer 1"},
		{"manifest names a missing blob", it.Tar(corrupt(it.DockerArchive(sample), "manifest.json", func(b []byte) []byte {
			return bytes.Replace(b, []byte("/layer.tar"), []byte("/gone.tar"), 1)
		})), false, "not in the archive"},
		{"manifest escapes the archive", it.Tar(corrupt(it.DockerArchive(sample), "manifest.json", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"Layers":["`), []byte(`"Layers":["../../../etc/passwd","`), 1)
		})), false, "bad archive member name"},
		{"oci blob changed", it.Tar(corrupt(it.OCILayout(it.Gzip, false, sample), "blobs/", func(b []byte) []byte {
			if b[0] == 0x1f {
				return it.GzipBytes(append(gunzip(t, b), 0)) // still gzip, other digest
			}
			return b
		})), false, "digest mismatch"},
		{"not json", it.Tar([]it.Member{{Name: "manifest.json", Data: []byte("[{")}}), false, "manifest.json"},
		{"json bomb", it.Tar([]it.Member{{Name: "manifest.json", Data: bytes.Repeat([]byte(" "), image.MaxJSON+10)}}), false, "larger than"},
		{"symlink out of the archive", it.Tar([]it.Member{{Name: "manifest.json", Link: "/etc/passwd"}}), false, "outside the archive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			arg, opt := "-", image.Options{Stdin: bytes.NewReader(tc.data)}
			if !tc.stdin {
				arg, opt = write(t, "bad.tar", tc.data), image.Options{}
			}
			_, err := image.Load(context.Background(), arg, opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}
