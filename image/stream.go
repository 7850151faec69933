package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
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
	ps          *parsing
}

// readStream reads a whole tar archive from r. Each layer is parsed in a
// goroutine of its own while the next bytes are read. Every layer counts
// against the one entry budget of ps, whether or not the manifest, which
// comes later, claims it.
//
// A member that its parser gives up on ends the read with the parser's
// error: skipping the rest of it would mean reading it all the same, and a
// member can claim 2^62 bytes of padding.
//
// Where the layers' diff IDs were known before the stream (ps.merge, from
// the daemon), each layer is offered to the merge by its diff ID as soon as
// it is parsed; elsewhere the order comes with the manifest, and finish
// merges them all.
func readStream(ctx context.Context, r io.Reader, prog *Progress, ps *parsing) (_ *streamStore, err error) {
	s := &streamStore{blobsByName: map[string]*blob{}, links: newLinks(), ps: ps}
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
	defer func() {
		if err != nil {
			ps.merge.stop() // before the wait: no layer merges after a failed read
		}
	}()
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
		p := newBlobParser(ctx, ps)
		err = p.ReadFrom(ctx, tr, nil)
		if err == errParserStopped {
			<-slots
			if b := p.Close(nil); b.err != nil {
				return nil, fmt.Errorf("archive member %q: %w", hdr.Name, b.err)
			}
			return nil, fmt.Errorf("archive member %q: its parser stopped early", hdr.Name)
		}
		if err != nil {
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
			s.blobsByName[name] = b
			if b.kind == blobJSON {
				jsonSize += int64(len(b.json))
			}
			mu.Unlock()
			if b.kind >= blobTar {
				prog.layerDone()
				ps.merge.offer(b.diffID, b)
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ps.budget.check(); err != nil {
		return nil, err // a last layer went past it, claimed or not
	}
	return s, nil
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

func (s *streamStore) blobs(_ context.Context, layers []layerRef) ([]*blob, error) {
	out := make([]*blob, len(layers))
	for i, l := range layers {
		b, err := s.lookup(l.name)
		if err != nil {
			b = &blob{err: err}
		}
		out[i] = b
	}
	return out, nil
}
