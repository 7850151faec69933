package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// Image is a test image: layer tars, base first, and the config facts the
// tests look at.
type Image struct {
	Layers   [][]byte
	History  []History // one per layer when nil
	User     string
	Env      []string
	Labels   map[string]string
	OS, Arch string // linux/amd64 when empty
	Variant  string
	Tags     []string // repo tags (docker) or ref names (OCI)
	// Annotations go on the OCI image manifest (the base image's name and
	// digest, for one).
	Annotations map[string]string
}

// ManifestDigest is the digest OCILayout gives the image's manifest
// (layers compressed as c).
func (img Image) ManifestDigest(c Compression) string { return Digest(img.manifest(c, nil)) }

// manifest is the image's OCI manifest; add, when not nil, stores each
// blob it names.
func (img Image) manifest(c Compression, add func([]byte) string) []byte {
	if add == nil {
		add = Digest
	}
	cfg := img.Config()
	var layers []map[string]any
	for _, l := range img.Layers {
		blob, mt := compress(l, c)
		layers = append(layers, map[string]any{"mediaType": mt, "digest": add(blob), "size": len(blob)})
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": add(cfg), "size": len(cfg)},
		"layers":        layers,
	}
	if img.Annotations != nil {
		m["annotations"] = img.Annotations
	}
	return mustJSON(m)
}

