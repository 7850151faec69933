package image

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	dimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/authn"
)

func TestIsPrefix(t *testing.T) {
	for _, tc := range []struct {
		name        string
		base, chain []string
		want        bool
	}{
		{"a proper prefix", []string{"a"}, []string{"a", "b"}, true},
		{"the same chain", []string{"a", "b"}, []string{"a", "b"}, true},
		{"longer than the image", []string{"a", "b", "c"}, []string{"a", "b"}, false},
		{"another first layer", []string{"x"}, []string{"a", "b"}, false},
		{"no layers is no base", nil, []string{"a"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsPrefix(tc.base, tc.chain); got != tc.want {
				t.Errorf("IsPrefix(%q, %q) = %v", tc.base, tc.chain, got)
			}
		})
	}
}

// listingDaemon lists and inspects images from memory.
type listingDaemon struct {
	images []dimage.InspectResponse
	asked  []string // the refs ImageInspect was asked for
}

func (d *listingDaemon) ImageList(context.Context, dimage.ListOptions) ([]dimage.Summary, error) {
	var out []dimage.Summary
	for _, i := range d.images {
		out = append(out, dimage.Summary{ID: i.ID, RepoTags: i.RepoTags, Size: i.Size})
	}
	return append(out, dimage.Summary{ID: "sha256:gone"}), nil // removed since the list
}
func (d *listingDaemon) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (dimage.InspectResponse, error) {
	d.asked = append(d.asked, ref)
	for _, i := range d.images {
		if i.ID == ref || slices.Contains(i.RepoTags, ref) || slices.Contains(i.RepoDigests, ref) {
			return i, nil
		}
	}
	return dimage.InspectResponse{}, cerrdefs.ErrNotFound
}
func (d *listingDaemon) ImageSave(context.Context, []string, ...client.ImageSaveOption) (io.ReadCloser, error) {
	panic("the base search must not export")
}
func (d *listingDaemon) Ping(context.Context) (types.Ping, error) {
	return types.Ping{APIVersion: "1.41"}, nil
}
func (d *listingDaemon) ClientVersion() string { return "1.41" }
func (d *listingDaemon) DaemonHost() string    { return "unix:///fake.sock" }

func TestDaemonBase(t *testing.T) {
	img := func(id string, tags []string, layers ...string) dimage.InspectResponse {
		return dimage.InspectResponse{ID: id, RepoTags: tags, RootFS: dimage.RootFS{Type: "layers", Layers: layers}}
	}
	self := img("sha256:self", []string{"app:1"}, "l0", "l1", "l2")
	for _, tc := range []struct {
		name   string
		images []dimage.InspectResponse
		want   string // "" for none
	}{
		{"the longest proper prefix", []dimage.InspectResponse{self, img("sha256:os", []string{"debian:12"}, "l0"), img("sha256:mid", []string{"mid:1"}, "l0", "l1")}, "mid:1"},
		{"not the image itself, nor the same chain", []dimage.InspectResponse{self, img("sha256:twin", []string{"twin:1"}, "l0", "l1", "l2")}, ""},
		{"not an image that differs", []dimage.InspectResponse{self, img("sha256:fork", []string{"fork:1"}, "l0", "lx")}, ""},
		{"a tie goes to a tagged image", []dimage.InspectResponse{self, img("sha256:aaa", nil, "l0"), img("sha256:bbb", []string{"<none>:<none>"}, "l0"), img("sha256:ccc", []string{"z:1", "b:1"}, "l0")}, "b:1"},
		{"untagged: named by its ID", []dimage.InspectResponse{self, img("sha256:aaa", nil, "l0")}, "sha256:aaa"},
		{"an empty image is no base", []dimage.InspectResponse{self, img("sha256:scratch", []string{"scratch:1"})}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			image := &Image{ID: self.ID, Source: SourceDocker}
			for _, l := range self.RootFS.Layers {
				image.Layers = append(image.Layers, Layer{Digest: l})
			}
			c, err := DaemonBase(ctx, image, Options{Daemon: &listingDaemon{images: tc.images}})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if c != nil {
				got = c.Name
			}
			if got != tc.want {
				t.Errorf("base %q, want %q", got, tc.want)
			}
		})
	}
}

// historyDaemon is a listingDaemon that also counts each image's
// history entries, as the daemon's history call does.
type historyDaemon struct {
	listingDaemon
	history map[string]int
}

func (d *historyDaemon) ImageHistory(_ context.Context, id string, _ ...client.ImageHistoryOption) ([]dimage.HistoryResponseItem, error) {
	n, ok := d.history[id]
	if !ok {
		return nil, cerrdefs.ErrNotFound
	}
	return make([]dimage.HistoryResponseItem, n), nil
}

