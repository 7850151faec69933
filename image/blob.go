package image

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/layerscope/layerscope/tree"
)

// blobKind is what a blob holds, told by its first bytes.
type blobKind uint8

const (
	blobOther blobKind = iota
	blobJSON
	blobTar
	blobGzip
	blobZstd
)

func (k blobKind) String() string {
	return [...]string{"other", "json", "tar", "gzip", "zstd"}[k]
}

// sniffSize is how many leading bytes tell a blob's kind: a tar header's
// magic sits at offset 257.
const sniffSize = 512

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

func sniffBlob(head []byte) blobKind {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return blobGzip
	case bytes.HasPrefix(head, zstdMagic):
		return blobZstd
	case len(head) >= 263 && bytes.Equal(head[257:262], []byte("ustar")):
		return blobTar
	case len(head) >= sniffSize && isZero(head[:sniffSize]):
		return blobTar // an empty layer: only the end-of-archive blocks
	case looksJSON(head):
		return blobJSON
	}
	return blobOther
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// maxZstdWindow bounds a zstd decoder's memory, as SPEC.md says.
const maxZstdWindow = 64 << 20

// decompress wraps r, whose first bytes were sniffed as kind.
func decompress(r io.Reader, kind blobKind) (io.Reader, func(), error) {
	switch kind {
	case blobGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case blobZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	}
	return r, func() {}, nil
}

// blob is what one archive entry turned out to hold.
type blob struct {
	kind     blobKind
	changes  *tree.ChangeSet // a layer's change set
	json     []byte          // a metadata document
	digest   string          // sha256 of the bytes as stored
	size     int64           // bytes as stored
	diffID   string          // sha256 of the uncompressed tar (layers)
	tarBytes int64           // bytes of the uncompressed tar (layers)
	err      error           // why it could not be read
}

// blobParser reads one blob in a goroutine of its own: the feeder reads
// the blob into chunks and hashes them while the parser works on the
// chunks before, so the two run on two cores. Call ReadFrom, then Close.
type blobParser struct {
	pipe *chunkPipe
	h    hash.Hash
	n    int64
	done chan *blob
}

func newBlobParser(ctx context.Context, ps *parsing) *blobParser {
	p := &blobParser{pipe: newChunkPipe(pipeChunks), h: sha256.New(), done: make(chan *blob, 1)}
	go func() {
		b := readBlob(ctx, p.pipe, ps)
		p.pipe.closeRead()
		p.done <- b
	}()
	return p
}

// ReadFrom feeds the blob from src to its end, counting bytes into prog.
// It stops early, with the parser's error, when the parser gives up.
func (p *blobParser) ReadFrom(ctx context.Context, src io.Reader, prog *Progress) error {
	return pump(ctx, src, p.pipe, func(b []byte) {
		p.h.Write(b)
		p.n += int64(len(b))
		prog.add(int64(len(b)))
	})
}

// hashRest reads what is left of a blob whose parser stopped, into its
// digest only.
func (p *blobParser) hashRest(ctx context.Context, src io.Reader, prog *Progress) error {
	return drain(ctx, io.TeeReader(src, restWriter{p, prog}))
}

// restWriter takes the bytes hashRest reads past the parser.
type restWriter struct {
	p    *blobParser
	prog *Progress
}

func (w restWriter) Write(b []byte) (int, error) {
	w.p.h.Write(b)
	w.p.n += int64(len(b))
	w.prog.add(int64(len(b)))
	return len(b), nil
}

// fill reads into buf until it is at least half full, or src ends (io.EOF)
// or fails: a chunk is worth a hand-over.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf)/2 {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// errParserStopped reports that the parser gave up on the blob: its own
// error says why.
var errParserStopped = errors.New("parser stopped")

// Close ends the blob (with err when its bytes could not all be read) and
// returns what it held.
func (p *blobParser) Close(err error) *blob {
	if err == errParserStopped {
		err = nil
	}
	p.pipe.closeWrite(err)
	b := <-p.done
	if b.err == nil && err != nil {
		b.err = err
	}
	b.digest = "sha256:" + hex.EncodeToString(p.h.Sum(nil))
	b.size = p.n
	if b.kind == blobTar {
		b.diffID = b.digest
	}
	return b
}

