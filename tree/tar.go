package tree

import (
	"archive/tar"
	"encoding/binary"
	"io"
	"strconv"
	"strings"
)

// tarReader reads the entries of a layer tar as archive/tar's Reader does,
// for the header fields Parse keeps. archive/tar spends about half its time
// per header on work that only sets Header.Format (a rune-by-rune scan of
// the block for non-ASCII bytes) and on a byte-at-a-time checksum; on a
// layer of small files that was a fifth of the whole command. This reader
// skips the one and sums eight bytes at a time for the other, and keeps
// archive/tar's rules for everything else: the same names (USTAR and STAR
// prefixes, GNU long names, PAX records), sizes, types, and an error
// wherever archive/tar has one. FuzzTarReader holds it to archive/tar on
// any input. Sparse entries are recognised, never expanded: Parse refuses
// them.
type tarReader struct {
	src    Viewer
	blk    [blockSize]byte
	remain int64 // bytes of the current entry's body not yet read
	pad    int64 // the zero padding after that body
	err    error // once set, every Next returns it
	srcErr error // the source's error, once its bytes before it are viewed
}

// A Viewer hands out the bytes of a stream in place, without a copy: View
// returns the next bytes, between 1 and max of them unless it returns an
// error (io.EOF at the end), and they stay valid until the next call.
// Parse reads a Viewer's file bodies where they lie.
type Viewer interface {
	View(max int) ([]byte, error)
}

// readViewer views an io.Reader through a buffer of its own.
type readViewer struct {
	r        io.Reader
	buf      []byte
	off, end int
	err      error // the reader's, once its bytes before it are viewed
}

func (v *readViewer) View(max int) ([]byte, error) {
	for tries := 0; v.off == v.end; tries++ {
		if v.err != nil {
			return nil, v.err
		}
		if tries == 100 {
			return nil, io.ErrNoProgress
		}
		v.off = 0
		v.end, v.err = v.r.Read(v.buf)
	}
	n := min(max, v.end-v.off)
	b := v.buf[v.off : v.off+n]
	v.off += n
	return b, nil
}

// tarHeader is what Parse uses of an entry.
type tarHeader struct {
	Name, Linkname string
	Typeflag       byte
	Size           int64
	Mode           int64
	Uid, Gid       int
	Sparse         bool // an old or PAX GNU sparse entry
}

const (
	blockSize      = 512
	maxSpecialFile = 1 << 20 // archive/tar's bound on a PAX header or GNU long name
)

var zeroBlock [blockSize]byte

// typeV7Reg is a V7 regular file's type, '\x00' (tar.TypeRegA, which Go
// deprecates for writers): read as a directory when its name ends in "/",
// as archive/tar reads it.
const typeV7Reg = '\x00'

// newTarReader reads r in place if it is a Viewer, else through a buffer.
func newTarReader(r io.Reader) *tarReader {
	v, ok := r.(Viewer)
	if !ok {
		v = &readViewer{r: r, buf: make([]byte, 32<<10)}
	}
	return &tarReader{src: v}
}

// Next skips the rest of the current entry and reads the next header. At
// the end of the archive it returns io.EOF.
func (tr *tarReader) Next() (*tarHeader, error) {
	if tr.err != nil {
		return nil, tr.err
	}
	hdr, err := tr.next()
	tr.err = err
	return hdr, err
}

// View returns the next bytes of the current entry's body, at most max,
// valid until the next call; io.EOF at its end.
func (tr *tarReader) View(max int) ([]byte, error) {
	if tr.err != nil {
		return nil, tr.err
	}
	if tr.remain == 0 {
		return nil, io.EOF
	}
	b, err := tr.view(int(min(int64(max), tr.remain)))
	tr.remain -= int64(len(b))
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		tr.err = err
	}
	return b, err
}

// Read reads the current entry's body; io.EOF at its end.
func (tr *tarReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	v, err := tr.View(len(b))
	return copy(b, v), err
}

