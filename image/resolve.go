package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Media types that name an index rather than an image manifest.
const (
	mediaOCIIndex    = "application/vnd.oci.image.index.v1+json"
	mediaDockerList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	annotationRef    = "org.opencontainers.image.ref.name"
	annotationCtrRef = "io.containerd.image.name"
	annotationAttest = "vnd.docker.reference.type"
)

// maxIndexDepth bounds nested indexes.
const maxIndexDepth = 4

var digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// blobName is where an OCI layout keeps the blob with digest d.
func blobName(d string) (string, error) {
	if !digestRE.MatchString(d) {
		return "", fmt.Errorf("unsupported or malformed digest %q", d)
	}
	return "blobs/sha256/" + d[len("sha256:"):], nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// layerRef is one layer of the chosen image, as its manifest names it.
type layerRef struct {
	name      string // archive member
	digest    string // expected blob digest, when the manifest gives one
	size      int64  // expected blob size, -1 when the manifest gives none
	mediaType string
}

// chosen is the image picked out of an archive: its config and layers.
type chosen struct {
	ref       string
	id        string // config digest
	config    *Config
	layers    []layerRef
	format    string // "docker-archive" or "oci"
	platforms []string
	// annotations are the image manifest's (OCI only).
	annotations map[string]string
}

// want is what the user asked for: a reference and a platform, each
// optional.
type want struct {
	ref      string
	platform *Platform // nil: any, when there is one image
}

// hostPlatform is the platform an index is narrowed to when it holds
// several and the user named none: images are Linux wherever we run.
func hostPlatform() Platform {
	p := Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		p.Variant = "v7"
	}
	return p
}

