package tree

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/zeebo/xxh3"
)

// ErrSparse reports a sparse tar entry: layers never need one, and its
// holes would make every size figure ambiguous.
var ErrSparse = errors.New("sparse entries are not supported")

// ErrTooManyEntries reports a layer past ParseOptions.MaxEntries.
var ErrTooManyEntries = errors.New("too many entries")

// DefaultMaxEntries bounds one layer: ten times the largest real layers,
// and far below what would exhaust memory.
const DefaultMaxEntries = 10_000_000

// Bounds on names: Linux has none longer than PATH_MAX (4096 bytes), and
// no real image nests deeper than a few dozen directories.
const (
	MaxNameBytes = 4096
	MaxDepth     = 256
)

// ErrName reports a name past MaxNameBytes or MaxDepth.
var ErrName = errors.New("name too long or too deep")

// HeadSize is how many leading bytes of a regular file a Sniffer sees,
// unless its Window asks for more.
const HeadSize = 512

// MaxWindow is the most leading bytes a Sniffer may see of a file. The
// parser's copy buffer holds them, so a larger window costs no allocation.
const MaxWindow = 64 << 10

// A Sniffer looks at the first bytes of each regular file while it streams
// past, and returns flags to keep with the entry.
type Sniffer interface {
	// Window says how many leading bytes of the file at path Sniff sees:
	// HeadSize for most, more for the few that need it (from 1 to
	// MaxWindow; a window outside is cut to it).
	Window(path string) int
	// Sniff returns the flags of a file, from its first bytes.
	Sniff(path string, head []byte) Flags
}

// SniffFunc is a Sniffer that sees HeadSize bytes of every file.
type SniffFunc func(path string, head []byte) Flags

// Window is HeadSize.
func (SniffFunc) Window(string) int { return HeadSize }

// Sniff calls f.
func (f SniffFunc) Sniff(path string, head []byte) Flags { return f(path, head) }

// ParseOptions tune Parse. The zero value is ready to use.
type ParseOptions struct {
	Sniff      Sniffer
	MaxEntries int // 0 means DefaultMaxEntries
}

// ChangeSet is what one layer tar says, on its own: its entries in tar
// order, and its whiteouts. Merging decides what the entries change.
type ChangeSet struct {
	Entries   []Entry  // tar order; a path may repeat; no markers
	Whiteouts []string // paths hidden by ".wh.NAME" markers
	Opaques   []string // directories with a ".wh..wh..opq" marker
	Bytes     int64    // sizes of the regular-file entries
	Warnings  []string // oddities that change no figure
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Parse reads one uncompressed layer tar to its end. It keeps the header
// facts of every entry and a hash of every regular file; file bodies stream
// through and are never kept.
func Parse(ctx context.Context, r io.Reader, opt *ParseOptions) (*ChangeSet, error) {
	if opt == nil {
		opt = &ParseOptions{}
	}
	maxEntries := opt.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	buf := *bufp
	h := xxh3.New()
	cs := &ChangeSet{}
	tr := newTarReader(r)
	for n := 0; ; n++ {
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if cap(cs.Entries)-len(cs.Entries) > len(cs.Entries)/16 {
				// The change set waits for the layers below it: what append
				// left unused would wait with it.
				cs.Entries = slices.Clip(append(make([]Entry, 0, len(cs.Entries)), cs.Entries...))
			}
			return cs, nil
		}
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading tar header after %d entries: %w", n, err)
		}
		if n >= maxEntries {
			return nil, fmt.Errorf("%w: more than %d in one layer", ErrTooManyEntries, maxEntries)
		}
		if hdr.Sparse {
			return nil, fmt.Errorf("entry %q: %w", hdr.Name, ErrSparse)
		}
		if len(hdr.Name) > MaxNameBytes || len(hdr.Linkname) > MaxNameBytes {
			return nil, fmt.Errorf("entry %.60q…: %w (over %d bytes)", hdr.Name, ErrName, MaxNameBytes)
		}
		p, err := Clean(hdr.Name)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		if strings.Count(p, "/") >= MaxDepth {
			return nil, fmt.Errorf("entry %.60q…: %w (over %d levels)", hdr.Name, ErrName, MaxDepth)
		}
		if p == "" {
			continue // the root itself is not an entry
		}
		switch mk, target := classify(p); mk {
		case markerWhiteout:
			cs.Whiteouts = append(cs.Whiteouts, target)
			continue
		case markerOpaque:
			cs.Opaques = append(cs.Opaques, target)
			continue
		case markerMeta:
			continue
		}
		e := Entry{Path: p, Meta: Meta{
			Mode: uint32(hdr.Mode & 07777),
			UID:  clampID(hdr.Uid),
			GID:  clampID(hdr.Gid),
		}}
		switch hdr.Typeflag {
		case tar.TypeReg:
			e.Kind = KindFile
			e.Size = hdr.Size
			if e.Hash, e.Flags, err = hashBody(ctx, tr, h, buf, p, hdr.Size, opt.Sniff); err != nil {
				return nil, fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
			cs.Bytes += hdr.Size
		case tar.TypeDir:
			e.Kind = KindDir
		case tar.TypeSymlink:
			e.Kind = KindSymlink
			e.Link = hdr.Linkname
		case tar.TypeLink:
			e.Kind = KindHardlink
			if e.Link, err = Clean(hdr.Linkname); err != nil {
				return nil, fmt.Errorf("hard link %q to %q: %w", hdr.Name, hdr.Linkname, err)
			}
			if e.Link == "" {
				return nil, fmt.Errorf("hard link %q to the root", hdr.Name)
			}
		case tar.TypeChar:
			e.Kind = KindChar
		case tar.TypeBlock:
			e.Kind = KindBlock
		case tar.TypeFifo:
			e.Kind = KindFIFO
		default:
			cs.Warnings = append(cs.Warnings, fmt.Sprintf("entry %q: unknown type %q, skipped", hdr.Name, hdr.Typeflag))
			continue
		}
		cs.Entries = append(cs.Entries, e)
	}
}

