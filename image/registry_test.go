package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// fakeRegistry serves one image, gzip layers, as the distribution API
// does; fault, when set, answers a request first.
type fakeRegistry struct {
	manifest []byte
	blobs    map[string][]byte
	fault    func(w http.ResponseWriter, r *http.Request) bool
}

func newFakeRegistry() *fakeRegistry {
	noise := make([]byte, 64<<10) // incompressible: the blob is as big
	rand.NewChaCha8([32]byte{1}).Read(noise)
	tarball := it.Layer(it.Reg("app/big.bin", string(noise)), it.Reg("etc/motd", "hi"))
	layer := it.GzipBytes(tarball)
	diff := digestOf(tarball)
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diff}},
		"history": []map[string]any{{"created_by": "COPY . /app"}},
	})
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mediaOCIManifest,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(cfg), "size": len(cfg)},
		"layers": []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digestOf(layer), "size": len(layer)}},
	})
	return &fakeRegistry{manifest: m, blobs: map[string][]byte{digestOf(cfg): cfg, digestOf(layer): layer}}
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.fault != nil && f.fault(w, r) {
		return
	}
	switch p := r.URL.Path; {
	case p == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(p, "/v2/app/manifests/"):
		w.Header().Set("Content-Type", mediaOCIManifest)
		w.Write(f.manifest)
	case strings.HasPrefix(p, "/v2/app/blobs/"):
		b, ok := f.blobs[p[len("/v2/app/blobs/"):]]
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`, http.StatusNotFound)
			return
		}
		w.Write(b)
	default:
		http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`, http.StatusNotFound)
	}
}

func registryErr(status int, body string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v2/" && status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		}
		if status == http.StatusUnauthorized || r.URL.Path != "/v2/" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(body))
			return true
		}
		return false
	}
}

func TestRegistryLoad(t *testing.T) {
	f := newFakeRegistry()
	srv := httptest.NewServer(f)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, arg := range []string{"registry://" + host + "/app:1", host + "/app@" + digestOf(f.manifest)} {
		t.Run(arg, func(t *testing.T) {
			opt := Options{Keychain: authn.NewMultiKeychain()}
			if !strings.HasPrefix(arg, registryScheme) {
				opt.Source = SourceRegistry
			}
			img, err := Load(context.Background(), arg, opt)
			if err != nil {
				t.Fatal(err)
			}
			if img.Source != SourceRegistry || len(img.Layers) != 1 || img.Layers[0].BlobBytes == 0 || img.Layers[0].Changes.Entries == nil {
				t.Errorf("got source %q, layers %+v", img.Source, img.Layers)
			}
		})
	}
}

func TestRegistryErrors(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(http.ResponseWriter, *http.Request) bool
		tls     bool
		prepare func(*fakeRegistry)
		ref     string // "" is HOST/app:1
		want    string
	}{
		{name: "login", fault: registryErr(http.StatusUnauthorized, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`), want: "wants a login for app (or has no such repository): run docker login 127.0.0.1:"},
		{name: "denied", fault: registryErr(http.StatusForbidden, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`), want: "denies access to app"},
		{name: "no tag", fault: registryErr(http.StatusNotFound, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`), want: "/app:1: no such repository or tag"},
		{name: "no repository", ref: "HOST/other:1", want: "has no repository other"},
		{name: "rate limit", fault: registryErr(http.StatusTooManyRequests, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`), want: "limits requests, and this pull went over its limit (429 Too Many Requests)"},
		{name: "missing blob", prepare: func(f *fakeRegistry) {
			for d, b := range f.blobs {
				if !strings.HasPrefix(string(b), "{") {
					delete(f.blobs, d)
				}
			}
		}, want: "lacks the blob sha256:"},
		{name: "manifest by digest, other bytes", ref: "HOST/app@sha256:" + strings.Repeat("0", 64), want: "digest mismatch: the manifest it sent for sha256:0000"},
		{name: "untrusted certificate", tls: true, want: "signed by an authority this machine does not trust"},
		{name: "unknown host", ref: "no-such-host.invalid/app:1", want: `"no-such-host.invalid"`},
		{name: "nothing listens", ref: "127.0.0.1:1/app:1", want: "cannot reach the registry 127.0.0.1:1"},
		{name: "bad reference", ref: "HOST/App:1", want: "is not an image reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRegistry()
			if tc.prepare != nil {
				tc.prepare(f)
			}
			f.fault = tc.fault
			srv := httptest.NewUnstartedServer(f)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			host := srv.Listener.Addr().String()
			ref := tc.ref
			if ref == "" {
				ref = "HOST/app:1"
			}
			ref = strings.ReplaceAll(ref, "HOST", host)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Load(ctx, ref, Options{Source: SourceRegistry, Keychain: authn.NewMultiKeychain()})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line with %q", err, tc.want)
			}
		})
	}
}