// History is one history entry of the config.
type History struct {
	CreatedBy  string `json:"created_by,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
	Comment    string `json:"comment,omitempty"`
}

// Member is one member of an archive: a file, or a symlink when Link is set.
type Member struct {
	Name string
	Data []byte
	Link string
}

// Compression of OCI layer blobs.
type Compression int

const (
	Plain Compression = iota
	Gzip
	Zstd
)

func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func hexOf(d string) string { return d[len("sha256:"):] }

// Config returns the image's config JSON.
func (img Image) Config() []byte {
	var diffIDs []string
	for _, l := range img.Layers {
		diffIDs = append(diffIDs, Digest(l))
	}
	hist := img.History
	if hist == nil {
		for i := range img.Layers {
			hist = append(hist, History{CreatedBy: "/bin/sh -c echo layer " + string(rune('0'+i))})
		}
	}
	os, arch := img.OS, img.Arch
	if os == "" {
		os, arch = "linux", "amd64"
	}
	cfg := map[string]any{
		"architecture": arch,
		"os":           os,
		"config":       map[string]any{"User": img.User, "Env": img.Env},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history":      hist,
	}
	if img.Variant != "" {
		cfg["variant"] = img.Variant
	}
	if img.Labels != nil {
		cfg["config"].(map[string]any)["Labels"] = img.Labels
	}
	return mustJSON(cfg)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// DockerArchive lays the images out as Docker 20.10's `docker save` does:
// <id>/layer.tar, <config>.json and manifest.json last. A layer that occurs
// twice is a symlink to its first copy.
func DockerArchive(imgs ...Image) []Member {
	var ms []Member
	seen := map[string]string{}
	var manifest []map[string]any
	for _, img := range imgs {
		cfg := img.Config()
		cfgName := hexOf(Digest(cfg)) + ".json"
		var layers []string
		for i, l := range img.Layers {
			id := hexOf(Digest(append([]byte{byte(i)}, l...)))
			name := id + "/layer.tar"
			if first, ok := seen[Digest(l)]; ok {
				ms = append(ms, Member{Name: id + "/"}, Member{Name: name, Link: "../" + first})
			} else {
				seen[Digest(l)] = name
				ms = append(ms, Member{Name: id + "/"}, Member{Name: id + "/VERSION", Data: []byte("1.0")}, Member{Name: name, Data: l})
			}
			layers = append(layers, name)
		}
		ms = append(ms, Member{Name: cfgName, Data: cfg})
		manifest = append(manifest, map[string]any{"Config": cfgName, "RepoTags": img.Tags, "Layers": layers})
	}
	return append(ms, Member{Name: "manifest.json", Data: mustJSON(manifest)})
}

// OCILayout lays the images out as an OCI image layout, with layers
// compressed as asked. With several images and Multi, they form one
// multi-platform index; otherwise each is its own entry of index.json.
func OCILayout(c Compression, multi bool, imgs ...Image) []Member {
	var ms []Member
	blobs := map[string]bool{}
	add := func(data []byte) string {
		d := Digest(data)
		if !blobs[d] {
			blobs[d] = true
			ms = append(ms, Member{Name: "blobs/sha256/" + hexOf(d), Data: data})
		}
		return d
	}
	var descs []map[string]any
	for _, img := range imgs {
		manifest := img.manifest(c, add)
		d := map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": add(manifest), "size": len(manifest)}
		os, arch := img.OS, img.Arch
		if os == "" {
			os, arch = "linux", "amd64"
		}
		if multi {
			p := map[string]any{"os": os, "architecture": arch}
			if img.Variant != "" {
				p["variant"] = img.Variant
			}
			d["platform"] = p
		}
		if len(img.Tags) > 0 {
			d["annotations"] = map[string]string{"org.opencontainers.image.ref.name": img.Tags[0]}
		}
		descs = append(descs, d)
	}
	ms = append(ms, Member{Name: "oci-layout", Data: []byte(`{"imageLayoutVersion":"1.0.0"}`)})
	return append(ms, Member{Name: "index.json", Data: mustJSON(map[string]any{"schemaVersion": 2, "manifests": descs})})
}

func compress(l []byte, c Compression) ([]byte, string) {
	var buf bytes.Buffer
	switch c {
	case Gzip:
		zw := gzip.NewWriter(&buf)
		zw.Write(l)
		zw.Close()
		return buf.Bytes(), "application/vnd.oci.image.layer.v1.tar+gzip"
	case Zstd:
		zw, _ := zstd.NewWriter(&buf)
		zw.Write(l)
		zw.Close()
		return buf.Bytes(), "application/vnd.oci.image.layer.v1.tar+zstd"
	}
	return l, "application/vnd.oci.image.layer.v1.tar"
}

// Tar writes members as a tar archive.
func Tar(ms []Member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := &tar.Header{Name: m.Name, Mode: 0o644, ModTime: Epoch, Size: int64(len(m.Data)), Typeflag: tar.TypeReg}
		switch {
		case m.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, m.Link, 0
		case len(m.Name) > 0 && m.Name[len(m.Name)-1] == '/':
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		tw.Write(m.Data)
	}
	tw.Close()
	return buf.Bytes()
}

// WriteDir writes members under dir.
func WriteDir(dir string, ms []Member) error {
	for _, m := range ms {
		p := filepath.Join(dir, filepath.FromSlash(m.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		switch {
		case m.Link != "":
			if err := os.Symlink(m.Link, p); err != nil {
				return err
			}
		case m.Name[len(m.Name)-1] == '/':
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		default:
			if err := os.WriteFile(p, m.Data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// Gzip and Zstd compress a whole archive.
func GzipBytes(b []byte) []byte { z, _ := compress(b, Gzip); return z }
func ZstdBytes(b []byte) []byte { z, _ := compress(b, Zstd); return z }

// DockerOCIArchive lays one image out as Docker 25+'s `docker save` does:
// an OCI layout with uncompressed layers, plus a manifest.json naming the
// blobs.
func DockerOCIArchive(img Image) []Member {
	ms := OCILayout(Plain, false, img)
	cfg := img.Config()
	var layers []string
	for _, l := range img.Layers {
		layers = append(layers, "blobs/sha256/"+hexOf(Digest(l)))
	}
	manifest := []map[string]any{{"Config": "blobs/sha256/" + hexOf(Digest(cfg)), "RepoTags": img.Tags, "Layers": layers}}
	return append(ms, Member{Name: "manifest.json", Data: mustJSON(manifest)})
}