// hashBody hashes a regular file's body where it lies, showing its first
// bytes to sniff (gathered into buf when they straddle the source's
// pieces). A body that arrives in one piece is hashed in one call, which
// the streaming hasher's internal copy would otherwise cost. A body
// shorter than its header says is an error.
func hashBody(ctx context.Context, tr *tarReader, h *xxh3.Hasher, buf []byte, p string, size int64, sniff Sniffer) (uint64, Flags, error) {
	if size == 0 {
		return ContentHash(nil), 0, nil
	}
	b, err := tr.View(int(min(size, int64(len(buf)))))
	if len(b) == 0 {
		return 0, 0, unexpected(err)
	}
	var flags Flags
	if sniff != nil {
		window := int64(HeadSize)
		if size > HeadSize {
			// Most files see HeadSize; a larger window is read into the
			// same buffer, which is larger than MaxWindow.
			window = int64(min(max(sniff.Window(p), 1), MaxWindow, len(buf)))
		}
		want := int(min(size, window))
		if len(b) < want {
			m := copy(buf, b)
			for m < want && err == nil {
				var v []byte
				v, err = tr.View(want - m)
				m += copy(buf[m:], v)
			}
			if m < want {
				return 0, 0, unexpected(err)
			}
			b = buf[:m]
		}
		flags = sniff.Sniff(p, b[:want])
	}
	if int64(len(b)) == size {
		return ContentHash(b), flags, nil
	}
	h.Reset()
	h.Write(b)
	n := int64(len(b))
	for i := 0; n < size; i++ {
		if i&63 == 63 {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		b, err := tr.View(len(buf))
		h.Write(b)
		n += int64(len(b))
		if err != nil && n < size {
			return 0, 0, unexpected(err)
		}
	}
	return h.Sum64(), flags, nil
}

// ContentHash is the hash Parse keeps of a regular file whose body is b
// (Meta.Hash): XXH3, three and a half times xxhash64's speed here, where every byte of
// every file passes through it.
func ContentHash(b []byte) uint64 { return xxh3.Hash(b) }

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func clampID(id int) uint32 {
	if id < 0 || id > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(id)
}