const chunkSize = 256 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// pipeChunks is how many chunks the pipe from a blob's reader to its
// parser holds, innerChunks those between the stages of a compressed
// layer: enough that a stage goes on while the next one works, few
// enough that the stages of a layer hold a few MiB between them.
const (
	pipeChunks  = 8
	innerChunks = 4
)

// chunkPipe hands filled chunks from a writer to a reader through a
// buffered channel: unlike io.Pipe, the writer goes on while the reader
// works.
type chunkPipe struct {
	full    chan *[]byte
	stopped chan struct{} // closed when the reader stops
	werr    error         // set before full is closed
	cur     *[]byte
	off     int
}

func newChunkPipe(n int) *chunkPipe {
	return &chunkPipe{full: make(chan *[]byte, n), stopped: make(chan struct{})}
}

// send passes a chunk to the reader; false when the reader has stopped.
func (c *chunkPipe) send(bp *[]byte) bool {
	select {
	case <-c.stopped: // before a free slot: a stopped reader takes no more
		chunkPool.Put(bp)
		return false
	default:
	}
	select {
	case c.full <- bp:
		return true
	case <-c.stopped:
		chunkPool.Put(bp)
		return false
	}
}

func (c *chunkPipe) closeWrite(err error) {
	c.werr = err
	close(c.full)
}

// View returns the next bytes of the chunk at hand, at most max, in place:
// they stay valid until the next call.
func (c *chunkPipe) View(max int) ([]byte, error) {
	for c.cur == nil || c.off == len(*c.cur) {
		if c.cur != nil {
			chunkPool.Put(c.cur)
			c.cur = nil
		}
		bp, ok := <-c.full
		if !ok {
			if c.werr != nil {
				return nil, c.werr
			}
			return nil, io.EOF
		}
		c.cur, c.off = bp, 0
	}
	n := min(max, len(*c.cur)-c.off)
	b := (*c.cur)[c.off : c.off+n]
	c.off += n
	return b, nil
}

func (c *chunkPipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	v, err := c.View(len(b))
	return copy(b, v), err
}

// closeRead tells the writer the reader is done, and frees what it holds.
func (c *chunkPipe) closeRead() {
	close(c.stopped)
	if c.cur != nil {
		chunkPool.Put(c.cur)
		c.cur = nil
	}
}

// pump reads src into chunks and sends them down dst, until src ends
// (nil), fails, ctx is done, or dst's reader stops (errParserStopped);
// seen, when set, sees each chunk before it is sent.
func pump(ctx context.Context, src io.Reader, dst *chunkPipe, seen func([]byte)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		bp := chunkPool.Get().(*[]byte)
		buf := (*bp)[:cap(*bp)]
		n, err := fill(src, buf)
		if n > 0 {
			if seen != nil {
				seen(buf[:n])
			}
			*bp = buf[:n]
			if !dst.send(bp) {
				return errParserStopped
			}
		} else {
			chunkPool.Put(bp)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// hashChunks passes the chunks of in to out, hashing each into h on the
// way: a stage of its own, so that the hash runs on one core while the
// stages before and after it run on others. When out's reader stops, it
// stops reading in; it closes out with in's error. done is closed when it
// has returned.
func hashChunks(in, out *chunkPipe, h hash.Hash, done chan<- struct{}) {
	defer close(done)
	for bp := range in.full {
		h.Write(*bp)
		if !out.send(bp) {
			in.closeRead()
			return
		}
	}
	out.closeWrite(in.werr)
}

// readBlob tells what r holds and reads it to its end.
func readBlob(ctx context.Context, r *chunkPipe, ps *parsing) *blob {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return &blob{err: err}
	}
	b := &blob{kind: sniffBlob(head)}
	switch b.kind {
	case blobJSON:
		b.json, b.err = io.ReadAll(io.LimitReader(br, MaxJSON+1))
		if b.err == nil && len(b.json) > MaxJSON {
			b.err = fmt.Errorf("metadata document larger than %d bytes", MaxJSON)
		}
	case blobTar:
		b.err = b.parseTar(ctx, &bufView{br, r}, ps) // its diff ID is its digest
	case blobGzip, blobZstd:
		b.err = b.parseLayer(ctx, br, ps)
	}
	if b.err == nil {
		b.err = drain(ctx, br) // the digest covers every byte
	}
	return b
}

// parseLayer parses a compressed layer from r.
func (b *blob) parseLayer(ctx context.Context, r io.Reader, ps *parsing) error {
	zr, closeZ, err := decompress(r, b.kind)
	if err != nil {
		return err
	}
	// Three stages, each on a goroutine of its own so that one large
	// layer keeps two cores busy: this one decompresses, the next hashes
	// the tar into the diff ID, the parser (this goroutine) reads it.
	// A parser that stops stops the two before it; all three end before
	// this returns, so the decompressor and r are free again.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unzipped, hashed := newChunkPipe(innerChunks), newChunkPipe(innerChunks)
	unzipDone, hashDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(unzipDone)
		err := pump(ctx, zr, unzipped, nil)
		if err == errParserStopped {
			return
		}
		unzipped.closeWrite(err)
	}()
	h := sha256.New()
	go hashChunks(unzipped, hashed, h, hashDone)
	err = b.parseTar(ctx, hashed, ps)
	hashed.closeRead()
	cancel() // a decompressor still at work stops at its next chunk
	<-hashDone
	<-unzipDone
	closeZ()
	if err != nil {
		return err
	}
	b.diffID = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return nil
}

