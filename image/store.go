package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime"
	"sync"
	"syscall"

	"github.com/layerscope/layerscope/tree"
)

// errNotExist reports a name the archive does not hold.
var errNotExist = errors.New("not in the archive")

// A store is an archive or layout as the resolver sees it: metadata
// documents by name, and layer blobs parsed by name.
type store interface {
	meta(name string) ([]byte, error)
	// blobs returns the layers' blobs, parsed, in the order asked. A blob
	// that could not be read carries its error. A blob whose size is known
	// is read no further than a byte past it.
	blobs(ctx context.Context, layers []layerRef) ([]*blob, error)
}

// A layerStore is a store that finish reads an image from: it also says
// what its blobs were parsed with, and so how they merge.
type layerStore interface {
	store
	parsing() *parsing
}

var (
	_ layerStore = (*tarFile)(nil)
	_ layerStore = (*dirStore)(nil)
	_ layerStore = (*streamStore)(nil)
	_ layerStore = (*remoteStore)(nil)
)

// maxLinks bounds a chain of symlinks between archive entries.
const maxLinks = 8

// maxMembers bounds an archive's member count: an image has a few per layer.
const maxMembers = 1_000_000

// nextMember reads the header of an archive's next member and cleans its
// name: io.EOF at the end, and one clear error for anything else.
func nextMember(tr *tar.Reader, n int) (*tar.Header, string, error) {
	hdr, err := tr.Next()
	switch {
	case err == io.EOF && n == 0:
		return nil, "", errors.New("not an image archive: it is empty")
	case err == io.EOF:
		return nil, "", io.EOF
	case err != nil && n == 0:
		return nil, "", fmt.Errorf("not an image archive: %w", err)
	case err != nil:
		return nil, "", fmt.Errorf("archive is damaged after %d members: %w", n, err)
	case n >= maxMembers:
		return nil, "", fmt.Errorf("archive has more than %d members", maxMembers)
	}
	name, err := tree.Clean(hdr.Name)
	if err != nil {
		return nil, "", fmt.Errorf("archive member %q: %w", hdr.Name, err)
	}
	return hdr, name, nil
}

// links are an archive's symlink members. Docker 20.10 writes a layer that
// occurs twice as a symlink to its first copy.
type links struct {
	to      map[string]string // member -> the member it names
	refused map[string]error  // members that link out of the archive
}

func newLinks() links {
	return links{to: map[string]string{}, refused: map[string]error{}}
}

func (l links) add(name, linkname string) {
	if target, err := resolveLink(name, linkname); err != nil {
		l.refused[name] = err
	} else {
		l.to[name] = target
	}
}

// follow returns the member name resolves to: itself when has says the
// archive holds it, else where its links lead.
func (l links) follow(name string, has func(string) bool) (string, error) {
	for range maxLinks {
		if err, ok := l.refused[name]; ok {
			return "", err
		}
		if has(name) {
			return name, nil
		}
		target, ok := l.to[name]
		if !ok {
			return "", fmt.Errorf("%q: %w", name, errNotExist)
		}
		name = target
	}
	return "", fmt.Errorf("%q: too many levels of links", name)
}

// resolveLink returns the archive name a symlink entry at name points to.
// Only a relative link to another entry of the same archive is followed.
func resolveLink(name, target string) (string, error) {
	if path.IsAbs(target) {
		return "", fmt.Errorf("entry %q links outside the archive (%q)", name, target)
	}
	p, err := tree.Clean(path.Join(path.Dir(name), target))
	if err != nil || p == "" {
		return "", fmt.Errorf("entry %q links outside the archive (%q)", name, target)
	}
	return p, nil
}

// cleanName normalises an archive member name as manifests give it.
func cleanName(name string) (string, error) {
	p, err := tree.Clean(name)
	if err != nil || p == "" {
		return "", fmt.Errorf("bad archive member name %q", name)
	}
	return p, nil
}

// tarEntry is one regular member of an archive that can be read at random.
type tarEntry struct {
	off, size int64
}

// tarFile is a plain tar archive on disk, indexed once, so that layers can
// be parsed side by side.
type tarFile struct {
	f       *os.File
	entries map[string]tarEntry
	links   links
	prog    *Progress
	ps      *parsing
}

// indexTar reads every header of an uncompressed tar archive, skipping the
// bodies with seeks.
func indexTar(ctx context.Context, f *os.File, fileSize int64, prog *Progress, ps *parsing) (*tarFile, error) {
	t := &tarFile{f: f, entries: map[string]tarEntry{}, links: newLinks(), prog: prog, ps: ps}
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, name, err := nextMember(tr, n)
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			if off+hdr.Size > fileSize {
				return nil, fmt.Errorf("archive is truncated: member %q ends past the end of the file", hdr.Name)
			}
			t.entries[name] = tarEntry{off: off, size: hdr.Size}
		case tar.TypeSymlink:
			t.links.add(name, hdr.Linkname)
		}
	}
}

func (t *tarFile) lookup(name string) (tarEntry, error) {
	name, err := t.links.follow(name, func(n string) bool { _, ok := t.entries[n]; return ok })
	if err != nil {
		return tarEntry{}, err
	}
	return t.entries[name], nil
}

