package imagetest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteLarge writes a `docker save` archive of a synthetic image to path:
// `layers` layers holding `files` files and about `size` bytes in all,
// spread over directories like a real root filesystem, with a later layer
// that deletes and rewrites some of what an earlier one wrote. Layer tars
// are spooled to dir first, so memory stays small whatever the size.
func WriteLarge(path, dir string, files int, size int64, layers int) error {
	var diffIDs []string
	var layerFiles []string
	perLayer := files / layers
	avg := size / int64(files)
	g := &gen{seed: 1}
	for l := 0; l < layers; l++ {
		p := filepath.Join(dir, fmt.Sprintf("layer%d.tar", l))
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		tw := tar.NewWriter(io.MultiWriter(f, h))
		buf := make([]byte, 0, 4*avg)
		for i := 0; i < perLayer; i++ {
			var name string
			if l == layers-1 && i < perLayer/10 {
				name = fmt.Sprintf("usr/lib/pkg%03d/file%05d.so", i%500, i) // rewrites layer 0's files
			} else {
				name = fmt.Sprintf("usr/lib/pkg%03d/l%d/file%05d.so", i%500, l, i)
			}
			if l == layers-1 && i == perLayer/10 {
				// a cleanup: hide a directory layer 1 wrote
				if err := tw.WriteHeader(&tar.Header{Name: "usr/lib/pkg007/l1/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: Epoch}); err != nil {
					return err
				}
			}
			// Sizes vary: most files small, a few large, as in real images.
			n := int64(g.next() % uint64(2*avg))
			if i%100 == 0 {
				n = 20 * avg
			}
			buf = buf[:0]
			for int64(len(buf)) < n {
				buf = binary.LittleEndian.AppendUint64(buf, g.next())
			}
			buf = buf[:n]
			if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: n, ModTime: Epoch}); err != nil {
				return err
			}
			if _, err := tw.Write(buf); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(h.Sum(nil)))
		layerFiles = append(layerFiles, p)
	}
	hist := make([]History, layers)
	for i := range hist {
		hist[i].CreatedBy = fmt.Sprintf("/bin/sh -c install layer %d", i)
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": hist,
	})
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	var names []string
	for i, p := range layerFiles {
		name := fmt.Sprintf("%064x/layer.tar", i+1)
		names = append(names, name)
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: fi.Size(), ModTime: Epoch}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		os.Remove(p)
		if err != nil {
			return err
		}
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"large:1"}, "Layers": names}})
	for _, m := range []Member{{Name: "config.json", Data: cfg}, {Name: "manifest.json", Data: manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: m.Name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(m.Data)), ModTime: Epoch}); err != nil {
			return err
		}
		tw.Write(m.Data)
	}
	return tw.Close()
}