// viewReader is a reader whose bytes the tar parser also views in place.
type viewReader interface {
	io.Reader
	tree.Viewer
}

// bufView reads what a bufio.Reader holds of a chunk pipe, then the pipe
// itself: a sniffed blob's bytes are viewed where they lie.
type bufView struct {
	br   *bufio.Reader
	pipe *chunkPipe
}

func (v *bufView) Read(b []byte) (int, error) {
	if v.br.Buffered() > 0 {
		return v.br.Read(b)
	}
	return v.pipe.Read(b)
}

func (v *bufView) View(max int) ([]byte, error) {
	if n := v.br.Buffered(); n > 0 {
		b, _ := v.br.Peek(min(n, max)) // no error: the bytes are buffered
		v.br.Discard(len(b))
		return b, nil
	}
	return v.pipe.View(max)
}

// parseTar parses a layer's tar, and its trailer, from r.
func (b *blob) parseTar(ctx context.Context, r viewReader, ps *parsing) error {
	counter := &countingReader{r: r}
	var err error
	if b.changes, err = ps.parse(ctx, counter); err != nil {
		return err
	}
	// The diff ID covers what follows the end-of-archive marker too: a
	// record's padding, which real tars keep under 10 KiB.
	switch n, err := drainAtMost(ctx, counter, maxTrailer); {
	case err != nil:
		return fmt.Errorf("%s: %w", b.kind, err)
	case n > maxTrailer:
		return fmt.Errorf("layer has more than %s after its end-of-archive marker: not a tar that any image tool writes", sizeWords(maxTrailer))
	}
	b.tarBytes = counter.n
	return nil
}

// drain reads r to its end, and stops when ctx is done: a stream that
// decompresses to gigabytes of padding can still be cancelled.
func drain(ctx context.Context, r io.Reader) error {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := (*bp)[:cap(*bp)]
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := r.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// maxTrailer bounds the bytes a tar may hold after its end-of-archive
// marker. Docker, BuildKit and Go's archive/tar write none; GNU tar pads to
// its 10 KiB record (at most 9 KiB after the marker); skopeo copies layers
// as they are. A bomb that decompresses to gigabytes of zeros stops here.
const maxTrailer = 1 << 20

// drainAtMost reads r to its end, or until it has read more than limit
// bytes, and says how many it read. It stops when ctx is done.
func drainAtMost(ctx context.Context, r io.Reader, limit int64) (int64, error) {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := (*bp)[:cap(*bp)]
	var n int64
	for n <= limit {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf[:min(int64(len(buf)), limit+1-n)])
		n += int64(m)
		if err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
	}
	return n, nil
}

// sizeWords says a power-of-two size as a person would: "1 MiB".
func sizeWords(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

type countingReader struct {
	r viewReader
	n int64
}

func (c *countingReader) View(max int) ([]byte, error) {
	b, err := c.r.View(max)
	c.n += int64(len(b))
	return b, err
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