// view views the source, holding it to the Viewer contract: a view of
// nothing without an error would loop forever, so it is one. Bytes that
// come with an error (the last ones, with io.EOF) are returned alone, and
// the error at the next call, so no caller mistakes a whole block or body
// for a cut one.
func (tr *tarReader) view(max int) ([]byte, error) {
	if err := tr.srcErr; err != nil {
		return nil, err
	}
	b, err := tr.src.View(max)
	switch {
	case len(b) > 0 && err != nil:
		tr.srcErr, err = err, nil
	case len(b) == 0 && err == nil:
		err = io.ErrNoProgress
	}
	return b, err
}

// full fills b from the source: io.EOF when nothing was read,
// io.ErrUnexpectedEOF when part of it was.
func (tr *tarReader) full(b []byte) error {
	for n := 0; n < len(b); {
		v, err := tr.view(len(b) - n)
		n += copy(b[n:], v)
		if err != nil {
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (tr *tarReader) next() (*tarHeader, error) {
	var pax paxRecords
	var longName, longLink string
	for {
		if err := tr.skip(); err != nil {
			return nil, err
		}
		hdr, err := tr.readHeader()
		if err != nil {
			return nil, err
		}
		if err := tr.setBody(hdr); err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeXHeader, tar.TypeXGlobalHeader:
			body, err := tr.readSpecial()
			if err != nil {
				return nil, err
			}
			if pax, err = parsePAX(body); err != nil {
				return nil, err
			}
			if hdr.Typeflag == tar.TypeXGlobalHeader {
				// archive/tar returns a global header as an entry, with
				// its PAX path as its name; an invalid value is ignored.
				// Where a value is invalid, archive/tar keeps none of
				// the records (and which name it returns depends on map
				// order): such a header names no sparse entry.
				g := &tarHeader{Name: hdr.Name, Typeflag: hdr.Typeflag}
				if pax.merge(&tarHeader{}) == nil {
					g.Sparse = pax.sparse
					if pax.path != "" {
						g.Name = pax.path
					}
				}
				return g, nil
			}
			continue
		case tar.TypeGNULongName, tar.TypeGNULongLink:
			body, err := tr.readSpecial()
			if err != nil {
				return nil, err
			}
			if hdr.Typeflag == tar.TypeGNULongName {
				longName = cString(body)
			} else {
				longLink = cString(body)
			}
			continue
		}
		if err := pax.merge(hdr); err != nil {
			return nil, err
		}
		if longName != "" {
			hdr.Name = longName
		}
		if longLink != "" {
			hdr.Linkname = longLink
		}
		if hdr.Typeflag == typeV7Reg {
			if strings.HasSuffix(hdr.Name, "/") {
				hdr.Typeflag = tar.TypeDir
			} else {
				hdr.Typeflag = tar.TypeReg
			}
		}
		// A PAX size replaces the header's.
		if err := tr.setBody(hdr); err != nil {
			return nil, err
		}
		hdr.Sparse = pax.sparse || hdr.Typeflag == tar.TypeGNUSparse
		return hdr, nil
	}
}

// skip reads past what is left of the current entry's body and padding.
// As with archive/tar, an archive that ends inside the padding ends there;
// a reader's own error (a truncated gzip stream's) stays an error.
func (tr *tarReader) skip() error {
	for tr.remain > 0 {
		b, err := tr.view(int(min(tr.remain, 1<<30)))
		tr.remain -= int64(len(b))
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	for tr.pad > 0 {
		b, err := tr.view(int(tr.pad))
		tr.pad -= int64(len(b))
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setBody makes hdr's body the one Read and skip see.
func (tr *tarReader) setBody(hdr *tarHeader) error {
	n := hdr.Size
	switch hdr.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		n = 0 // no body, whatever the size field says
	}
	if n < 0 {
		return tar.ErrHeader
	}
	tr.remain, tr.pad = n, -n&(blockSize-1)
	return nil
}

// readSpecial reads a PAX header's or a GNU long name's body.
func (tr *tarReader) readSpecial() ([]byte, error) {
	if tr.remain > maxSpecialFile {
		return nil, tar.ErrFieldTooLong
	}
	b := make([]byte, tr.remain)
	err := tr.full(b)
	tr.remain = 0
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// readHeader reads one header block: io.EOF at two zero blocks, or at the
// end of the input before a block or after one zero block.
func (tr *tarReader) readHeader() (*tarHeader, error) {
	if err := tr.full(tr.blk[:]); err != nil {
		return nil, err
	}
	if tr.blk == zeroBlock {
		if err := tr.full(tr.blk[:]); err != nil {
			return nil, err
		}
		if tr.blk == zeroBlock {
			return nil, io.EOF
		}
		return nil, tar.ErrHeader
	}
	b := &tr.blk
	sum, ok := parseOctal(b[148:156])
	unsigned, signed := checksum(b)
	if !ok || (sum != unsigned && sum != signed) {
		return nil, tar.ErrHeader
	}
	var p numParser
	hdr := &tarHeader{
		Typeflag: b[156],
		Name:     cString(b[0:100]),
		Linkname: cString(b[157:257]),
		Size:     p.numeric(b[124:136]),
		Mode:     p.numeric(b[100:108]),
		Uid:      int(p.numeric(b[108:116])),
		Gid:      int(p.numeric(b[116:124])),
	}
	p.numeric(b[136:148]) // the modification time: archive/tar checks it
	magic, version := string(b[257:263]), string(b[263:265])
	var prefix string
	switch {
	case magic == "ustar\x00" && string(b[508:512]) == "tar\x00": // STAR
		p.numeric(b[329:337])
		p.numeric(b[337:345])
		prefix = cString(b[345:476])
		p.numeric(b[476:488])
		p.numeric(b[488:500])
	case magic == "ustar\x00": // USTAR or PAX
		p.numeric(b[329:337])
		p.numeric(b[337:345])
		prefix = cString(b[345:500])
	case magic == "ustar " && version == " \x00": // GNU
		p.numeric(b[329:337])
		p.numeric(b[337:345])
		// GNU has no prefix, but Go before 1.8 wrote one over the access
		// and change times: archive/tar takes it as one where those do
		// not parse.
		var times numParser
		if b[345] != 0 {
			times.numeric(b[345:357])
		}
		if b[357] != 0 {
			times.numeric(b[357:369])
		}
		if times.bad {
			if s := cString(b[345:500]); isASCII(s) {
				prefix = s
			}
		}
	}
	if p.bad {
		return nil, tar.ErrHeader
	}
	if prefix != "" {
		hdr.Name = prefix + "/" + hdr.Name
	}
	return hdr, nil
}

// checksum sums the block's bytes as unsigned and as signed bytes, the
// checksum field itself counted as spaces, eight bytes at a time.
func checksum(b *[blockSize]byte) (unsigned, signed int64) {
	const lanes, low = 0x00ff00ff00ff00ff, 0x0101010101010101
	var pairs, high uint64 // 16-bit lane sums; 8-bit lane counts of bytes >= 0x80
	for i := 0; i < blockSize; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		pairs += w&lanes + w>>8&lanes
		high += w >> 7 & low
	}
	// Each 16-bit lane holds at most 64×510 and each 8-bit lane at most 64:
	// neither overflows.
	u := int64(pairs&0xffff + pairs>>16&0xffff + pairs>>32&0xffff + pairs>>48)
	const ones16 = 0x0001000100010001 // the four 16-bit lanes, at most 128 each, summed
	h := int64((high&lanes + high>>8&lanes) * ones16 >> 48)
	for _, c := range b[148:156] {
		u -= int64(c)
		if c >= 0x80 {
			h--
		}
	}
	u += 8 * ' '
	return u, u - 256*h
}

// numParser parses numeric header fields as archive/tar does, remembering
// whether any failed.
type numParser struct{ bad bool }

// numeric parses a field in octal or, with its top bit set, in GNU's
// base-256 two's complement.
func (p *numParser) numeric(b []byte) int64 {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var inv byte // 0xff for a negative number
		if b[0]&0x40 != 0 {
			inv = 0xff
		}
		var x uint64
		for i, c := range b {
			c ^= inv
			if i == 0 {
				c &= 0x7f
			}
			if x>>56 > 0 {
				p.bad = true
				return 0
			}
			x = x<<8 | uint64(c)
		}
		if x>>63 > 0 {
			p.bad = true
			return 0
		}
		if inv == 0xff {
			return ^int64(x)
		}
		return int64(x)
	}
	x, ok := parseOctal(b)
	if !ok {
		p.bad = true
	}
	return x
}

// parseOctal parses an octal field: leading and trailing spaces and NULs
// dropped, then up to the first NUL; empty is zero.
func parseOctal(b []byte) (int64, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == 0) {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	var x uint64
	for _, c := range b {
		if c == 0 {
			break
		}
		if c < '0' || c > '7' || x>>61 != 0 {
			return 0, false
		}
		x = x<<3 | uint64(c-'0')
	}
	return int64(x), true
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// paxRecords holds the PAX records an entry's fields come from, the last
// of each key winning. An empty value keeps the header's.
type paxRecords struct {
	path, linkpath, size, uid, gid string
	atime, mtime, ctime            string // only checked, as archive/tar does
	sparse                         bool   // a GNU.sparse.* record
}

// parsePAX parses a PAX header's records ("LEN KEY=VALUE\n" each).
func parsePAX(body []byte) (paxRecords, error) {
	var rec paxRecords
	s := string(body)
	sparsePairs := 0
	for len(s) > 0 {
		k, v, rest, ok := paxRecord(s)
		if !ok {
			return paxRecords{}, tar.ErrHeader
		}
		s = rest
		switch k {
		case "GNU.sparse.offset", "GNU.sparse.numbytes":
			// GNU sparse 0.0: archive/tar refuses the header unless they
			// alternate, offset first, without commas; the header is an
			// error even when a later one replaces it.
			if (sparsePairs%2 == 0) != (k == "GNU.sparse.offset") || strings.Contains(v, ",") {
				return paxRecords{}, tar.ErrHeader
			}
			sparsePairs++
		case "path":
			rec.path = strings.Clone(v)
		case "linkpath":
			rec.linkpath = strings.Clone(v)
		case "size":
			rec.size = v
		case "uid":
			rec.uid = v
		case "gid":
			rec.gid = v
		case "atime":
			rec.atime = v
		case "mtime":
			rec.mtime = v
		case "ctime":
			rec.ctime = v
		}
		if strings.HasPrefix(k, "GNU.sparse.") {
			rec.sparse = true // Parse refuses such an entry
		}
	}
	return rec, nil
}

// paxRecord splits the first record off s.
func paxRecord(s string) (k, v, rest string, ok bool) {
	nStr, after, ok := strings.Cut(s, " ")
	if !ok {
		return "", "", s, false
	}
	n, err := strconv.ParseInt(nStr, 10, 0)
	if err != nil || n < 5 || n > int64(len(s)) {
		return "", "", s, false
	}
	n -= int64(len(nStr) + 1)
	if n <= 0 || after[n-1] != '\n' {
		return "", "", s, false
	}
	k, v, ok = strings.Cut(after[:n-1], "=")
	if !ok || k == "" || strings.Contains(k, "=") {
		return "", "", s, false
	}
	switch k {
	case "path", "linkpath", "uname", "gname":
		ok = !strings.Contains(v, "\x00")
	default:
		ok = !strings.Contains(k, "\x00")
	}
	return k, v, after[n:], ok
}

// merge applies the records to hdr; a value that does not parse is
// tar.ErrHeader.
func (rec *paxRecords) merge(hdr *tarHeader) error {
	if rec.path != "" {
		hdr.Name = rec.path
	}
	if rec.linkpath != "" {
		hdr.Linkname = rec.linkpath
	}
	bad := false
	num := func(v string, keep int64) int64 { // a decimal record, or keep
		if v == "" {
			return keep
		}
		n, err := strconv.ParseInt(v, 10, 64)
		bad = bad || err != nil
		return n
	}
	hdr.Size = num(rec.size, hdr.Size)
	hdr.Uid = int(num(rec.uid, int64(hdr.Uid)))
	hdr.Gid = int(num(rec.gid, int64(hdr.Gid)))
	for _, t := range []string{rec.atime, rec.mtime, rec.ctime} {
		bad = bad || t != "" && !validPAXTime(t)
	}
	if bad {
		return tar.ErrHeader
	}
	return nil
}

// validPAXTime reports whether s is a PAX time archive/tar accepts:
// decimal seconds, optionally signed, then optionally "." and digits.
func validPAXTime(s string) bool {
	secs, frac, _ := strings.Cut(s, ".")
	if _, err := strconv.ParseInt(secs, 10, 64); err != nil {
		return false
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}
