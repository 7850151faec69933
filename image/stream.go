package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/layerscope/layerscope/tree"
)

// maxStreamJSON bounds the metadata a stream may hold in all.
const maxStreamJSON = 64 << 20

// streamStore is an archive read once, front to back: from the daemon, a
// pipe or a compressed file. The order of its layers is known only from
// its manifest, which may come last, so every blob is parsed as it streams
// past and kept by name until the resolver asks.
type streamStore struct {
	blobsByName map[string]*blob
	links       links
}

// readStream reads a whole tar archive from r. Each layer is parsed in a
// goroutine of its own while the next bytes are read.
func readStream(ctx context.Context, r io.Reader, prog *Progress, opt *tree.ParseOptions) (*streamStore, error) {
	s := &streamStore{blobsByName: map[string]*blob{}, links: newLinks()}
	tr := tar.NewReader(r)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		jsonSize int64
		// Parsers at work at once: one per core, so a
		// stream of zstd layers (64 MiB windows) stays within memory.
		slots = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	defer wg.Wait()
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, name, err := nextMember(tr, n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeSymlink {
			s.links.add(name, hdr.Linkname)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		p := newBlobParser(ctx, opt)
		if err := p.ReadFrom(ctx, tr, nil); err != nil && err != errParserStopped {
			<-slots
			p.Close(err)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("archive member %q is truncated", hdr.Name)
			}
			return nil, fmt.Errorf("archive member %q: %w", hdr.Name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := p.Close(nil)
			<-slots
			mu.Lock()
			defer mu.Unlock()
			s.blobsByName[name] = b
			if b.kind == blobJSON {
				jsonSize += int64(len(b.json))
			}
			if b.kind >= blobTar {
				prog.layerDone()
			}
		}()
		mu.Lock()
		over := jsonSize > maxStreamJSON
		mu.Unlock()
		if over {
			return nil, fmt.Errorf("archive holds more than %d bytes of metadata", maxStreamJSON)
		}
	}
	wg.Wait()
	return s, ctx.Err()
}

func (s *streamStore) lookup(name string) (*blob, error) {
	name, err := s.links.follow(name, func(n string) bool { _, ok := s.blobsByName[n]; return ok })
	if err != nil {
		return nil, err
	}
	return s.blobsByName[name], nil
}

func (s *streamStore) meta(name string) ([]byte, error) {
	b, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	if b.err != nil {
		return nil, b.err
	}
	if b.kind != blobJSON {
		return nil, fmt.Errorf("%s is not a JSON document", name)
	}
	return b.json, nil
}

func (s *streamStore) blobs(_ context.Context, names []string) ([]*blob, error) {
	out := make([]*blob, len(names))
	for i, n := range names {
		b, err := s.lookup(n)
		if err != nil {
			b = &blob{err: err}
		}
		out[i] = b
	}
	return out, nil
}
