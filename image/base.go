package image

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types"
	dimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// The manifest annotations that name an image's base (OCI image spec,
// annotations.md).
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// Chain is what deciding whether one image is the base of another needs:
// a name, an ID and the layer chain (diff IDs, base first).
type Chain struct {
	Name    string // as asked, a repo:tag, or the ID when the image has no name
	ID      string
	DiffIDs []string
	// History is how many history entries the image's config holds: the
	// image built on it has these first. 0 when it is not known.
	History int
}

// DiffIDs is the image's layer chain, base first.
func (img *Image) DiffIDs() []string {
	ids := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		ids[i] = l.Digest
	}
	return ids
}

// IsPrefix reports whether chain begins with base, which holds a layer
// at least: then base's layers are chain's first len(base) layers.
func IsPrefix(base, chain []string) bool {
	return len(base) > 0 && len(base) <= len(chain) && slices.Equal(base, chain[:len(base)])
}

// ReadChain reads the chain of the image arg names, any source Load reads,
// as cheaply as the source allows: the daemon's inspect data, the index,
// manifest and config of a registry, an OCI layout or an uncompressed
// archive. containerd, a compressed archive or standard input is loaded
// whole (their layers' digests are checked as they stream past).
func ReadChain(ctx context.Context, arg string, opt Options) (*Chain, error) {
	if r, ok := strings.CutPrefix(arg, registryScheme); ok {
		return registryChain(ctx, r, opt)
	}
	switch opt.Source {
	case SourceRegistry:
		return registryChain(ctx, arg, opt)
	case SourceContainerd:
		return loadChain(ctx, arg, opt)
	}
	path, ref, isPath := locate(arg, opt.Source)
	if !isPath {
		if (opt.Source != "" && opt.Source != SourceDocker) || (opt.Source == "" && looksLikePath(arg)) {
			return nil, fmt.Errorf("%s: no such file or directory", arg)
		}
		c, err := daemonChain(ctx, arg, opt)
		var miss *daemonMissError
		if err != nil && opt.Source == "" && errors.As(err, &miss) {
			// The image argument's rule (loadFromRegistryInstead): in CI
			// mode only a name with a registry host is read from there.
			if opt.NoRegistryFallback && !namesRegistryHost(arg) {
				return nil, fmt.Errorf("%s; in CI mode a name without a registry host is not read from Docker Hub in its place: %s%s reads it from there", miss.msg, registryScheme, arg)
			}
			c, err := registryChain(ctx, arg, opt)
			if err != nil && ctx.Err() == nil {
				return nil, fmt.Errorf("%s; nor could its registry give it: %w", miss.msg, err)
			}
			return c, err
		}
		return c, err
	}
	if path == "-" {
		return loadChain(ctx, arg, opt)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	w := want{ref: ref, platform: opt.Platform}
	if fi.IsDir() {
		root, err := os.OpenRoot(path)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		return chainOf(pick(ctx, &dirStore{root: root}, w, opt.Source))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if k := sniffBlob(head[:n]); k == blobGzip || k == blobZstd {
		f.Close()
		return loadChain(ctx, arg, opt) // compressed whole: no index without reading it all
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	st, err := indexTar(ctx, f, fi.Size(), nil, nil)
	if err != nil {
		return nil, err
	}
	c, err := chainOf(pick(ctx, st, w, opt.Source))
	if err == nil && c.Name == "" {
		c.Name = arg
	}
	return c, err
}

// registryChain reads the chain of an image in a registry from its
// manifest (an index narrowed to the platform) and config: no layer is
// fetched. It logs in and checks digests as loadRegistry does.
func registryChain(ctx context.Context, ref string, opt Options) (*Chain, error) {
	st, c, _, err := openRegistry(ctx, ref, opt, nil, newParsing(Options{}))
	if err != nil {
		return nil, err
	}
	defer c.close()
	ch, err := chainOf(pick(ctx, st, want{platform: opt.Platform}, SourceOCI))
	if err != nil {
		return nil, err
	}
	ch.Name = ref
	return ch, nil
}

// chainOf is the chain of an image picked out of a store, by its metadata
// alone.
func chainOf(c *chosen, err error) (*Chain, error) {
	if err != nil {
		return nil, err
	}
	switch {
	case len(c.layers) > MaxLayers:
		return nil, fmt.Errorf("image has %d layers: more than %d is not an image layerscope will read", len(c.layers), MaxLayers)
	case len(c.config.DiffIDs) != len(c.layers):
		return nil, fmt.Errorf("image config lists %d layers, its manifest %d", len(c.config.DiffIDs), len(c.layers))
	}
	return &Chain{Name: c.ref, ID: c.id, DiffIDs: c.config.DiffIDs, History: len(c.config.History)}, nil
}

// loadChain reads the whole image: the sources that cannot give a config
// alone.
func loadChain(ctx context.Context, arg string, opt Options) (*Chain, error) {
	opt.Sniff = nil
	img, err := Load(ctx, arg, opt)
	if err != nil {
		return nil, err
	}
	name := img.Ref
	if name == "" {
		name = arg
	}
	hist := 0
	if img.Config != nil {
		hist = len(img.Config.History)
	}
	return &Chain{Name: name, ID: img.ID, DiffIDs: img.DiffIDs(), History: hist}, nil
}

// daemonClient is opt's client, or a new one that done closes.
func daemonClient(ctx context.Context, opt Options) (cli DaemonClient, done func(), err error) {
	if opt.Daemon != nil {
		return opt.Daemon, func() {}, nil
	}
	c, err := NewDaemonClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// daemonChain asks the daemon about ref: its inspect data holds the
// chain, so nothing is exported.
func daemonChain(ctx context.Context, ref string, opt Options) (*Chain, error) {
	cli, done, err := daemonClient(ctx, opt)
	if err != nil {
		return nil, err
	}
	defer done()
	info, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, daemonError(ctx, cli, ref, err)
	}
	if len(info.RootFS.Layers) > MaxLayers {
		return nil, fmt.Errorf("image %s has %d layers: more than %d", ref, len(info.RootFS.Layers), MaxLayers)
	}
	return &Chain{Name: ref, ID: info.ID, DiffIDs: info.RootFS.Layers, History: daemonHistory(ctx, cli, info.ID)}, nil
}

// imageHistorian is the daemon call that counts an image's history
// entries: a client without it (a test's fake) counts none.
type imageHistorian interface {
	ImageHistory(ctx context.Context, id string, opts ...client.ImageHistoryOption) ([]dimage.HistoryResponseItem, error)
}

var _ imageHistorian = (*client.Client)(nil) // the real client counts

// daemonHistory is how many history entries the daemon's image id has
// (one item per entry of its config's history), 0 when it cannot say.
func daemonHistory(ctx context.Context, cli DaemonClient, id string) int {
	h, ok := cli.(imageHistorian)
	if !ok {
		return 0
	}
	items, err := h.ImageHistory(ctx, id)
	if err != nil {
		return 0
	}
	return len(items)
}

// AnnotatedBase reads the base that img's manifest names
// (AnnotationBaseName, AnnotationBaseDigest) when it is at hand: in the
// OCI layout img came from, else in the daemon, asked for name@digest,
// then name (a daemon that does not answer within annotationWait is not
// at hand). nil when the manifest names none, or it is nowhere at hand; an
// error only when ctx ended. The annotations are the image's text: a name
// that is not a reference by Docker's grammar, or a digest that is not
// sha256 and 64 hex digits, is never looked up (the daemon's client puts
// it in a URL path, where ../ would reach any endpoint or registry), and
// warning says so in a line.
func AnnotatedBase(ctx context.Context, img *Image, opt Options) (c *Chain, warning string, err error) {
	baseName, digest := img.Annotations[AnnotationBaseName], img.Annotations[AnnotationBaseDigest]
	if baseName == "" && digest == "" {
		return nil, "", nil
	}
	label := cmp.Or(baseName, digest)
	named, nameOK := annotatedName(baseName)
	digestOK := digest == "" || sha256Digest.MatchString(digest)
	var bad []string
	if !nameOK {
		bad = append(bad, AnnotationBaseName)
	}
	if !digestOK {
		bad = append(bad, AnnotationBaseDigest)
		digest = ""
	}
	if len(bad) > 0 {
		warning = fmt.Sprintf("the manifest's %s is not a valid image reference: not looked up", strings.Join(bad, " and "))
	}
	if named == nil && digest == "" {
		return nil, warning, nil
	}
	if img.Source == SourceOCI {
		ref := ""
		if named != nil {
			ref = baseName
		}
		if c := layoutBase(ctx, img, ref, digest); c != nil {
			c.Name = label
			return c, warning, nil
		}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, annotationWait)
	defer cancel()
	cli, done, err := daemonClient(ctx, opt)
	if err != nil {
		return nil, warning, parent.Err()
	}
	defer done()
	var refs []string
	if named != nil && digest != "" {
		refs = append(refs, reference.FamiliarName(named)+"@"+digest) // no tag: name:tag@digest is not one the daemon looks up
	}
	if named != nil {
		refs = append(refs, reference.FamiliarString(named))
	}
	for _, ref := range refs {
		info, err := cli.ImageInspect(ctx, ref)
		if err == nil && len(info.RootFS.Layers) <= MaxLayers {
			return &Chain{Name: label, ID: info.ID, DiffIDs: info.RootFS.Layers, History: daemonHistory(ctx, cli, info.ID)}, warning, nil
		}
	}
	return nil, warning, parent.Err()
}

// sha256Digest is the only digest an annotated base is looked up by.
var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// annotatedName parses an annotated base's name by Docker's reference
// grammar (lowercase path components, no "." or ".." among them, a domain
// that is one): nil and true when there is none, nil and false when it is
// not one.
func annotatedName(s string) (reference.Named, bool) {
	if s == "" {
		return nil, true
	}
	if len(s) > maxRefLen {
		return nil, false // no reference is that long: the image's text, not a name
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, false
	}
	return named, true
}

// maxRefLen bounds an annotated base's name or digest: Docker's
// references stop at 255 bytes of name, a digest at about 140.
const maxRefLen = 1024

// annotationWait bounds the daemon's answer about an annotated base: the
// image may come from anywhere, and no daemon may be at hand.
var annotationWait = 10 * time.Second

// layoutBase finds the annotated base in the layout img was read from: by
// the manifest (or index) digest, else by name. nil when it is not there.
func layoutBase(ctx context.Context, img *Image, name, digest string) *Chain {
	root, err := os.OpenRoot(img.Location)
	if err != nil {
		return nil
	}
	defer root.Close()
	st := &dirStore{root: root}
	var platform *Platform
	if img.Config != nil {
		platform = &img.Config.Platform
	}
	if digest != "" {
		if c := layoutManifest(st, digest, platform, 0); c != nil {
			return c
		}
	}
	if name != "" {
		if c, err := chainOf(resolveOCI(ctx, st, want{ref: name, platform: platform})); err == nil {
			return c
		}
	}
	return nil
}

// layoutManifest reads the chain of the image manifest with this digest,
// or of its platform's manifest when the digest names an index.
func layoutManifest(st store, digest string, platform *Platform, depth int) *Chain {
	if depth > maxIndexDepth {
		return nil
	}
	data, err := metaBlob(st, "base manifest", digest, "the annotation")
	if err != nil {
		return nil
	}
	var m ociManifest
	if err := decodeJSON(data, "base manifest", &m); err != nil {
		return nil
	}
	if len(m.Manifests) > 0 {
		for _, d := range m.Manifests {
			if platform != nil && d.Platform != nil && platform.matches(*d.Platform) {
				return layoutManifest(st, d.Digest, platform, depth+1)
			}
		}
		return nil
	}
	cdata, err := metaBlob(st, "base config", m.Config.Digest, "its manifest")
	if err != nil {
		return nil
	}
	cfg, err := parseConfig(cdata)
	if err != nil || len(cfg.DiffIDs) != len(m.Layers) || len(cfg.DiffIDs) > MaxLayers {
		return nil
	}
	return &Chain{ID: m.Config.Digest, DiffIDs: cfg.DiffIDs, History: len(cfg.History)}
}

// imageLister is the daemon call the base search adds to DaemonClient: a
// client without it (a test's fake) searches nothing.
type imageLister interface {
	ImageList(ctx context.Context, options dimage.ListOptions) ([]dimage.Summary, error)
}

// Bounds on the daemon's base search: it inspects the images the daemon
// lists (no export; not those baseSizeBound rules out), so it is cheap,
// but a daemon may hold thousands.
const (
	maxBaseCandidates = 5000
	baseSearchWait    = 30 * time.Second
)

// DaemonBase finds, among the daemon's images (tagged or not; not the
// intermediate images of legacy builds), the one whose chain is the
// longest proper prefix of img's: the image it was built FROM, as a reader
// of docker history finds it by eye. A tie goes to an image with a tag,
// then to the first name. nil when none is.
func DaemonBase(ctx context.Context, img *Image, opt Options) (*Chain, error) {
	chain := img.DiffIDs()
	if len(chain) < 2 {
		return nil, nil
	}
	cli, done, err := daemonClient(ctx, opt)
	if err != nil {
		return nil, err
	}
	defer done()
	lister, ok := cli.(imageLister)
	if !ok {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, baseSearchWait)
	defer cancel()
	list, err := lister.ImageList(ctx, dimage.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the daemon's images: %w", firstLineErr(err))
	}
	if len(list) > maxBaseCandidates {
		return nil, fmt.Errorf("the daemon holds %d images: more than %d to compare (name the base with --base)", len(list), maxBaseCandidates)
	}
	maxSize := baseSizeBound(ctx, cli, img.ID, list)
	var best *Chain
	bestTagged := false
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if s.ID == img.ID || seen[s.ID] || (maxSize > 0 && s.Size > maxSize) {
			continue // the image itself, one already compared, or larger than the image: no base
		}
		seen[s.ID] = true
		info, err := cli.ImageInspect(ctx, s.ID)
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("comparing the daemon's images: %w", ctx.Err())
		case cerrdefs.IsNotFound(err):
			continue // removed since the list
		case err != nil:
			return nil, fmt.Errorf("inspecting %s: %w", s.ID, firstLineErr(err))
		}
		layers := info.RootFS.Layers
		if len(layers) >= len(chain) || !IsPrefix(layers, chain) {
			continue
		}
		name, tagged := info.ID, false
		if tags := realTags(info.RepoTags); len(tags) > 0 {
			name, tagged = tags[0], true
		}
		if best != nil {
			switch {
			case len(layers) != len(best.DiffIDs):
				if len(layers) < len(best.DiffIDs) {
					continue
				}
			case tagged != bestTagged:
				if !tagged {
					continue
				}
			case name >= best.Name:
				continue
			}
		}
		best, bestTagged = &Chain{Name: name, ID: info.ID, DiffIDs: layers}, tagged
	}
	if best != nil {
		best.History = daemonHistory(ctx, cli, best.ID)
	}
	return best, nil
}

// daemonDescriber is what tells the daemon's kind, and so what its image
// list's Size means: a client without it (a test's fake) is not asked.
type daemonDescriber interface {
	Info(ctx context.Context) (system.Info, error)
	ServerVersion(ctx context.Context) (types.Version, error)
}

var _ daemonDescriber = (*client.Client)(nil)

// baseSizeBound is the largest image list Size a base of the image id can
// have, or 0 when the list's sizes bound nothing: then every image is
// compared. Only Docker's own image store (its graph drivers) sums an
// image's layers, each counted once per chain, into Size: there a base,
// whose layers are the image's first ones, is never larger than the image.
// Its containerd image store adds the content of every platform it holds
// and counts layers it has not unpacked as 0, and podman adds manifests
// and signatures: a base may be the larger there, so nothing is pruned. A
// Size of 0 or less is not known. The daemon is asked what it is only when
// some image is larger than this one.
func baseSizeBound(ctx context.Context, cli DaemonClient, id string, list []dimage.Summary) int64 {
	var self int64
	for _, s := range list {
		if s.ID == id {
			self = s.Size
			break
		}
	}
	if self <= 0 || !slices.ContainsFunc(list, func(s dimage.Summary) bool { return s.Size > self }) {
		return 0
	}
	d, ok := cli.(daemonDescriber)
	if !ok {
		return 0
	}
	v, err := d.ServerVersion(ctx)
	if err != nil || !slices.ContainsFunc(v.Components, func(c types.ComponentVersion) bool { return c.Name == "Engine" }) {
		return 0 // not Docker's engine (podman's is "Podman Engine"), or it does not say
	}
	info, err := d.Info(ctx)
	if err != nil {
		return 0
	}
	for _, kv := range info.DriverStatus {
		if kv[0] == "driver-type" || strings.Contains(kv[1], "containerd") {
			return 0 // the containerd image store ("driver-type": "io.containerd.snapshotter.v1")
		}
	}
	return self
}

// realTags are an image's repo:tags, sorted, without "<none>:<none>".
func realTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "" && !strings.Contains(t, "<none>") {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func firstLineErr(err error) error { return errors.New(firstLine(err.Error())) }
