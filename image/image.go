// Package image reads container images from the Docker daemon (or
// podman's socket), registries, containerd, `docker save` archives, OCI
// layouts and OCI archives, and turns each layer into a tree.ChangeSet as
// its bytes stream past. Nothing from an image is written
// to disk or run.
package image

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/layerscope/layerscope/tree"
)

// Source kinds, as --source names them and the report shows them.
const (
	SourceDocker        = "docker"
	SourceDockerArchive = "docker-archive"
	SourceOCI           = "oci"
	SourceOCIArchive    = "oci-archive"
	SourceRegistry      = "registry"
	SourceContainerd    = "containerd"
)

// Sources lists the values --source accepts.
var Sources = []string{SourceDocker, SourceDockerArchive, SourceOCI, SourceOCIArchive, SourceRegistry, SourceContainerd}

// Bounds on one image. Docker stacks at most 128 layers; a layer listed
// again and again must not multiply its entries without end.
const (
	MaxLayers  = 1000
	MaxEntries = 10_000_000
)

// Image is an image as read from its source: metadata and, per layer, the
// change set its tar holds, or with Options.Merge the tree they merge to.
// Layers are in manifest order, base first.
type Image struct {
	Ref      string // the reference asked for, or the one the archive gives
	ID       string // the config's digest
	Source   string // one of the Source kinds
	Location string // the file, directory or daemon it was read from
	Config   *Config
	Layers   []Layer
	Warnings []string
	// Tree is the layers merged in order (Options.Merge), nil otherwise.
	Tree *tree.Tree
	// Annotations are the image manifest's, when the source keeps them
	// (OCI layouts and archives, registries): untrusted text.
	Annotations map[string]string

	refs   []layerRef // the layers' blobs as the manifest names them
	reread *rereader  // set when the source can be read again
}

// Layer is one layer of an Image.
type Layer struct {
	Digest     string // diff ID: sha256 of the uncompressed tar
	BlobDigest string // digest of the blob as stored, when compressed
	BlobBytes  int64  // its size, when compressed
	TarBytes   int64  // size of the uncompressed tar
	MediaType  string // as the manifest gives it, when it does
	History    History
	Changes    *tree.ChangeSet // nil when Load merged it into Image.Tree
}

// Options tune Load. The zero value reads whatever arg names.
type Options struct {
	Source   string    // force a Source kind; "" decides from arg
	Platform *Platform // pick this platform from an index
	Sniff    tree.Sniffer
	Progress *Progress
	Stdin    io.Reader // read for arg "-"; os.Stdin when nil
	Daemon   DaemonClient
	// InsecureRegistries may be spoken to over plain HTTP (HOST or
	// HOST:PORT); localhost and 127.0.0.1 always may.
	InsecureRegistries []string
	Keychain           authn.Keychain // nil: Docker's config.json and helpers
	// ContainerdAddress and ContainerdNamespace say where --source
	// containerd reads; "" is CONTAINERD_ADDRESS (else
	// DefaultContainerdAddress) and CONTAINERD_NAMESPACE (else "default").
	ContainerdAddress   string
	ContainerdNamespace string
	// NoRegistryFallback keeps a name the daemon lacks from being read
	// from its registry unless it names the registry's host (CI mode):
	// see loadFromRegistryInstead.
	NoRegistryFallback bool
	// Merge has Load merge the layers into Image.Tree, each as soon as it
	// and every layer below it are parsed, and drop each change set once
	// merged: the peak is the tree and the few change sets parsed out of
	// order, not every layer's. A stream whose manifest comes last (standard
	// input, an archive compressed whole) is merged once it is read. A
	// merge error is returned only once every digest is checked.
	Merge bool
}

// Load reads the image arg names: "-" for an archive on standard input, an
// existing file or directory (optionally FILE:REF), or else a reference the
// daemon resolves. When ctx ends first, the error is an interruption that
// wraps ctx's error, whatever read it broke.
func Load(ctx context.Context, arg string, opt Options) (*Image, error) {
	img, err := load(ctx, arg, opt)
	if err != nil && ctx.Err() != nil {
		what := arg
		if arg == "-" || strings.HasPrefix(arg, "-:") {
			what = "standard input"
		}
		return nil, &interruptedError{what: what, err: ctx.Err()}
	}
	return img, err
}

// interruptedError is a Load that its context ended: said in a user's
// words, without the URL or pipe of the read it broke.
type interruptedError struct {
	what string
	err  error
}

func (e *interruptedError) Error() string {
	if errors.Is(e.err, context.DeadlineExceeded) {
		return fmt.Sprintf("reading %s: out of time", e.what)
	}
	return fmt.Sprintf("reading %s: interrupted", e.what)
}

func (e *interruptedError) Unwrap() error { return e.err }

