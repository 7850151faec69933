// Package imagetest writes the layer tars and image archives that tests
// read: small, deterministic, in every format layerscope accepts.
package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"time"
)

// Epoch is the fixed modification time of every generated entry.
var Epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// File is one entry of a layer tar. A Name ending in "/" is a directory;
// Link makes a symlink, HardLink a hard link.
type File struct {
	Name     string
	Body     string
	Mode     int64
	UID, GID int
	Link     string
	HardLink string
	Type     byte // overrides the type the other fields imply
}

// Dir, Reg, Sym, Hard and Whiteout build Files tersely.
func Dir(name string) File            { return File{Name: name, Type: tar.TypeDir, Mode: 0o755} }
func Reg(name, body string) File      { return File{Name: name, Body: body, Mode: 0o644} }
func Sym(name, target string) File    { return File{Name: name, Link: target} }
func Hard(name, target string) File   { return File{Name: name, HardLink: target} }
func Whiteout(dir, name string) File  { return Reg(join(dir, ".wh."+name), "") }
func Opaque(dir string) File          { return Reg(join(dir, ".wh..wh..opq"), "") }
func Chmod(f File, mode int64) File   { f.Mode = mode; return f }
func Owned(f File, uid, gid int) File { f.UID, f.GID = uid, gid; return f }
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Layer writes files as an uncompressed tar, in the order given.
func Layer(files ...File) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: Epoch, Format: tar.FormatPAX}
		switch {
		case f.Type != 0:
			h.Typeflag = f.Type
		case f.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
		case f.HardLink != "":
			h.Typeflag, h.Linkname = tar.TypeLink, f.HardLink
		default:
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err) // test inputs are ours: a bad one is a bug in the test
		}
		if h.Size > 0 {
			tw.Write([]byte(f.Body))
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Retype rewrites the type flag of the first header of a tar written by
// Layer with GNU magic, and fixes its checksum: a way
// to make entries the tar writer refuses to write (old GNU sparse files).
func Retype(layer []byte, typ byte) []byte {
	out := bytes.Clone(layer)
	hdr := out[:512]
	hdr[156] = typ
	copy(hdr[257:265], "ustar  \x00") // GNU magic: old GNU types need it
	copy(hdr[148:156], "        ")
	sum := 0
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:156], []byte(fmt.Sprintf("%06o\x00 ", sum)))
	return out
}