// ParsePlatform reads os/arch[/variant].
func ParsePlatform(s string) (*Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || !platformWords(parts) {
		return nil, fmt.Errorf("bad platform %q: want os/arch[/variant]", s)
	}
	p := &Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// platformWords reports whether each part of a platform is a word of
// letters, digits, '.', '_' and '-', as every OS, architecture and variant
// name is: a part that is not would reach error messages as it is.
func platformWords(parts []string) bool {
	for _, p := range parts {
		for _, c := range p {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func (p Platform) matches(q Platform) bool {
	return p.OS == q.OS && p.Architecture == q.Architecture && (p.Variant == "" || q.Variant == "" || p.Variant == q.Variant)
}

// missingTop is the error of an archive without the document a format
// starts from: manifest.json, index.json.
type missingTop struct{ error }

func (e missingTop) Unwrap() error { return e.error }

// resolveDocker picks an image out of a `docker save` manifest.json.
func resolveDocker(st store, w want) (*chosen, error) {
	data, err := st.meta("manifest.json")
	if errors.Is(err, errNotExist) {
		return nil, missingTop{fmt.Errorf("not a docker save archive: it has no manifest.json (%w)", err)}
	}
	if err != nil {
		return nil, err
	}
	var ms []dockerManifest
	if err := decodeJSON(data, "manifest.json", &ms); err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	var m *dockerManifest
	switch {
	case w.ref != "":
		for i := range ms {
			if slices.ContainsFunc(ms[i].RepoTags, func(t string) bool { return sameRef(t, w.ref) }) {
				m = &ms[i]
				break
			}
		}
		if m == nil {
			return nil, fmt.Errorf("archive has no image %q; it holds %s", w.ref, listRefs(ms))
		}
	case len(ms) == 1:
		m = &ms[0]
	default:
		return nil, fmt.Errorf("archive holds %d images (%s): pick one with FILE:REF", len(ms), listRefs(ms))
	}
	configName, err := cleanName(m.Config)
	if err != nil {
		return nil, err
	}
	cdata, err := st.meta(configName)
	if errors.Is(err, errNotExist) {
		return nil, fmt.Errorf("the image config %q that manifest.json names is missing from the archive", configName)
	}
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cfg, err := parseConfig(cdata)
	if err != nil {
		return nil, err
	}
	c := &chosen{ref: w.ref, id: digestOf(cdata), config: cfg, format: "docker-archive"}
	if c.ref == "" && len(m.RepoTags) > 0 {
		c.ref = m.RepoTags[0]
	}
	if w.platform != nil && !w.platform.matches(cfg.Platform) {
		return nil, fmt.Errorf("no image for platform %s: the archive holds %s", w.platform, cutItem(cfg.Platform.String()))
	}
	for _, l := range m.Layers {
		name, err := cleanName(l)
		if err != nil {
			return nil, err
		}
		ref := layerRef{name: name, size: -1}
		if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
			ref.digest = "sha256:" + d // Docker 25+: the name is the digest
		}
		c.layers = append(c.layers, ref)
	}
	return c, nil
}

func listRefs(ms []dockerManifest) string {
	var refs []string
	for _, m := range ms {
		if len(m.RepoTags) == 0 {
			refs = append(refs, "(untagged)")
		}
		refs = append(refs, m.RepoTags...)
		if len(refs) > maxListed {
			break // listCut shows no more, and says "more"
		}
	}
	return listCut(refs, len(refs))
}

// maxListed is how many names an error message lists.
const maxListed = 10

// listCut joins the first names of a list for a one-line message, each
// cut short, and says how many of total it left out.
func listCut(items []string, total int) string {
	shown := make([]string, 0, maxListed)
	for _, s := range items[:min(len(items), maxListed)] {
		shown = append(shown, cutItem(s))
	}
	out := strings.Join(shown, ", ")
	if total > len(shown) {
		out += fmt.Sprintf(" and %d more", total-len(shown))
	}
	return out
}

// cutItem shortens a name from an image to what a message can show, at a
// rune boundary.
func cutItem(s string) string {
	const max = 80
	if len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	if !printable(s) {
		return strconv.Quote(s) // one line, whatever the image says
	}
	return s
}

func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// sameRef reports whether a tag an archive holds is the one the user
// named: "web" means "web:latest", and Docker Hub's prefixes may be left
// out.
func sameRef(have, asked string) bool {
	norm := func(r string) string {
		r = strings.TrimPrefix(r, "docker.io/")
		r = strings.TrimPrefix(r, "library/")
		if i := strings.LastIndexByte(r, ':'); i < 0 || strings.Contains(r[i:], "/") {
			if !strings.Contains(r, "@") {
				r += ":latest"
			}
		}
		return r
	}
	return have == asked || norm(have) == norm(asked)
}

// candidate is an image manifest an index points at.
type candidate struct {
	desc descriptor
	ref  string
}

// Bounds on the walk of an index and the indexes it names: real ones list
// a few dozen image manifests, nested one level deep.
const (
	maxCandidates = 10_000  // image manifests found
	maxIndexWalk  = 100_000 // descriptors looked at, over all indexes
)

// resolveOCI picks an image out of an OCI layout's index.json.
func resolveOCI(ctx context.Context, st store, w want) (*chosen, error) {
	data, err := st.meta("index.json")
	if errors.Is(err, errNotExist) {
		return nil, missingTop{fmt.Errorf("not an OCI layout: it has no index.json (%w)", err)}
	}
	if err != nil {
		return nil, err
	}
	var idx ociIndex
	if err := decodeJSON(data, "index.json", &idx); err != nil {
		return nil, err
	}
	wk := &indexWalk{ctx: ctx, st: st, indexes: map[string][]descriptor{}, seen: map[candidateKey]bool{}}
	if err := wk.walk(idx.Manifests, "", 0); err != nil {
		return nil, err
	}
	cands := wk.out
	if len(cands) == 0 {
		return nil, errors.New("index.json names no image manifest")
	}
	if w.ref != "" {
		var keep []candidate
		for _, c := range cands {
			if c.ref != "" && (sameRef(c.ref, w.ref) || tagOf(c.ref) == w.ref) {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return nil, fmt.Errorf("archive has no image %q; it holds %s", w.ref, candRefs(cands))
		}
		cands = keep
	} else if refs := distinctRefs(cands); len(refs) > 1 {
		return nil, fmt.Errorf("archive holds %d images (%s): pick one with FILE:REF", len(refs), listCut(refs, len(refs)))
	}
	var pick *candidate
	var platforms []string
	for i := range cands {
		platforms = append(platforms, platformOf(cands[i]))
	}
	switch {
	case w.platform != nil:
		for i := range cands {
			if cands[i].desc.Platform != nil && w.platform.matches(*cands[i].desc.Platform) {
				pick = &cands[i]
				break
			}
		}
		if pick == nil && len(cands) == 1 && cands[0].desc.Platform == nil {
			pick = &cands[0] // checked against the config below
		}
	case len(cands) == 1:
		pick = &cands[0]
	default:
		host := hostPlatform()
		for i := range cands {
			if cands[i].desc.Platform != nil && host.matches(*cands[i].desc.Platform) {
				pick = &cands[i]
				break
			}
		}
	}
	if pick == nil {
		want := hostPlatform()
		if w.platform != nil {
			want = *w.platform
		}
		return nil, fmt.Errorf("no image for platform %s: the index holds %s (choose with --platform)", want, listCut(platforms, len(platforms)))
	}
	mdata, err := metaBlob(st, "image manifest", pick.desc.Digest, "the index")
	if err != nil {
		return nil, err
	}
	var m ociManifest
	if err := decodeJSON(mdata, "image manifest", &m); err != nil {
		return nil, err
	}
	cdata, err := metaBlob(st, "image config", m.Config.Digest, "its manifest")
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(cdata)
	if err != nil {
		return nil, err
	}
	if w.platform != nil && !w.platform.matches(cfg.Platform) {
		return nil, fmt.Errorf("no image for platform %s: the archive holds %s", w.platform, cutItem(cfg.Platform.String()))
	}
	c := &chosen{ref: pick.ref, id: m.Config.Digest, config: cfg, format: "oci", platforms: platforms, annotations: m.Annotations}
	if w.ref != "" {
		c.ref = w.ref
	}
	for i, l := range m.Layers {
		name, err := blobName(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if l.Size < 0 {
			return nil, fmt.Errorf("layer %d (%s): the manifest gives a size of %d bytes", i, l.Digest, l.Size)
		}
		c.layers = append(c.layers, layerRef{name: name, digest: l.Digest, size: l.Size, mediaType: l.MediaType})
	}
	return c, nil
}

// metaBlob reads the metadata blob with the given digest, which by (an
// index, a manifest) names as what, and checks its digest.
func metaBlob(st store, what, digest, by string) ([]byte, error) {
	name, err := blobName(digest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	data, err := st.meta(name)
	if errors.Is(err, errNotExist) {
		return nil, fmt.Errorf("the %s %s that %s names is missing: the archive has no %s", what, digest, by, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, digest, err)
	}
	if got := digestOf(data); got != digest {
		return nil, fmt.Errorf("%s: digest mismatch: content is %s, %s says %s", what, got, by, digest)
	}
	return data, nil
}

// candidateKey tells candidates, and the indexes walked for them, apart.
type candidateKey struct{ digest, ref, platform string }

// indexWalk walks an index, and the indexes it names, for image
// manifests. Each nested index is read once, however often it is named,
// and walked once for each reference it inherits: an index that names
// another thousands of times costs no more than one that names it once.
type indexWalk struct {
	ctx     context.Context
	st      store
	indexes map[string][]descriptor // nested indexes read, by digest
	seen    map[candidateKey]bool
	steps   int
	out     []candidate
}

// walk collects the image manifests of ds. Attestation manifests are not
// images. Manifests of other platforms may name blobs the archive lacks:
// only the chosen one is read.
func (wk *indexWalk) walk(ds []descriptor, ref string, depth int) error {
	if depth > maxIndexDepth {
		return errors.New("index nests too deep")
	}
	for _, d := range ds {
		if wk.steps++; wk.steps > maxIndexWalk {
			return fmt.Errorf("the index and the indexes it names hold more than %d entries", maxIndexWalk)
		}
		if wk.steps&255 == 0 {
			if err := wk.ctx.Err(); err != nil {
				return err
			}
		}
		r := ref
		if a := d.Annotations[annotationCtrRef]; a != "" {
			r = a
		} else if a := d.Annotations[annotationRef]; a != "" {
			r = a
		}
		if d.Annotations[annotationAttest] != "" || (d.Platform != nil && d.Platform.OS == "unknown") {
			continue
		}
		isIndex := d.MediaType == mediaOCIIndex || d.MediaType == mediaDockerList
		key := candidateKey{digest: d.Digest, ref: r}
		if !isIndex {
			key.platform = platformOf(candidate{desc: d})
		}
		if wk.seen[key] {
			continue // an index walked with this reference, or a manifest found
		}
		wk.seen[key] = true
		if isIndex {
			ds, err := wk.index(d.Digest)
			if err != nil {
				return err
			}
			if err := wk.walk(ds, r, depth+1); err != nil {
				return err
			}
			continue
		}
		if len(wk.out) >= maxCandidates {
			return fmt.Errorf("the index names more than %d image manifests", maxCandidates)
		}
		wk.out = append(wk.out, candidate{desc: d, ref: r})
	}
	return nil
}

// index reads the nested index with digest d, once.
func (wk *indexWalk) index(d string) ([]descriptor, error) {
	if ds, ok := wk.indexes[d]; ok {
		return ds, nil
	}
	if err := wk.ctx.Err(); err != nil {
		return nil, err
	}
	data, err := metaBlob(wk.st, "nested index", d, "an index")
	if err != nil {
		return nil, err
	}
	var idx ociIndex
	if err := decodeJSON(data, "nested index", &idx); err != nil {
		return nil, err
	}
	wk.indexes[d] = idx.Manifests
	return idx.Manifests, nil
}

func tagOf(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return ref
}

func distinctRefs(cs []candidate) []string {
	var refs []string
	seen := map[string]bool{}
	for _, c := range cs {
		if c.ref != "" && !seen[c.ref] {
			seen[c.ref] = true
			refs = append(refs, c.ref)
		}
	}
	return refs
}

func candRefs(cs []candidate) string {
	refs := distinctRefs(cs)
	if len(refs) == 0 {
		return "no named image"
	}
	return listCut(refs, len(refs))
}

func platformOf(c candidate) string {
	if c.desc.Platform == nil {
		return "(unspecified)"
	}
	return c.desc.Platform.String()
}
