package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
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
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("bad platform %q: want os/arch[/variant]", s)
	}
	p := &Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func (p Platform) matches(q Platform) bool {
	return p.OS == q.OS && p.Architecture == q.Architecture && (p.Variant == "" || q.Variant == "" || p.Variant == q.Variant)
}

// resolveDocker picks an image out of a `docker save` manifest.json.
func resolveDocker(st store, w want) (*chosen, error) {
	data, err := st.meta("manifest.json")
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
		return nil, fmt.Errorf("no image for platform %s: the archive holds %s", w.platform, cfg.Platform)
	}
	for _, l := range m.Layers {
		name, err := cleanName(l)
		if err != nil {
			return nil, err
		}
		ref := layerRef{name: name}
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
	}
	return strings.Join(refs, ", ")
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

// resolveOCI picks an image out of an OCI layout's index.json.
func resolveOCI(st store, w want) (*chosen, error) {
	data, err := st.meta("index.json")
	if err != nil {
		return nil, err
	}
	var idx ociIndex
	if err := decodeJSON(data, "index.json", &idx); err != nil {
		return nil, err
	}
	var cands []candidate
	if err := collect(st, idx.Manifests, "", 0, &cands); err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("archive holds %d images (%s): pick one with FILE:REF", len(refs), strings.Join(refs, ", "))
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
		return nil, fmt.Errorf("no image for platform %s: the index holds %s (choose with --platform)", want, strings.Join(platforms, ", "))
	}
	mname, err := blobName(pick.desc.Digest)
	if err != nil {
		return nil, err
	}
	mdata, err := st.meta(mname)
	if err != nil {
		return nil, fmt.Errorf("image manifest: %w", err)
	}
	if d := digestOf(mdata); d != pick.desc.Digest {
		return nil, fmt.Errorf("image manifest: digest mismatch: content is %s, index says %s", d, pick.desc.Digest)
	}
	var m ociManifest
	if err := decodeJSON(mdata, "image manifest", &m); err != nil {
		return nil, err
	}
	cname, err := blobName(m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cdata, err := st.meta(cname)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if d := digestOf(cdata); d != m.Config.Digest {
		return nil, fmt.Errorf("image config: digest mismatch: content is %s, manifest says %s", d, m.Config.Digest)
	}
	cfg, err := parseConfig(cdata)
	if err != nil {
		return nil, err
	}
	if w.platform != nil && !w.platform.matches(cfg.Platform) {
		return nil, fmt.Errorf("no image for platform %s: the archive holds %s", w.platform, cfg.Platform)
	}
	c := &chosen{ref: pick.ref, id: m.Config.Digest, config: cfg, format: "oci", platforms: platforms}
	if w.ref != "" {
		c.ref = w.ref
	}
	for _, l := range m.Layers {
		name, err := blobName(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer: %w", err)
		}
		c.layers = append(c.layers, layerRef{name: name, digest: l.Digest, mediaType: l.MediaType})
	}
	return c, nil
}

// collect walks an index, and the indexes it names, for image manifests.
// Attestation manifests are not images. Manifests of other platforms may
// name blobs the archive lacks: only the chosen one is read.
func collect(st store, ds []descriptor, ref string, depth int, out *[]candidate) error {
	if depth > maxIndexDepth {
		return errors.New("index nests too deep")
	}
	for _, d := range ds {
		r := ref
		if a := d.Annotations[annotationCtrRef]; a != "" {
			r = a
		} else if a := d.Annotations[annotationRef]; a != "" {
			r = a
		}
		if d.Annotations[annotationAttest] != "" || (d.Platform != nil && d.Platform.OS == "unknown") {
			continue
		}
		if d.MediaType == mediaOCIIndex || d.MediaType == mediaDockerList {
			name, err := blobName(d.Digest)
			if err != nil {
				return err
			}
			data, err := st.meta(name)
			if err != nil {
				return fmt.Errorf("nested index: %w", err)
			}
			if got := digestOf(data); got != d.Digest {
				return fmt.Errorf("nested index: digest mismatch: content is %s, index says %s", got, d.Digest)
			}
			var idx ociIndex
			if err := decodeJSON(data, "nested index", &idx); err != nil {
				return err
			}
			if err := collect(st, idx.Manifests, r, depth+1, out); err != nil {
				return err
			}
			continue
		}
		*out = append(*out, candidate{desc: d, ref: r})
	}
	return nil
}

func tagOf(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return ref
}

func distinctRefs(cs []candidate) []string {
	var refs []string
	for _, c := range cs {
		if c.ref != "" && !slices.Contains(refs, c.ref) {
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
	return strings.Join(refs, ", ")
}

func platformOf(c candidate) string {
	if c.desc.Platform == nil {
		return "(unspecified)"
	}
	return c.desc.Platform.String()
}
