package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// memStore is a layout in memory that counts the reads of each document.
type memStore struct {
	mu    sync.Mutex
	files map[string][]byte
	reads map[string]int
}

func newMemStore(ms []it.Member) *memStore {
	s := &memStore{files: map[string][]byte{}, reads: map[string]int{}}
	for _, m := range ms {
		s.files[m.Name] = m.Data
	}
	return s
}

func (s *memStore) meta(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads[name]++
	data, ok := s.files[name]
	if !ok {
		return nil, fmt.Errorf("%q: %w", name, errNotExist)
	}
	if len(data) > MaxJSON {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, MaxJSON)
	}
	return data, nil
}

func (s *memStore) blobs(context.Context, []layerRef) ([]*blob, error) {
	return nil, errors.New("memStore holds no layers")
}

// add stores a JSON document as a blob and returns its descriptor.
func (s *memStore) add(mediaType string, v any) descriptor {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	d := digestOf(data)
	s.files["blobs/sha256/"+d[len("sha256:"):]] = data
	return descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

func (s *memStore) setIndex(ds []descriptor) {
	data, err := json.Marshal(ociIndex{Manifests: ds})
	if err != nil {
		panic(err)
	}
	s.files["index.json"] = data
}

// tinyLayout is the OCI layout of a one-layer image, and the descriptor
// of its manifest.
func tinyLayout(t testing.TB) (*memStore, descriptor) {
	t.Helper()
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "a"))}}
	st := newMemStore(it.OCILayout(it.Plain, false, img))
	var idx ociIndex
	if err := json.Unmarshal(st.files["index.json"], &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json of the test layout: %v", err)
	}
	return st, idx.Manifests[0]
}

func fanOut(d descriptor, n int, each func(i int, d *descriptor)) []descriptor {
	ds := make([]descriptor, n)
	for i := range ds {
		ds[i] = d
		if each != nil {
			each(i, &ds[i])
		}
	}
	return ds
}

// TestNestedIndexFanOut: three indexes that each name the next 2,000
// times (2,000³ paths, a 1 MB layout) are read once each and resolved in
// moments; the old walk re-read every nested index at every reference.
func TestNestedIndexFanOut(t *testing.T) {
	st, m := tinyLayout(t)
	leaf := st.add(mediaOCIIndex, ociIndex{Manifests: fanOut(m, 2000, func(i int, d *descriptor) {
		d.Platform = &Platform{OS: "linux", Architecture: "amd64", Variant: fmt.Sprintf("v%d", i)}
	})})
	mid := st.add(mediaOCIIndex, ociIndex{Manifests: fanOut(leaf, 2000, nil)})
	st.setIndex(fanOut(mid, 2000, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := resolveOCI(ctx, st, want{})
	if err != nil {
		t.Fatalf("resolveOCI: %v", err)
	}
	if c.id == "" || len(c.layers) != 1 {
		t.Errorf("chosen image: %+v", c)
	}
	for name, n := range st.reads {
		if n > 1 {
			t.Errorf("%s read %d times", name, n)
		}
	}
}

// TestIndexBounds: past the bounds on an index walk, the error says which,
// in one line, and lists no more than ten names.
func TestIndexBounds(t *testing.T) {
	st, m := tinyLayout(t)
	named := func(n int) []descriptor {
		return fanOut(m, n, func(i int, d *descriptor) {
			d.Annotations = map[string]string{annotationRef: fmt.Sprintf("app:%d", i)}
		})
	}
	platforms := func(n int) []descriptor {
		return fanOut(m, n, func(i int, d *descriptor) {
			d.Platform = &Platform{OS: "linux", Architecture: fmt.Sprintf("arch%d", i)}
		})
	}
	tests := []struct {
		name  string
		index func() []descriptor
		want  want
		err   string
	}{
		{"too many manifests", func() []descriptor { return platforms(maxCandidates + 1) }, want{}, "more than 10000 image manifests"},
		{"too many descriptors in all", func() []descriptor {
			// 400 references, each walking an index of 400 attestations:
			// 160,000 steps, and not one image manifest.
			leaf := st.add(mediaOCIIndex, ociIndex{Manifests: fanOut(m, 400, func(i int, d *descriptor) {
				d.Annotations = map[string]string{annotationAttest: "attestation-manifest", "n": fmt.Sprint(i)}
			})})
			return fanOut(leaf, 400, func(i int, d *descriptor) {
				d.Annotations = map[string]string{annotationRef: fmt.Sprintf("r%d", i)}
			})
		}, want{}, "hold more than 100000 entries"},
		{"many images, none asked", func() []descriptor { return named(50) }, want{}, "archive holds 50 images (app:0, app:1, app:2, app:3, app:4, app:5, app:6, app:7, app:8, app:9 and 40 more)"},
		{"many images, another asked", func() []descriptor { return named(50) }, want{ref: "nope"}, "and 40 more"},
		{"many platforms, another asked", func() []descriptor { return platforms(30) }, want{platform: &Platform{OS: "linux", Architecture: "s390x"}}, "linux/arch9 and 20 more (choose with --platform)"},
		{"a name with a newline", func() []descriptor {
			return fanOut(m, 2, func(i int, d *descriptor) {
				d.Annotations = map[string]string{annotationRef: fmt.Sprintf("a\nb%d", i)}
			})
		}, want{}, `"a\nb0", "a\nb1"`},
		{"a long name", func() []descriptor {
			return fanOut(m, 2, func(i int, d *descriptor) {
				d.Annotations = map[string]string{annotationRef: strings.Repeat("é", 1000) + fmt.Sprint(i)}
			})
		}, want{}, strings.Repeat("é", 40) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st.setIndex(tc.index())
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := resolveOCI(ctx, st, tc.want)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %.300v, want one containing %q", err, tc.err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 2000 {
				t.Errorf("error is not one short line: %.300q", err)
			}
		})
	}
}

// TestResolveHonoursContext: a cancelled walk stops.
func TestResolveHonoursContext(t *testing.T) {
	st, m := tinyLayout(t)
	st.setIndex(fanOut(m, 1000, func(i int, d *descriptor) {
		d.Platform = &Platform{OS: "linux", Architecture: fmt.Sprintf("arch%d", i)}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := resolveOCI(ctx, st, want{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