// The base the daemon gives carries its history count (the entries of
// the image that are the base's); a client that cannot count gives 0, not
// known.
func TestDaemonBaseHistory(t *testing.T) {
	self := dimage.InspectResponse{ID: "sha256:self", RepoTags: []string{"app:1"}, RootFS: dimage.RootFS{Layers: []string{"l0", "l1"}}}
	base := dimage.InspectResponse{ID: "sha256:base", RepoTags: []string{"base:1"}, RootFS: dimage.RootFS{Layers: []string{"l0"}}}
	img := &Image{ID: self.ID, Source: SourceDocker, Layers: []Layer{{Digest: "l0"}, {Digest: "l1"}}}
	for _, tc := range []struct {
		name string
		cli  DaemonClient
		want int
	}{
		{"counted", &historyDaemon{listingDaemon{images: []dimage.InspectResponse{self, base}}, map[string]int{"sha256:base": 3}}, 3},
		{"not counted", &listingDaemon{images: []dimage.InspectResponse{self, base}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DaemonBase(context.Background(), img, Options{Daemon: tc.cli})
			if err != nil || c == nil {
				t.Fatalf("got %+v, %v", c, err)
			}
			if c.History != tc.want {
				t.Errorf("history %d, want %d", c.History, tc.want)
			}
		})
	}
}

// A client that cannot list (DaemonClient alone) finds no base, and
// fails nothing.
func TestDaemonBaseWithoutList(t *testing.T) {
	image := &Image{ID: "sha256:self", Source: SourceDocker, Layers: []Layer{{Digest: "l0"}, {Digest: "l1"}}}
	c, err := DaemonBase(context.Background(), image, Options{Daemon: &fakeDaemon{}})
	if c != nil || err != nil {
		t.Fatalf("got %+v, %v", c, err)
	}
}

// The manifest's base annotations, looked up in the daemon: by
// name@digest first (the version the image was built on), then by name.
// The annotations are the image's text: a name that is not a reference
// (../ climbs the daemon's API path to any endpoint, or a registry host
// the daemon then contacts) or a digest that is not sha256 and 64 hex
// digits is never asked for, and a warning says so.
func TestAnnotatedBaseInTheDaemon(t *testing.T) {
	old, other := "sha256:"+strings.Repeat("0a", 32), "sha256:"+strings.Repeat("b1", 32)
	byDigest := dimage.InspectResponse{ID: "sha256:old", RepoDigests: []string{"reg.example/base@" + old}, RootFS: dimage.RootFS{Layers: []string{"l0"}}}
	byName := dimage.InspectResponse{ID: "sha256:new", RepoTags: []string{"reg.example/base:1"}, RootFS: dimage.RootFS{Layers: []string{"n0"}}}
	hub := dimage.InspectResponse{ID: "sha256:hub", RepoTags: []string{"layerscope-test/base:1"}, RootFS: dimage.RootFS{Layers: []string{"h0"}}}
	const invalid = "is not a valid image reference: not looked up"
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		images      []dimage.InspectResponse
		wantID      string
		wantAsked   []string
		warning     string
	}{
		{"name@digest first", map[string]string{AnnotationBaseName: "reg.example/base:1", AnnotationBaseDigest: old}, []dimage.InspectResponse{byName, byDigest}, "sha256:old",
			[]string{"reg.example/base@" + old}, ""},
		{"else the name", map[string]string{AnnotationBaseName: "reg.example/base:1", AnnotationBaseDigest: other}, []dimage.InspectResponse{byName, byDigest}, "sha256:new",
			[]string{"reg.example/base@" + other, "reg.example/base:1"}, ""},
		{"a Docker Hub name, as the daemon names it", map[string]string{AnnotationBaseName: "docker.io/layerscope-test/base:1"}, []dimage.InspectResponse{hub}, "sha256:hub",
			[]string{"layerscope-test/base:1"}, ""},
		{"not at hand", map[string]string{AnnotationBaseName: "reg.example/other:1"}, []dimage.InspectResponse{byName}, "", []string{"reg.example/other:1"}, ""},
		{"no annotations", nil, []dimage.InspectResponse{byName}, "", nil, ""},
		{"a name no reference can be", map[string]string{AnnotationBaseName: strings.Repeat("x", maxRefLen+1)}, []dimage.InspectResponse{byName}, "", nil, invalid},
		{"../ in the name: never asked", map[string]string{AnnotationBaseName: "../distribution/127.0.0.1:5999/evil/x:1", AnnotationBaseDigest: old},
			[]dimage.InspectResponse{byName}, "", nil, AnnotationBaseName + " " + invalid},
		{"an API path in the name: never asked", map[string]string{AnnotationBaseName: "../../v1.41/containers/create"}, []dimage.InspectResponse{byName}, "", nil, invalid},
		{"a query in the name: never asked", map[string]string{AnnotationBaseName: "reg.example/base:1?x=y"}, []dimage.InspectResponse{byName}, "", nil, invalid},
		{"a digest with a path: the name alone", map[string]string{AnnotationBaseName: "reg.example/base:1", AnnotationBaseDigest: "sha256:../../x"},
			[]dimage.InspectResponse{byName}, "sha256:new", []string{"reg.example/base:1"}, AnnotationBaseDigest + " " + invalid},
		{"a digest alone that is not one: nothing asked", map[string]string{AnnotationBaseDigest: "sha512:" + strings.Repeat("0a", 64)}, []dimage.InspectResponse{byName}, "", nil, invalid},
		{"an uppercase digest: not one", map[string]string{AnnotationBaseName: "reg.example/base:1", AnnotationBaseDigest: strings.ToUpper(old)},
			[]dimage.InspectResponse{byName}, "sha256:new", []string{"reg.example/base:1"}, invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := &Image{Source: SourceOCIArchive, Annotations: tc.annotations}
			d := &listingDaemon{images: tc.images}
			c, warning, err := AnnotatedBase(context.Background(), img, Options{Daemon: d})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if c != nil {
				got = c.ID
				if c.Name != cmp.Or(tc.annotations[AnnotationBaseName], tc.annotations[AnnotationBaseDigest]) {
					t.Errorf("named %q, want the annotation's name", c.Name)
				}
			}
			if got != tc.wantID {
				t.Errorf("base %q, want %q", got, tc.wantID)
			}
			if !slices.Equal(d.asked, tc.wantAsked) {
				t.Errorf("the daemon was asked for %q, want %q", d.asked, tc.wantAsked)
			}
			if (tc.warning == "") != (warning == "") || !strings.Contains(warning, tc.warning) || strings.Contains(warning, "\n") {
				t.Errorf("warning %q, want one line with %q", warning, tc.warning)
			}
		})
	}
}

