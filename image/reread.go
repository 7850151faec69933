package image

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// ErrReadOnce is what OpenLayer says for an image whose source sends it
// once: the daemon, standard input, an archive compressed whole.
var ErrReadOnce = errors.New("this source can be read only once")

// rereader remembers where an image's layers lie in a source that can be
// read again: a plain archive file or a layout directory. The file must be
// the one that was analysed: a size or time that changed is an error.
type rereader struct {
	path  string
	dir   bool
	size  int64
	mtime time.Time
	refs  []layerRef
	spans []tarEntry // archive files: where each layer's blob lies
}

// CanReread reports whether OpenLayer can read this image's layers again.
func (img *Image) CanReread() bool { return img.reread != nil }

// OpenLayer opens layer i's uncompressed tar again (base first), for a
// look at one file: the explorer's viewer. It reads the source the user
// named and nothing else, decompresses as the first read did, and honours
// ctx. The layer's digest was checked when the image was loaded; here the
// blob must have the size its descriptor gives.
func (img *Image) OpenLayer(ctx context.Context, i int) (io.ReadCloser, error) {
	r := img.reread
	if r == nil {
		return nil, ErrReadOnce
	}
	if i < 0 || i >= len(r.refs) {
		return nil, fmt.Errorf("no layer %d", i)
	}
	ref := r.refs[i]
	var (
		f   *os.File
		src io.Reader
		err error
	)
	if r.dir {
		root, err := os.OpenRoot(r.path)
		if err != nil {
			return nil, err
		}
		f, err = (&dirStore{root: root}).open(ref.name)
		root.Close()
		if err != nil {
			return nil, err
		}
		src = f
		if ref.size >= 0 && ref.size < math.MaxInt64 {
			// The blob was checked when the image was loaded: one of
			// another size is not that blob any more.
			st, err := f.Stat()
			if err == nil && st.Size() != ref.size {
				err = sizeMismatch(st.Size(), ref.size)
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("layer %d (%s): %w", i, ref.name, err)
			}
			src = &sizedReader{r: f, name: ref.name, size: ref.size}
		}
	} else {
		if f, err = os.Open(r.path); err != nil {
			return nil, err
		}
		if st, err := f.Stat(); err != nil || st.Size() != r.size || !st.ModTime().Equal(r.mtime) {
			f.Close()
			return nil, fmt.Errorf("%s changed since it was analysed: open it again", r.path)
		}
		sp := r.spans[i]
		src = io.NewSectionReader(f, sp.off, sp.size)
	}
	br := bufio.NewReader(&ctxReader{ctx: ctx, r: src})
	head, _ := br.Peek(6)
	dr, cleanup, err := decompress(br, sniffBlob(head))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("layer %d: %w", i, err)
	}
	return &layerReader{Reader: dr, close: func() { cleanup(); f.Close() }}, nil
}

// sizeMismatch is a layout's blob whose size is not its descriptor's.
func sizeMismatch(have, want int64) error {
	return fmt.Errorf("size mismatch: the blob holds %d bytes, its manifest says %d: it changed since it was analysed, open it again", have, want)
}

// sizedReader reads a blob that must hold size bytes: one that ends
// sooner, or goes on past them (it changed while it was read), is an
// error, not a short or a longer layer.
type sizedReader struct {
	r    io.Reader
	name string
	size int64
	n    int64
	err  error // sticky once the size is wrong
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if left := s.size - s.n + 1; int64(len(p)) > left { // a byte past the end tells a longer blob
		p = p[:left]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	switch {
	case s.n > s.size:
		s.err = fmt.Errorf("%s: size mismatch: the blob holds more than the %d bytes its manifest gives: it changed since it was analysed, open it again", s.name, s.size)
		return n - int(s.n-s.size), s.err
	case err == io.EOF && s.n < s.size:
		s.err = fmt.Errorf("%s: %w", s.name, sizeMismatch(s.n, s.size))
		return n, s.err
	}
	return n, err
}

// ctxReader stops a read once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type layerReader struct {
	io.Reader
	close func()
}

func (l *layerReader) Close() error { l.close(); return nil }