func load(ctx context.Context, arg string, opt Options) (*Image, error) {
	if opt.Source != "" && !validSource(opt.Source) {
		return nil, fmt.Errorf("unknown source %q: want one of %s", opt.Source, strings.Join(Sources, ", "))
	}
	ps := newParsing(opt)
	if r, ok := strings.CutPrefix(arg, registryScheme); ok {
		if opt.Source != "" && opt.Source != SourceRegistry {
			return nil, fmt.Errorf("%s names a registry, and --source says %s", arg, opt.Source)
		}
		return loadRegistry(ctx, r, opt, ps, "")
	}
	switch opt.Source {
	case SourceRegistry:
		return loadRegistry(ctx, arg, opt, ps, "")
	case SourceContainerd:
		return loadContainerd(ctx, arg, opt, ps)
	}
	path, ref, isPath := locate(arg, opt.Source)
	if !isPath {
		if (opt.Source != "" && opt.Source != SourceDocker) || (opt.Source == "" && looksLikePath(arg)) {
			return nil, fmt.Errorf("%s: no such file or directory", arg)
		}
		img, err := loadDaemon(ctx, arg, opt, ps)
		var miss *daemonMissError
		if err != nil && opt.Source == "" && errors.As(err, &miss) {
			return loadFromRegistryInstead(ctx, arg, opt, ps, miss)
		}
		return img, err
	}
	w := want{ref: ref, platform: opt.Platform}
	if path == "-" {
		in := opt.Stdin
		if in == nil {
			in = os.Stdin
		}
		in, release := cancelable(ctx, in)
		defer release()
		opt.Progress.setPhase("reading the archive from standard input")
		st, err := readCompressedStream(ctx, &progressReader{r: in, p: opt.Progress}, opt.Progress, ps)
		if err != nil {
			return nil, err
		}
		return finish(ctx, st, w, opt, "standard input", "")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		opt.Progress.setPhase("reading the layout")
		opt.Progress.setTotal(0)
		root, err := os.OpenRoot(path)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		img, err := finish(ctx, &dirStore{root: root, prog: opt.Progress, ps: ps}, w, opt, path, SourceOCI)
		if err != nil {
			return nil, err
		}
		img.reread = &rereader{path: path, dir: true, refs: img.refs}
		return img, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opt.Progress.setTotal(fi.Size())
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if k := sniffBlob(head[:n]); k == blobGzip || k == blobZstd {
		opt.Progress.setPhase("reading the compressed archive")
		st, err := readCompressedStream(ctx, &progressReader{r: f, p: opt.Progress}, opt.Progress, ps)
		if err != nil {
			return nil, err
		}
		return finish(ctx, st, w, opt, path, "")
	}
	opt.Progress.setPhase("indexing the archive")
	st, err := indexTar(ctx, f, fi.Size(), opt.Progress, ps)
	if err != nil {
		return nil, err
	}
	opt.Progress.setPhase("parsing layers")
	img, err := finish(ctx, st, w, opt, path, "")
	if err != nil {
		return nil, err
	}
	rr := &rereader{path: path, size: fi.Size(), mtime: fi.ModTime(), refs: img.refs}
	for _, ref := range img.refs {
		sp, err := st.lookup(ref.name)
		if err != nil {
			return img, nil // read once after all: the viewer says so
		}
		rr.spans = append(rr.spans, sp)
	}
	img.reread = rr
	return img, nil
}

func validSource(s string) bool {
	for _, k := range Sources {
		if s == k {
			return true
		}
	}
	return false
}

// locate decides whether arg names a file or directory (with an optional
// ":REF" after it) or an image for the daemon.
func locate(arg, source string) (path, ref string, isPath bool) {
	if source == SourceDocker {
		return "", "", false
	}
	if arg == "-" {
		return "-", "", true
	}
	if r, ok := strings.CutPrefix(arg, "-:"); ok {
		return "-", r, true
	}
	if _, err := os.Stat(arg); err == nil {
		return arg, "", true
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] == ':' && isArchive(arg[:i]) {
			return arg[:i], arg[i+1:], true
		}
	}
	return "", "", false
}

// isArchive reports a file, or a directory that holds an image layout, as
// FILE:REF may name: a directory named like an image is not one.
func isArchive(p string) bool {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return false
	case fi.Mode().IsRegular():
		return true
	case fi.IsDir():
		for _, f := range []string{"index.json", "manifest.json"} {
			if _, err := os.Stat(filepath.Join(p, f)); err == nil {
				return true
			}
		}
	}
	return false
}

// looksLikePath reports an argument that no image reference can be: a
// path, or a name with an archive's extension.
func looksLikePath(arg string) bool {
	for _, p := range []string{"/", "./", "../", "~"} {
		if strings.HasPrefix(arg, p) {
			return true
		}
	}
	for _, s := range []string{".tar", ".tgz", ".tar.gz", ".tar.zst", ".tzst", ".oci"} {
		if strings.HasSuffix(arg, s) {
			return true
		}
	}
	return false
}

