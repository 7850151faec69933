package tree

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// agree reads data with archive/tar and with tarReader side by side: the
// same entries (the fields Parse uses), the same bodies, and an error, or
// the clean end, at the same place. An entry either calls sparse ends the
// comparison: Parse refuses it whatever else follows. With oneByte,
// tarReader reads through a one-byte reader, so short reads are covered.
func agree(data []byte, oneByte bool) error {
	var r io.Reader = bytes.NewReader(data)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	return agreeWith(data, newTarReader(r).src)
}

// agreeWith is agree with tarReader viewing src.
func agreeWith(data []byte, src Viewer) error {
	want := tar.NewReader(bytes.NewReader(data))
	got := &tarReader{src: src}
	for i := 0; ; i++ {
		wh, werr := want.Next()
		gh, gerr := got.Next()
		if gerr == nil && gh.Sparse {
			if werr == nil && !isSparse(wh) {
				return fmt.Errorf("entry %d: tarReader reads a sparse entry, archive/tar a plain one", i)
			}
			return nil
		}
		if (werr == nil) != (gerr == nil) || (werr == io.EOF) != (gerr == io.EOF) {
			return fmt.Errorf("entry %d: archive/tar says %v, tarReader %v", i, werr, gerr)
		}
		if werr != nil {
			return nil
		}
		if wsparse := isSparse(wh); wsparse {
			return fmt.Errorf("entry %d: archive/tar reads a sparse entry, tarReader does not", i)
		}
		w := tarHeader{Name: wh.Name, Linkname: wh.Linkname, Typeflag: wh.Typeflag, Size: wh.Size, Mode: wh.Mode, Uid: wh.Uid, Gid: wh.Gid}
		if wh.Typeflag == tar.TypeXGlobalHeader && wh.PAXRecords == nil && gh.Typeflag == tar.TypeXGlobalHeader {
			w.Name = gh.Name // an invalid value: archive/tar's name depends on map order
		}
		if w != *gh {
			return fmt.Errorf("entry %d: archive/tar reads %+v, tarReader %+v", i, w, *gh)
		}
		wb, werr := io.ReadAll(want)
		gb, gerr := io.ReadAll(got)
		if !bytes.Equal(wb, gb) || (werr == nil) != (gerr == nil) {
			return fmt.Errorf("entry %d body: archive/tar reads %d bytes (%v), tarReader %d (%v)", i, len(wb), werr, len(gb), gerr)
		}
		if werr != nil {
			return nil
		}
	}
}

