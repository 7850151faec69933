package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/layerscope/layerscope/tree"
)

// errNotExist reports a name the archive does not hold.
var errNotExist = errors.New("not in the archive")

// A store is an archive or layout as the resolver sees it: metadata
// documents by name, and layer blobs parsed by name.
type store interface {
	meta(name string) ([]byte, error)
	// blobs returns the named blobs, parsed, in the order asked. A blob
	// that could not be read carries its error.
	blobs(ctx context.Context, names []string) ([]*blob, error)
}

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
	opt     *tree.ParseOptions
}

// indexTar reads every header of an uncompressed tar archive, skipping the
// bodies with seeks.
func indexTar(ctx context.Context, f *os.File, fileSize int64, prog *Progress, opt *tree.ParseOptions) (*tarFile, error) {
	t := &tarFile{f: f, entries: map[string]tarEntry{}, links: newLinks(), prog: prog, opt: opt}
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

func (t *tarFile) blobs(ctx context.Context, names []string) ([]*blob, error) {
	return parseParallel(ctx, names, t.prog, t.opt, func(name string) (io.Reader, error) {
		e, err := t.lookup(name)
		if err != nil {
			return nil, err
		}
		return io.NewSectionReader(t.f, e.off, e.size), nil
	})
}

// dirStore is an OCI image layout (or an unpacked `docker save`) in a
// directory.
type dirStore struct {
	root string
	prog *Progress
	opt  *tree.ParseOptions
}

func (d *dirStore) open(name string) (*os.File, error) {
	for range maxLinks {
		p := filepath.Join(d.root, filepath.FromSlash(name))
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%q: %w", name, errNotExist)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case fi.Mode().IsRegular():
			return os.Open(p)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return nil, err
			}
			if name, err = resolveLink(name, filepath.ToSlash(target)); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%q is not a regular file", name)
		}
	}
	return nil, fmt.Errorf("%q: too many levels of links", name)
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

func (d *dirStore) blobs(ctx context.Context, names []string) ([]*blob, error) {
	var mu sync.Mutex
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	return parseParallel(ctx, names, d.prog, d.opt, func(name string) (io.Reader, error) {
		f, err := d.open(name)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		files = append(files, f)
		mu.Unlock()
		return f, nil
	})
}

// parseParallel parses the named blobs, as many at once as there are
// cores. A name asked twice is parsed once.
func parseParallel(ctx context.Context, names []string, prog *Progress, opt *tree.ParseOptions, open func(string) (io.Reader, error)) ([]*blob, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	byName := map[string]*blob{}
	var unique []string
	for _, n := range names {
		if _, ok := byName[n]; !ok {
			byName[n] = nil
			unique = append(unique, n)
		}
	}
	results := make([]*blob, len(unique))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range unique {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, err := open(name)
			if err != nil {
				results[i] = &blob{err: err}
				return
			}
			p := newBlobParser(ctx, opt)
			results[i] = p.Close(p.ReadFrom(ctx, r, prog))
			prog.layerDone()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, n := range unique {
		byName[n] = results[i]
	}
	out := make([]*blob, len(names))
	for i, n := range names {
		out[i] = byName[n]
	}
	return out, nil
}
