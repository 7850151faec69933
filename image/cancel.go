package image

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// cancelable returns a reader of r whose Read returns ctx's error soon
// after ctx ends, even when it waits on a pipe that nobody writes to; call
// release once done with it.
//
//   - A regular file never keeps a Read waiting: it is read as it is.
//   - A file that takes deadlines (a pipe from os.Pipe, a socket, a pipe
//     made non-blocking: see pollable) gets one when ctx ends. Reads stay
//     zero-copy.
//   - Anything else (a terminal, any io.Reader) is read in a goroutine into
//     a buffer of its own, and copied: a Read that ctx ended leaves the
//     goroutine waiting, never writing into the caller's buffer.
func cancelable(ctx context.Context, r io.Reader) (io.Reader, func()) {
	f, ok := r.(*os.File)
	if !ok {
		return &asyncReader{ctx: ctx, r: r, res: make(chan readResult, 1)}, func() {}
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		return f, func() {}
	}
	if err := f.SetReadDeadline(time.Time{}); err == nil {
		return withDeadline(ctx, f, func() {})
	}
	if pf, restore, ok := pollable(f); ok {
		return withDeadline(ctx, pf, restore)
	}
	return &asyncReader{ctx: ctx, r: f, res: make(chan readResult, 1)}, func() {}
}

// withDeadline ends f's reads when ctx ends, with a deadline in the past.
func withDeadline(ctx context.Context, f *os.File, restore func()) (io.Reader, func()) {
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	return &deadlineReader{ctx: ctx, f: f}, func() {
		stop()
		f.SetReadDeadline(time.Time{})
		restore()
	}
}

type deadlineReader struct {
	ctx context.Context
	f   *os.File
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	n, err := d.f.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && d.ctx.Err() != nil {
		err = d.ctx.Err()
	}
	return n, err
}

// asyncReader reads r in a goroutine, one Read at a time, and returns as
// soon as ctx ends. After that, every Read returns ctx's error.
type asyncReader struct {
	ctx context.Context
	r   io.Reader
	buf []byte
	res chan readResult
	err error // sticky
}

type readResult struct {
	n   int
	err error
}

// maxAsyncRead bounds the buffer of an asyncReader.
const maxAsyncRead = 256 << 10

func (a *asyncReader) Read(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if err := a.ctx.Err(); err != nil {
		a.err = err
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if want := min(len(p), maxAsyncRead); len(a.buf) < want {
		a.buf = make([]byte, want)
	}
	buf := a.buf[:min(len(p), len(a.buf))]
	go func() {
		n, err := a.r.Read(buf)
		a.res <- readResult{n, err}
	}()
	select {
	case r := <-a.res:
		n := copy(p, buf[:r.n])
		if r.err != nil {
			a.err = r.err
		}
		return n, r.err
	case <-a.ctx.Done():
		// The goroutine keeps buf, and a.buf is never used again.
		a.err = a.ctx.Err()
		return 0, a.err
	}
}