// tarSeeds are archives in each format archive/tar writes and reads, with
// the fields that differ between them.
func tarSeeds(t testing.TB) map[string][]byte {
	long := strings.Repeat("dir/", 40) + "file"
	write := func(hdrs ...*tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(h.Name, err)
			}
			if h.Typeflag == tar.TypeReg {
				tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	reg := func(name string, size int64, f tar.Format) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: size, Mode: 0o755, Uid: 1000, Gid: 1000, ModTime: time.Unix(1700000000, 0), Format: f}
	}
	seeds := map[string][]byte{
		"ustar": write(reg("a", 5, tar.FormatUSTAR), &tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatUSTAR},
			&tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: "../a", Format: tar.FormatUSTAR},
			&tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "a", Format: tar.FormatUSTAR}),
		"ustar prefix": write(reg("usr/share/"+strings.Repeat("p", 90)+"/"+strings.Repeat("n", 90), 700, tar.FormatUSTAR)),
		"pax":          write(reg(long, 3, tar.FormatPAX), reg("ünïcode", 1, tar.FormatPAX), &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: long, Format: tar.FormatPAX}),
		"pax records": write(&tar.Header{Name: "r", Typeflag: tar.TypeReg, Size: 2, Uid: 1 << 30, Gid: 1 << 22, ModTime: time.Unix(-5, 500), Format: tar.FormatPAX,
			PAXRecords: map[string]string{"SCHILY.xattr.user.x": "1", "comment": "hi"}}),
		"gnu":        write(reg(long, 9, tar.FormatGNU), &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: long, Format: tar.FormatGNU}),
		"gnu big id": write(&tar.Header{Name: "b", Typeflag: tar.TypeReg, Uid: 1 << 40, Gid: 3, Format: tar.FormatGNU}),
		"global":     write(&tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "git", "path": "g"}}, reg("f", 1, tar.FormatPAX)),
		"devices": write(&tar.Header{Name: "c", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Format: tar.FormatUSTAR},
			&tar.Header{Name: "f", Typeflag: tar.TypeFifo, Format: tar.FormatGNU}),
	}
	// A regular file with the V7 type '\0', once with a trailing slash.
	v7 := write(reg("old", 4, tar.FormatUSTAR), reg("olddir", 0, tar.FormatUSTAR))
	v7[156] = 0
	v7[1024+156] = 0
	v7[1024+6] = '/'
	setChecksum(v7[:512])
	setChecksum(v7[1024:1536])
	seeds["v7 types"] = v7
	// The same without any magic: plain V7.
	plain := bytes.Clone(seeds["ustar"])
	copy(plain[257:265], make([]byte, 8))
	setChecksum(plain[:512])
	seeds["v7"] = plain
	// STAR: USTAR with a trailer, a prefix and times.
	star := write(reg("f", 1, tar.FormatUSTAR))
	copy(star[345:], "pre")
	copy(star[476:], "00000000001\x00")
	copy(star[508:], "tar\x00")
	setChecksum(star[:512])
	seeds["star"] = star
	// GNU with a prefix written over the times, as Go before 1.8 did.
	oldgo := write(reg("name", 1, tar.FormatGNU))
	copy(oldgo[345:], "some/prefix")
	setChecksum(oldgo[:512])
	seeds["gnu old go prefix"] = oldgo
	// Sparse, old GNU and PAX.
	sp := write(reg("s", 3, tar.FormatGNU))
	sp[156] = tar.TypeGNUSparse
	setChecksum(sp[:512])
	seeds["gnu sparse"] = sp
	seeds["pax sparse"] = write(&tar.Header{Name: "s", Typeflag: tar.TypeReg, Size: 1, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "real"}})
	// PAX headers written by hand: records archive/tar's writer refuses.
	seeds["pax hand"] = paxArchive("mtime", "1700000000.123456789", "size", "2", "uid", "-1", "gid", "7", "path", "from/pax/a/b", "linkpath", "x")
	seeds["pax bad time"] = paxArchive("mtime", "12.3x")
	seeds["pax empty path"] = paxArchive("path", "a", "path", "")
	seeds["pax sparse pairs"] = paxArchive("GNU.sparse.offset", "0", "GNU.sparse.numbytes", "1")
	seeds["pax negative size"] = paxArchive("size", "-5")
	seeds["pax bad id"] = paxArchive("uid", "1e3")
	// Sparse records out of order, in a header a later one replaces, and
	// in a global header with an invalid value.
	badPairs := paxArchive("GNU.sparse.numbytes", "1", "GNU.sparse.offset", "0")
	seeds["pax bad sparse pairs replaced"] = append(badPairs[:1024:1024], paxArchive("mtime", "1")...)
	seeds["pax bad sparse pairs at the end"] = append(badPairs[:1024:1024], make([]byte, 1024)...)
	seeds["pax sparse comma replaced"] = append(paxArchive("GNU.sparse.offset", "0,1")[:1024:1024], paxArchive("mtime", "1")...)
	global := paxArchive("GNU.sparse.major", "1", "uid", "abc")
	global[156] = tar.TypeXGlobalHeader
	setChecksum(global[:512])
	seeds["global sparse invalid"] = global
	return seeds
}

// paxArchive is one PAX header with the given keys and values, then a
// file "f" of 3 bytes.
func paxArchive(kv ...string) []byte {
	var body string
	for i := 0; i < len(kv); i += 2 {
		rec := " " + kv[i] + "=" + kv[i+1] + "\n"
		n := len(rec) + 1
		for n != len(rec)+len(strconv.Itoa(n)) {
			n = len(rec) + len(strconv.Itoa(n))
		}
		body += strconv.Itoa(n) + rec
	}
	var buf bytes.Buffer
	buf.Write(rawHeader("PaxHeaders/f", tar.TypeXHeader, int64(len(body))))
	buf.WriteString(body)
	buf.Write(make([]byte, -len(body)&511))
	buf.Write(rawHeader("f", tar.TypeReg, 3))
	buf.WriteString("abc")
	buf.Write(make([]byte, 509+1024))
	return buf.Bytes()
}

// rawHeader is a USTAR header block.
func rawHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	setChecksum(b)
	return b
}

// setChecksum writes a header block's checksum field.
func setChecksum(b []byte) {
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
}