func (t *tarFile) meta(name string) ([]byte, error) {
	e, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	if e.size > MaxJSON {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, MaxJSON)
	}
	return io.ReadAll(io.NewSectionReader(t.f, e.off, e.size))
}

func (t *tarFile) blobs(ctx context.Context, layers []layerRef) ([]*blob, error) {
	return parseParallel(ctx, layers, t.prog, t.ps, func(l layerRef) (io.Reader, error) {
		e, err := t.lookup(l.name)
		if err != nil {
			return nil, err
		}
		if l.size >= 0 && e.size < l.size {
			return nil, shortBlob(e.size, l.size)
		}
		n := e.size
		if l.size >= 0 && l.size < n {
			n = l.size + 1 // as dirStore does: a longer blob is told, not read
		}
		return io.NewSectionReader(t.f, e.off, n), nil
	})
}

// dirStore is an OCI image layout (or an unpacked `docker save`) in a
// directory. Every path is opened inside the directory only: a symlink
// that stays inside works (Docker 20.10 links a repeated layer to its first
// copy), one that leads out, absolute or relative, is an error.
type dirStore struct {
	root *os.Root
	prog *Progress
	ps   *parsing
}

func (d *dirStore) open(name string) (*os.File, error) {
	// O_NONBLOCK: a FIFO where a blob should be must not block the open;
	// it is refused below, as anything but a regular file is.
	f, err := d.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%q: %w", name, errNotExist)
	case escapes(err):
		return nil, fmt.Errorf("%q: a symlink on its path leads outside the layout directory", name)
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%q: too many levels of links", name)
	case err != nil:
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%q is not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// escapes reports os.Root's error for a path that leads out of the root,
// which the os package does not export.
func escapes(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent"
}

func (d *dirStore) meta(name string) ([]byte, error) {
	f, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxJSON+1))
	if err == nil && len(data) > MaxJSON {
		err = fmt.Errorf("%s is larger than %d bytes", name, MaxJSON)
	}
	return data, err
}

func (d *dirStore) blobs(ctx context.Context, layers []layerRef) ([]*blob, error) {
	var mu sync.Mutex
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	return parseParallel(ctx, layers, d.prog, d.ps, func(l layerRef) (io.Reader, error) {
		f, err := d.open(l.name)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		files = append(files, f)
		mu.Unlock()
		if fi, err := f.Stat(); err == nil && l.size >= 0 && fi.Size() < l.size {
			return nil, shortBlob(fi.Size(), l.size)
		}
		if l.size >= 0 && l.size < math.MaxInt64 {
			// A blob is read to the size its descriptor gives and a
			// byte more, which tells a longer one: a sparse file of
			// terabytes is no longer a read of terabytes.
			return io.LimitReader(f, l.size+1), nil
		}
		return f, nil
	})
}

// shortBlob is a blob smaller than its descriptor says, told before it is
// parsed: its parse would end in the middle of a header or a stream, and
// say only that. (A larger one is read to a byte past its size.)
func shortBlob(have, want int64) error {
	return fmt.Errorf("size mismatch: the blob holds %d bytes, its manifest says %d", have, want)
}

// parseParallel parses the named blobs, as many at once as there are
// cores. A name asked twice is parsed once.
func parseParallel(ctx context.Context, layers []layerRef, prog *Progress, ps *parsing, open func(layerRef) (io.Reader, error)) ([]*blob, error) {
	return parseParallelN(ctx, layers, prog, ps, runtime.GOMAXPROCS(0), open)
}

// parseParallelN parses the named blobs, width at once. layers are the
// image's, base first: when its Load merges, each layer is merged as soon
// as it and every layer below it are parsed.
func parseParallelN(ctx context.Context, layers []layerRef, prog *Progress, ps *parsing, width int, open func(layerRef) (io.Reader, error)) ([]*blob, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	byName := map[string]*blob{}
	var unique []layerRef
	keys := make([]string, len(layers))
	for i, l := range layers {
		keys[i] = l.name
		if _, ok := byName[l.name]; !ok {
			byName[l.name] = nil
			unique = append(unique, l)
		}
	}
	m := ps.startMerge(ctx, keys, false)
	results := make([]*blob, len(unique))
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i, l := range unique {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = parseOne(ctx, l, prog, ps, open)
			<-sem // the next layer's parse starts while this one merges
			m.offer(l.name, results[i])
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, l := range unique {
		byName[l.name] = results[i]
	}
	out := make([]*blob, len(layers))
	for i, l := range layers {
		out[i] = byName[l.name]
	}
	return out, nil
}

// parseOne opens and parses one blob.
func parseOne(ctx context.Context, l layerRef, prog *Progress, ps *parsing, open func(layerRef) (io.Reader, error)) *blob {
	r, err := open(l)
	if err != nil {
		return &blob{err: err}
	}
	p := newBlobParser(ctx, ps)
	err = p.ReadFrom(ctx, r, prog)
	if err == errParserStopped && l.digest != "" {
		// The digest tells a blob damaged on its way (a
		// registry's bad bytes) from a layer that is bad.
		err = p.hashRest(ctx, r, prog)
	}
	b := p.Close(err)
	prog.layerDone()
	return b
}
