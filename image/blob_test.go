package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/tree"
)

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func randomBody(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

// TestDecompressRunsBesideParser: a compressed layer is decompressed (and
// its diff ID hashed) on goroutines of their own, so the decompressor
// goes on while the parser is busy: one large layer keeps two cores busy.
// The parser here stops in its sniffer at the first file; the
// decompressor must still pull more of the blob than the pipe to the
// parser and its reader's buffer hold (which was all the old code read).
func TestDecompressRunsBesideParser(t *testing.T) {
	layer := it.Layer(it.Reg("first", "stop here"), it.Reg("big", randomBody(16<<20)))
	for _, tc := range []struct {
		name string
		blob []byte
	}{
		{"gzip", it.GzipBytes(layer)},
		{"zstd", it.ZstdBytes(layer)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			release := make(chan struct{})
			var once atomic.Bool
			sniff := tree.SniffFunc(func(path string, head []byte) tree.Flags {
				if path == "first" && once.CompareAndSwap(false, true) {
					select {
					case <-release:
					case <-ctx.Done():
					}
				}
				return 0
			})
			src := &countReader{r: bytes.NewReader(tc.blob)}
			p := newBlobParser(ctx, newParsing(Options{Sniff: sniff}))
			fed := make(chan error, 1)
			go func() { fed <- p.ReadFrom(ctx, src, nil) }()
			// What the reader and the pipe to the parser hold, and the
			// parser's buffer: the old code read no further while its
			// parser was stopped.
			held := int64(pipeChunks+2)*chunkSize + 64<<10
			for src.n.Load() <= held {
				if ctx.Err() != nil {
					t.Fatalf("the decompressor stopped with the parser: %d bytes of %d read, want more than %d", src.n.Load(), len(tc.blob), held)
				}
				time.Sleep(5 * time.Millisecond)
			}
			close(release)
			b := p.Close(<-fed)
			if b.err != nil {
				t.Fatal(b.err)
			}
			if want := "sha256:" + hex.EncodeToString(sha256Sum(layer)); b.diffID != want {
				t.Errorf("diff ID %s, want %s", b.diffID, want)
			}
			if b.tarBytes != int64(len(layer)) || len(b.changes.Entries) != 2 {
				t.Errorf("tar bytes %d, entries %d; want %d, 2", b.tarBytes, len(b.changes.Entries), len(layer))
			}
		})
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestLayerStagesEnd: on every way a compressed layer's read ends (it
// parses, its stream is damaged, its parser fails, the read is
// cancelled), every stage ends and says the right thing, and the digests
// are of the right bytes.
func TestLayerStagesEnd(t *testing.T) {
	layer := it.Layer(it.Reg("a", "hello"), it.Reg("b", randomBody(3<<20)), it.Reg("c", "bye"))
	gz := it.GzipBytes(layer)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 0xff // the CRC-32 in gzip's trailer
	notTar := it.GzipBytes([]byte(strings.Repeat("not a tar header. ", 1<<16)))
	// Zeros are a tar's end-of-archive marker: 64 MiB of them are past the
	// trailer's bound, and the read stops there.
	zeros := it.GzipBytes(make([]byte, 64<<20))
	tests := []struct {
		name   string
		blob   []byte
		cancel bool
		err    string // "" when the layer parses
	}{
		{"gzip", gz, false, ""},
		{"zstd", it.ZstdBytes(layer), false, ""},
		{"gzip with a bad checksum", badCRC, false, "checksum"},
		{"gzip cut short", gz[:len(gz)/2], false, "unexpected EOF"},
		{"gzip that is not a tar", notTar, false, "tar"},
		{"gzip of zeros past the trailer bound", zeros, false, "after its end-of-archive marker"},
		{"cancelled", gz, true, "context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			pctx, pcancel := context.WithCancel(ctx)
			if tc.cancel {
				pcancel()
			}
			p := newBlobParser(pctx, newParsing(Options{}))
			err := p.ReadFrom(pctx, bytes.NewReader(tc.blob), nil)
			b := p.Close(err)
			pcancel()
			if tc.err == "" {
				if b.err != nil {
					t.Fatal(b.err)
				}
				if want := "sha256:" + hex.EncodeToString(sha256Sum(layer)); b.diffID != want {
					t.Errorf("diff ID %s, want %s", b.diffID, want)
				}
			} else if b.err == nil || !strings.Contains(b.err.Error(), tc.err) {
				t.Errorf("error %v, want one saying %q", b.err, tc.err)
			}
			if tc.cancel && !errors.Is(b.err, context.Canceled) {
				t.Errorf("error %v is not context.Canceled", b.err)
			}
			if want := "sha256:" + hex.EncodeToString(sha256Sum(tc.blob)); err == nil && b.digest != want {
				t.Errorf("digest %s of the whole blob, want %s", b.digest, want) // fed to its end
			}
			for runtime.NumGoroutine() > base {
				if ctx.Err() != nil {
					buf := make([]byte, 1<<16)
					t.Fatalf("%d goroutines left running:\n%s", runtime.NumGoroutine()-base, buf[:runtime.Stack(buf, true)])
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