// In CI a --base without a registry host that the daemon does not have is
// not read from Docker Hub in its place (the image argument's rule), and
// the error says how to ask for it.
func TestReadChainNoHubFallbackInCI(t *testing.T) {
	_, err := ReadChain(context.Background(), "layerscope-test/nothere:1", Options{Keychain: authn.NewMultiKeychain(), Daemon: &listingDaemon{}, NoRegistryFallback: true})
	if err == nil || !strings.Contains(err.Error(), "in CI mode a name without a registry host is not read from Docker Hub") {
		t.Fatalf("err = %v, want the CI-mode refusal", err)
	}
}

// A base in a registry: its chain comes from the manifest and config, no
// layer is fetched; so is a --base with a registry host that the daemon
// does not have, in CI or not (the image argument's rule).
func TestReadChainFromRegistry(t *testing.T) {
	f := newFakeRegistry()
	var m struct {
		Config struct{ Digest string }
	}
	if err := json.Unmarshal(f.manifest, &m); err != nil {
		t.Fatal(err)
	}
	var layerFetches atomic.Int32
	f.fault = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/blobs/") && path.Base(r.URL.Path) != m.Config.Digest {
			layerFetches.Add(1)
		}
		return false
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(f.blobs[m.Config.Digest], &cfg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, arg string
		opt       Options
	}{
		{"registry://", "registry://" + host + "/app:1", Options{Keychain: authn.NewMultiKeychain()}},
		{"--source registry, by digest", host + "/app@" + digestOf(f.manifest), Options{Keychain: authn.NewMultiKeychain(), Source: SourceRegistry}},
		{"not in the daemon: its registry", host + "/app:1", Options{Keychain: authn.NewMultiKeychain(), Daemon: &listingDaemon{}}},
		{"not in the daemon, in CI: a registry host is read from its registry all the same", host + "/app:1",
			Options{Keychain: authn.NewMultiKeychain(), Daemon: &listingDaemon{}, NoRegistryFallback: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layerFetches.Store(0)
			c, err := ReadChain(context.Background(), tc.arg, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.DiffIDs, cfg.RootFS.DiffIDs) || c.ID != m.Config.Digest {
				t.Errorf("chain %+v, want %q, id %s", c, cfg.RootFS.DiffIDs, m.Config.Digest)
			}
			if n := layerFetches.Load(); n != 0 {
				t.Errorf("%d layer blobs fetched, want none", n)
			}
		})
	}
}
