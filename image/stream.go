package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
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
	links       map[string]string // symlink member -> target member
	refused     map[string]string // symlink member -> why it is refused
}

// readStream reads a whole tar archive from r. Each layer is parsed in a
// goroutine of its own while the next bytes are read.
func readStream(ctx context.Context, r io.Reader, prog *Progress, opt *tree.ParseOptions) (*streamStore, error) {
	s := &streamStore{blobsByName: map[string]*blob{}, links: map[string]string{}, refused: map[string]string{}}
	tr := tar.NewReader(r)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		jsonSize int64
	)
	defer wg.Wait()
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, errors.New("not an image archive: it is empty")
			}
			break
		}
		if err != nil {
			if n == 0 {
				return nil, fmt.Errorf("not an image archive: %w", err)
			}
			return nil, fmt.Errorf("archive is damaged after %d members: %w", n, err)
		}
		if n >= maxMembers {
			return nil, fmt.Errorf("archive has more than %d members", maxMembers)
		}
		name, err := tree.Clean(hdr.Name)
		if err != nil {
			return nil, fmt.Errorf("archive member %q: %w", hdr.Name, err)
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			if target, err := resolveLink(name, hdr.Linkname); err != nil {
				s.refused[name] = err.Error()
			} else {
				s.links[name] = target
			}
			continue
		case tar.TypeReg:
		default:
			continue
		}
		p := newBlobParser(ctx, opt)
		if err := p.ReadFrom(ctx, tr, nil); err != nil && err != errParserStopped {
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
	for range maxLinks {
		if why, ok := s.refused[name]; ok {
			return nil, errors.New(why)
		}
		if b, ok := s.blobsByName[name]; ok {
			return b, nil
		}
		target, ok := s.links[name]
		if !ok {
			return nil, fmt.Errorf("%q: %w", name, errNotExist)
		}
		name = target
	}
	return nil, fmt.Errorf("%q: too many levels of links", name)
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