// readCompressedStream reads an archive that may be compressed whole.
func readCompressedStream(ctx context.Context, r io.Reader, prog *Progress, ps *parsing) (*streamStore, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(sniffSize)
	kind := sniffBlob(head)
	if kind == blobOther || kind == blobJSON {
		return nil, errors.New("not an image archive: neither tar, gzip nor zstd")
	}
	zr, closeZ, err := decompress(br, kind)
	if err != nil {
		return nil, err
	}
	defer closeZ()
	st, err := readStream(ctx, zr, prog, ps)
	if err != nil {
		return nil, err
	}
	// The rest is a tar record's padding, and the end of a compressed
	// stream, whose checksum tells a truncated file.
	switch n, err := drainAtMost(ctx, zr, maxTrailer); {
	case err != nil:
		return nil, fmt.Errorf("reading the end of the archive: %w", err)
	case n > maxTrailer:
		return nil, fmt.Errorf("the archive has more than %s after its end-of-archive marker", sizeWords(maxTrailer))
	}
	return st, nil
}

// finish picks the image out of a store, reads its layers and checks every
// digest. source is "" when the metadata decides it.
func finish(ctx context.Context, st layerStore, w want, opt Options, location, source string) (*Image, error) {
	archive := source == "" || source == SourceDockerArchive || source == SourceOCIArchive
	c, err := pick(ctx, st, w, opt.Source)
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: c.ref, ID: c.id, Location: location, Config: c.config, refs: c.layers, Annotations: c.annotations}
	switch {
	case opt.Source != "":
		img.Source = opt.Source
	case c.format == "oci" && archive:
		img.Source = SourceOCIArchive
	case c.format == "oci":
		img.Source = SourceOCI
	default:
		img.Source = SourceDockerArchive
	}
	if len(c.layers) > MaxLayers {
		return nil, fmt.Errorf("image has %d layers: more than %d is not an image layerscope will read", len(c.layers), MaxLayers)
	}
	blobs, err := st.blobs(ctx, c.layers)
	if err != nil {
		return nil, err
	}
	ps := st.parsing()
	m := ps.merge
	merged, entries := m.merged() // the merge counted the entries it freed
	for _, b := range blobs[min(merged, len(blobs)):] {
		if b.changes != nil {
			entries += len(b.changes.Entries)
		}
	}
	if entries > MaxEntries {
		return nil, fmt.Errorf("image has %d entries in its layers: more than %d", entries, MaxEntries)
	}
	if len(c.config.DiffIDs) != len(c.layers) {
		return nil, fmt.Errorf("image config lists %d layers, its manifest %d", len(c.config.DiffIDs), len(c.layers))
	}
	hist, ok := layerHistory(c.config.History, len(c.layers))
	if !ok {
		img.Warnings = append(img.Warnings, fmt.Sprintf("the config's history does not match its %d layers: instructions may be shown against the wrong layer", len(c.layers)))
	}
	for i, b := range blobs {
		l := c.layers[i]
		if err := checkLayer(b, l, c.config.DiffIDs[i]); err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, l.name, err)
		}
		layer := Layer{Digest: b.diffID, TarBytes: b.tarBytes, MediaType: l.mediaType, History: hist[i], Changes: b.changes}
		if b.kind != blobTar {
			layer.BlobDigest, layer.BlobBytes = b.digest, b.size
		}
		img.Layers = append(img.Layers, layer)
	}
	if !ps.merging {
		return img, nil
	}
	// Every digest is checked: now the merge may fail.
	names := make([]string, len(c.layers))
	for i, l := range c.layers {
		names[i] = l.name
	}
	if img.Tree, err = m.complete(ctx, names, c.config.DiffIDs, blobs); err != nil {
		return nil, err
	}
	for i := range img.Layers {
		img.Layers[i].Changes = nil
	}
	return img, nil
}

// pick resolves the image in a store, by the metadata it holds or the
// format the user forced.
func pick(ctx context.Context, st store, w want, source string) (*chosen, error) {
	switch source {
	case SourceDockerArchive:
		return resolveDocker(st, w)
	case SourceOCI, SourceOCIArchive:
		return resolveOCI(ctx, st, w)
	}
	var mt missingTop
	c, err := resolveDocker(st, w)
	if errors.As(err, &mt) {
		if c, err2 := resolveOCI(ctx, st, w); !errors.As(err2, &mt) {
			return c, err2
		}
		return nil, errors.New("not an image archive: it has neither manifest.json nor index.json")
	}
	return c, err
}

func checkLayer(b *blob, l layerRef, diffID string) error {
	switch {
	case l.size >= 0 && b.size > l.size: // read to a byte past its size, and cut there
		return fmt.Errorf("size mismatch: the blob holds more than the %d bytes its manifest gives", l.size)
	case l.size >= 0 && b.err == nil && b.size != l.size:
		return fmt.Errorf("size mismatch: the blob holds %d bytes, its manifest says %d", b.size, l.size)
	case l.digest != "" && b.size == l.size && b.digest != l.digest: // read whole: its bytes are not the manifest's
		return fmt.Errorf("digest mismatch: content is %s, manifest says %s", b.digest, l.digest)
	case b.err != nil:
		return b.err
	case b.kind < blobTar:
		return fmt.Errorf("not a layer: neither tar, gzip nor zstd")
	case l.digest != "" && b.digest != l.digest:
		return fmt.Errorf("digest mismatch: content is %s, manifest says %s", b.digest, l.digest)
	case b.diffID != diffID:
		return fmt.Errorf("digest mismatch: content is %s, config says %s", b.diffID, diffID)
	}
	return nil
}
