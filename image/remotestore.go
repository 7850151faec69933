package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// fetcher is where a remoteStore gets its documents and blobs: a
// registry, containerd's content store.
type fetcher interface {
	// manifest fetches a manifest or index, by digest (or tag), through
	// the metadata limit, with its media type when the source knows it.
	manifest(ctx context.Context, id string) ([]byte, string, error)
	// blob opens a blob's stream, read no further than size+1 bytes.
	blob(ctx context.Context, digest string, size int64) (io.ReadCloser, error)
	where() string                                // for progress: "the registry HOST"
	explain(ctx context.Context, err error) error // an error in a user's words
}

// remoteStore is an image in a registry or a content store as the
// resolver sees it: index.json is the manifest the reference names (or a
// one-entry index around it), and blobs/sha256/HEX a manifest or blob
// fetched by digest.
type remoteStore struct {
	ctx  context.Context // meta has none of its own
	f    fetcher
	prog *Progress
	ps   *parsing

	docs      map[string][]byte // fetched, by digest
	manifests map[string]bool   // digests an index names: manifests, not blobs
	fetched   int64             // bytes of every document fetched
}

var _ store = (*remoteStore)(nil)

// newRemoteStore starts from the document the reference names, with the
// media type its source gives (or "").
func newRemoteStore(ctx context.Context, f fetcher, data []byte, mt string, prog *Progress, ps *parsing) (*remoteStore, error) {
	s := &remoteStore{ctx: ctx, f: f, prog: prog, ps: ps, docs: map[string][]byte{}, manifests: map[string]bool{}}
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
	}
	if err := decodeJSON(data, "manifest", &probe); err != nil {
		return nil, err
	}
	if mt == "" || mt == "application/json" || mt == "text/plain" {
		mt = probe.MediaType
	}
	switch {
	case mt == mediaDockerSchema1 || mt == mediaSchema1Signed || probe.SchemaVersion == 1:
		return nil, errors.New("the image has a Docker schema 1 manifest, a format retired in 2019: push the image again with a current tool")
	case mt == mediaOCIIndex || mt == mediaDockerList || (mt == "" && probe.Manifests != nil):
		s.docs["index.json"] = data
		s.noteIndex(data)
	default:
		d := digestOf(data)
		s.docs[d] = data
		s.manifests[d] = true
		idx, err := json.Marshal(ociIndex{MediaType: mediaOCIIndex, Manifests: []descriptor{{MediaType: mt, Digest: d, Size: int64(len(data))}}})
		if err != nil {
			return nil, err
		}
		s.docs["index.json"] = idx
	}
	return s, nil
}

// noteIndex marks what an index names as manifests, to be fetched as such.
func (s *remoteStore) noteIndex(data []byte) {
	var idx ociIndex
	if json.Unmarshal(data, &idx) == nil {
		for _, d := range idx.Manifests {
			s.manifests[d.Digest] = true
		}
	}
}

// fail says a source's error in a user's words.
func (s *remoteStore) fail(err error) error { return s.f.explain(s.ctx, err) }

func (s *remoteStore) meta(n string) ([]byte, error) {
	if data, ok := s.docs[n]; ok {
		return data, nil
	}
	hex, ok := strings.CutPrefix(n, "blobs/sha256/")
	if !ok {
		return nil, fmt.Errorf("%q: %w", n, errNotExist)
	}
	d := "sha256:" + hex
	if data, ok := s.docs[d]; ok {
		return data, nil
	}
	ctx := s.ctx
	var data []byte
	var err error
	if s.manifests[d] {
		data, _, err = s.f.manifest(ctx, d)
		if err == nil {
			s.noteIndex(data) // a nested index
		}
	} else {
		var rc io.ReadCloser
		if rc, err = s.f.blob(ctx, d, MaxJSON); err == nil {
			data, err = readLimited(rc, "blob "+d)
			rc.Close()
		}
	}
	if err != nil {
		return nil, s.fail(err)
	}
	// Each document is bounded (MaxJSON); so are they all together, as on
	// a stream: a small index that names many large nested indexes must
	// not buy gigabytes.
	if s.fetched += int64(len(data)); s.fetched > maxStreamJSON {
		return nil, fmt.Errorf("the image's metadata documents exceed %s in all (layerscope's limit)", sizeWords(maxStreamJSON))
	}
	s.docs[d] = data
	return data, nil
}

func (s *remoteStore) blobs(ctx context.Context, layers []layerRef) ([]*blob, error) {
	var total int64
	seen := map[string]bool{}
	for _, l := range layers {
		if !seen[l.digest] && l.size > 0 {
			seen[l.digest] = true
			total += l.size
		}
	}
	s.prog.setTotal(total)
	s.prog.setPhase(fmt.Sprintf("fetching %d layers from %s", len(seen), s.f.where()))
	var mu sync.Mutex
	var bodies []io.Closer
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	return parseParallelN(ctx, layers, s.prog, s.ps, registryFetchers(), func(l layerRef) (io.Reader, error) {
		rc, err := s.f.blob(ctx, l.digest, l.size)
		if err != nil {
			return nil, s.fail(err)
		}
		mu.Lock()
		bodies = append(bodies, rc)
		mu.Unlock()
		return &failNoter{r: rc, s: s}, nil
	})
}

// failNoter says a read's error in a user's words.
type failNoter struct {
	r io.Reader
	s *remoteStore
}

func (f *failNoter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		err = f.s.fail(err)
	}
	return n, err
}