func TestRegistryStall(t *testing.T) {
	defer func(d time.Duration) { registryStallTimeout = d }(registryStallTimeout)
	registryStallTimeout = 300 * time.Millisecond
	tests := []struct {
		name  string
		stall func(f *fakeRegistry, r *http.Request) []byte // what to send before stalling, nil: answer normally
	}{
		{"layer", func(f *fakeRegistry, r *http.Request) []byte {
			if b, ok := f.blobs[strings.TrimPrefix(r.URL.Path, "/v2/app/blobs/")]; ok && len(b) > 1000 {
				return b[:500]
			}
			return nil
		}},
		{"manifest", func(f *fakeRegistry, r *http.Request) []byte {
			if strings.Contains(r.URL.Path, "/manifests/") {
				return f.manifest[:10]
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRegistry()
			release := make(chan struct{})
			f.fault = func(w http.ResponseWriter, r *http.Request) bool {
				head := tc.stall(f, r)
				if head == nil {
					return false
				}
				w.Write(head)
				w.(http.Flusher).Flush()
				<-release // and send nothing more
				return true
			}
			srv := httptest.NewServer(f)
			defer srv.Close()
			defer close(release) // before the server waits for its handlers
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := Load(ctx, srv.Listener.Addr().String()+"/app:1", Options{Source: SourceRegistry, Keychain: authn.NewMultiKeychain()})
			if err == nil || !strings.Contains(err.Error(), "stopped sending") || ctx.Err() != nil {
				t.Errorf("got %v, want the registry's stall named before the test's deadline", err)
			}
		})
	}
}

// TestRegistryStalledErrorReply: a registry that starts an error reply
// and stops sending is an error after the stall time, not a hang.
func TestRegistryStalledErrorReply(t *testing.T) {
	defer func(d time.Duration) { registryStallTimeout = d }(registryStallTimeout)
	registryStallTimeout = 300 * time.Millisecond
	f := newFakeRegistry()
	release := make(chan struct{})
	f.fault = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"errors":[`))
		w.(http.Flusher).Flush()
		<-release
		return true
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Load(ctx, srv.Listener.Addr().String()+"/app:1", Options{Source: SourceRegistry, Keychain: authn.NewMultiKeychain()})
	if err == nil || !strings.Contains(err.Error(), "stopped sending") || ctx.Err() != nil {
		t.Errorf("got %v, want the stall named before the test's deadline", err)
	}
}

func TestPlainHTTPAllowed(t *testing.T) {
	tests := []struct {
		host     string
		insecure []string
		want     bool
	}{
		{"localhost:5000", nil, true},
		{"127.0.0.1:5000", nil, true},
		{"[::1]:5000", nil, true},
		{"192.168.1.10:5000", nil, false}, // go-containerregistry would allow it
		{"registry.local", nil, false},
		{"reg.lan:5000", []string{"reg.lan:5000"}, true},
		{"reg.lan:5000", []string{"reg.lan"}, true},
		{"reg.lan:5001", []string{"reg.lan:5000"}, false},
		{"ghcr.io", nil, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.host, tc.insecure), func(t *testing.T) {
			if got := plainHTTPAllowed(tc.host, tc.insecure); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPlainHTTPGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	g := &plainHTTPGuard{inner: http.DefaultTransport, host: "reg.lan"}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, err := g.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "plain HTTP refused") {
		t.Errorf("got %v, want plain HTTP refused", err)
	}
	g.allowed = true
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestLoginCommand(t *testing.T) {
	for host, want := range map[string]string{
		"index.docker.io": "docker login",
		"docker.io":       "docker login",
		"ghcr.io":         "docker login ghcr.io",
		"127.0.0.1:5000":  "docker login 127.0.0.1:5000",
	} {
		t.Run(host, func(t *testing.T) {
			if got := loginCommand(host); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestRegistryRetries: a request the registry fails in passing (a 5xx
// reply; a connection reset before the reply, or before the first byte
// of its body) is sent again, three times in all; a failure that is not
// passing (a 404), or after a body's first byte, is not.
func TestRegistryRetries(t *testing.T) {
	defer func(d time.Duration) { registryRetryWait = d }(registryRetryWait)
	registryRetryWait = 10 * time.Millisecond
	isLayer := func(f *fakeRegistry, r *http.Request) bool {
		b, ok := f.blobs[strings.TrimPrefix(r.URL.Path, "/v2/app/blobs/")]
		return ok && len(b) > 1000
	}
	isManifest := func(_ *fakeRegistry, r *http.Request) bool { return strings.Contains(r.URL.Path, "/manifests/") }
	isPing := func(_ *fakeRegistry, r *http.Request) bool { return r.URL.Path == "/v2/" }
	status := func(code int) func(*fakeRegistry, http.ResponseWriter, *http.Request) {
		return func(_ *fakeRegistry, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write([]byte(`{"errors":[{"code":"UNKNOWN","message":"try again"}]}`))
		}
	}
	reset := func(_ *fakeRegistry, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0) // a reset, not a close
		conn.Close()
	}
	headersOnly := func(f *fakeRegistry, w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		b := f.blobs[strings.TrimPrefix(r.URL.Path, "/v2/app/blobs/")]
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", len(b))
		conn.Close() // before the body's first byte
	}
	partBody := func(f *fakeRegistry, w http.ResponseWriter, r *http.Request) {
		b := f.blobs[strings.TrimPrefix(r.URL.Path, "/v2/app/blobs/")]
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}
	tests := []struct {
		name  string
		match func(*fakeRegistry, *http.Request) bool
		fail  func(*fakeRegistry, http.ResponseWriter, *http.Request)
		times int    // the first times requests that match fail
		tries int    // requests that match, in all (at least, after a reset: Go's transport may send once more)
		err   string // "" when the image loads
	}{
		{"manifest: 503 twice", isManifest, status(http.StatusServiceUnavailable), 2, 3, ""},
		{"layer: 502 twice", isLayer, status(http.StatusBadGateway), 2, 3, ""},
		{"ping: reset twice", isPing, reset, 2, 3, ""},
		{"layer: reset before the reply twice", isLayer, reset, 2, 3, ""},
		{"layer: closed before the body twice", isLayer, headersOnly, 2, 3, ""},
		{"layer: 503 every time", isLayer, status(http.StatusServiceUnavailable), 9, 3, "503"},
		{"layer: reset every time", isLayer, reset, 9, 3, "the registry 127.0.0.1:"},
		{"layer: 404 is not passing", isLayer, status(http.StatusNotFound), 9, 1, "lacks the blob sha256:"},
		{"layer: closed within the body", isLayer, partBody, 9, 1, "closed the connection in the middle of the pull"},
	}
	want, err := Load(context.Background(), "registry://"+registryHost(t, newFakeRegistry())+"/app:1", Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	entries := len(want.Layers[0].Changes.Entries)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRegistry()
			var mu sync.Mutex
			seen := 0
			f.fault = func(w http.ResponseWriter, r *http.Request) bool {
				if !tc.match(f, r) {
					return false
				}
				mu.Lock()
				seen++
				n := seen
				mu.Unlock()
				if n > tc.times {
					return false
				}
				tc.fail(f, w, r)
				return true
			}
			srv := httptest.NewServer(f)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			img, err := Load(ctx, srv.Listener.Addr().String()+"/app:1", Options{Source: SourceRegistry, Keychain: authn.NewMultiKeychain()})
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("got %v, want the image after the retries", err)
			case tc.err == "" && (len(img.Layers) != 1 || len(img.Layers[0].Changes.Entries) != entries):
				t.Errorf("got layers %+v", img.Layers)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n")):
				t.Errorf("got %v, want one line with %q", err, tc.err)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen != tc.tries && !(strings.Contains(tc.name, "reset") && seen > tc.tries) {
				t.Errorf("%d requests, want %d", seen, tc.tries)
			}
		})
	}
}

// TestRegistryRetryWaitCancelled: a wait before a retry ends with the
// read's context.
func TestRegistryRetryWaitCancelled(t *testing.T) {
	defer func(d time.Duration) { registryRetryWait = d }(registryRetryWait)
	registryRetryWait = time.Hour
	f := newFakeRegistry()
	f.fault = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Load(ctx, srv.Listener.Addr().String()+"/app:1", Options{Source: SourceRegistry, Keychain: authn.NewMultiKeychain()})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("got the image, want the read interrupted")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the wait before a retry outlived its context")
	}
}

// registryHost serves f until the test ends.
func registryHost(t *testing.T, f *fakeRegistry) string {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestNamesRegistryHost(t *testing.T) {
	for ref, want := range map[string]bool{
		"ghcr.io/org/app:1":       true,
		"localhost:5000/app":      true,
		"localhost/app":           true,
		"127.0.0.1:5000/app":      true,
		"reg.lan/team/app@sha256": true,
		"docker.io/library/app":   true,
		"myapp":                   false,
		"myapp:1.0":               false,
		"library/alpine":          false,
		"org/app:1":               false,
		"localhostx/app":          false,
	} {
		t.Run(ref, func(t *testing.T) {
			if got := namesRegistryHost(ref); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