// TestTarReaderAgrees holds tarReader to archive/tar on each seed, on each
// cut of it, and on each byte of its first header set to values that
// matter to a parser, with the checksum made right again.
func TestTarReaderAgrees(t *testing.T) {
	for name, data := range tarSeeds(t) {
		t.Run(name, func(t *testing.T) {
			if err := agree(data, true); err != nil {
				t.Fatal(err)
			}
			for n := range len(data) {
				if err := agree(data[:n], n%512 < 2 || n%512 > 509); err != nil {
					t.Fatalf("cut at %d: %v", n, err)
				}
			}
			for off := range min(len(data), 1024) {
				for _, v := range []byte{0, ' ', '0', '7', '8', '/', 0x80, 0xc0, 0xff, 'x', 'L', 'g'} {
					m := bytes.Clone(data)
					m[off] = v
					if off < 512 && (off < 148 || off >= 156) {
						setChecksum(m)
					}
					if err := agree(m, false); err != nil {
						t.Fatalf("byte %d set to %q: %v", off, v, err)
					}
				}
			}
		})
	}
}

// TestTarChecksum holds the word-at-a-time sums to the byte-at-a-time ones.
func TestTarChecksum(t *testing.T) {
	var b [512]byte
	for seed := range 200 {
		for i := range b {
			b[i] = byte((i*131 + seed*7919) % (seed + 2) * 37)
		}
		var u, s int64
		for i, c := range b {
			if 148 <= i && i < 156 {
				c = ' '
			}
			u += int64(c)
			s += int64(int8(c))
		}
		if gu, gs := checksum(&b); gu != u || gs != s {
			t.Fatalf("seed %d: got %d %d, want %d %d", seed, gu, gs, u, s)
		}
	}
	for _, fill := range []byte{0, 0x7f, 0x80, 0xff} {
		b = [512]byte{}
		for i := range b {
			b[i] = fill
		}
		u, s := checksum(&b)
		wu := int64(fill)*504 + 8*' '
		ws := int64(int8(fill))*504 + 8*' '
		if u != wu || s != ws {
			t.Fatalf("fill %#x: got %d %d, want %d %d", fill, u, s, wu, ws)
		}
	}
}

// A truncated gzip stream's own error inside a padding is an error, not
// the end of the archive.
func TestTarPaddingKeepsReaderErrors(t *testing.T) {
	data := tarSeeds(t)["ustar"]
	r := io.MultiReader(bytes.NewReader(data[:512+5+3]), iotest.ErrReader(io.ErrUnexpectedEOF))
	tr := newTarReader(r)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
	// archive/tar says the same.
	ar := tar.NewReader(io.MultiReader(bytes.NewReader(data[:512+5+3]), iotest.ErrReader(io.ErrUnexpectedEOF)))
	ar.Next()
	if _, err := ar.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("archive/tar: got %v", err)
	}
}

func FuzzTarReader(f *testing.F) {
	for _, data := range tarSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := agree(data, len(data)%2 == 1); err != nil {
			t.Fatal(err)
		}
	})
}

// isSparse is whether archive/tar reads hdr as a sparse entry.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// ContentHash is the hash Parse keeps, whatever the body's size and
// however its bytes arrive.
func TestContentHashIsParseHash(t *testing.T) {
	for _, size := range []int{0, 1, 16, 240, 241, 1024, 300 << 10, 1 << 20} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i*7 + i>>9)
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Size: int64(size), Mode: 0o644})
		tw.Write(body)
		tw.Close()
		for _, r := range []io.Reader{bytes.NewReader(buf.Bytes()), iotest.OneByteReader(bytes.NewReader(buf.Bytes()))} {
			cs, err := Parse(t.Context(), r, &ParseOptions{Sniff: SniffFunc(func(string, []byte) Flags { return 0 })})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := cs.Entries[0].Hash, ContentHash(body); got != want {
				t.Fatalf("size %d: Parse keeps %#x, ContentHash says %#x", size, got, want)
			}
		}
	}
}

// eofViewer hands out its bytes in pieces of at most n, the last one with
// io.EOF, as the Viewer contract allows.
type eofViewer struct {
	b []byte
	n int
}

func (v *eofViewer) View(max int) ([]byte, error) {
	if len(v.b) == 0 {
		return nil, io.EOF
	}
	k := min(max, v.n, len(v.b))
	out := v.b[:k]
	v.b = v.b[k:]
	if len(v.b) == 0 {
		return out, io.EOF
	}
	return out, nil
}

// A body or block whose last bytes come with the source's end is whole:
// the archive reads as archive/tar reads the same bytes, whatever the
// pieces the source hands out.
func TestTarViewerEndsWithItsLastBytes(t *testing.T) {
	for name, data := range tarSeeds(t) {
		for _, n := range []int{1, 5, 512, 1 << 20} {
			for _, cut := range []int{len(data), 512 + 5, 1024, 1536} {
				cut = min(cut, len(data))
				if err := agreeWith(data[:cut], &eofViewer{b: data[:cut], n: n}); err != nil {
					t.Errorf("%s cut at %d, pieces of %d: %v", name, cut, n, err)
				}
			}
		}
	}
}
