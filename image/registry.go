package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryScheme is the prefix that names an image in its registry:
// registry://REF.
const registryScheme = "registry://"

// Media types a registry may answer a manifest request with.
const (
	mediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerSchema1  = "application/vnd.docker.distribution.manifest.v1+json"
	mediaSchema1Signed  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

var manifestAccept = strings.Join([]string{mediaOCIIndex, mediaDockerList, mediaOCIManifest, mediaDockerManifest}, ", ")

// Bounds on a registry's answers: a connection that takes longer to open,
// or a body that sends nothing for this long, is given up.
const (
	registryDialTimeout         = 30 * time.Second
	registryHeaderWait          = 60 * time.Second
	registryStallTimeoutDefault = 60 * time.Second
)

// registryStallTimeout is registryStallTimeoutDefault; tests lower it.
var registryStallTimeout = registryStallTimeoutDefault

// openRegistry connects to ref's registry with the keychain's login for
// it, reads ref's manifest (checked against ref's digest, when ref names
// one) and makes the store its blobs are read through. The caller closes
// the client.
func openRegistry(ctx context.Context, ref string, opt Options, prog *Progress, ps *parsing) (*remoteStore, *registryClient, name.Reference, error) {
	r, err := parseRegistryRef(ref, opt.InsecureRegistries)
	if err != nil {
		return nil, nil, nil, err
	}
	host := r.Context().RegistryStr()
	prog.setPhase("connecting to the registry " + host)
	kc := opt.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := kc.Resolve(r.Context())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the credentials for %s: %w", host, err)
	}
	loggedIn := false
	if ac, err := auth.Authorization(); err == nil && *ac != (authn.AuthConfig{}) {
		loggedIn = true
	}
	certs, err := registryTLS(host)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := newRegistryClient(ctx, r, auth, certs, opt)
	if err != nil {
		return nil, nil, nil, registryError(ctx, r, loggedIn, certs, err)
	}
	c.loggedIn = loggedIn
	fail := func(err error) (*remoteStore, *registryClient, name.Reference, error) {
		c.close()
		return nil, nil, nil, err
	}
	prog.setPhase("reading the manifest of " + ref)
	data, mt, err := c.manifest(ctx, r.Identifier())
	if err != nil {
		return fail(registryError(ctx, r, loggedIn, certs, err))
	}
	if d, ok := r.(name.Digest); ok && digestOf(data) != d.DigestStr() {
		return fail(fmt.Errorf("the registry %s: digest mismatch: the manifest it sent for %s is %s", host, d.DigestStr(), digestOf(data)))
	}
	st, err := newRemoteStore(ctx, c, data, mt, prog, ps)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", r, err))
	}
	return st, c, r, nil
}

// registryFetchers is how many layers are fetched, and parsed, at once:
// one per core as the daemon's stream has (so memory is bounded as
// there), at least two so that one slow download does not stall the rest.
func registryFetchers() int { return max(2, min(runtime.GOMAXPROCS(0), 6)) }

// loadRegistry reads the image ref names from its registry, without a
// daemon: manifests and config through a size limit, layers streamed,
// parsed as they arrive, never written anywhere. note, when not "", says
// why the registry was asked (the daemon lacked the image).
func loadRegistry(ctx context.Context, ref string, opt Options, ps *parsing, note string) (*Image, error) {
	st, c, r, err := openRegistry(ctx, ref, opt, opt.Progress, ps)
	if err != nil {
		return nil, err
	}
	defer c.close()
	fo := opt
	fo.Source = SourceOCI
	location := r.Context().String()
	if note != "" {
		location += " (" + note + ")"
	}
	img, err := finish(ctx, st, want{platform: opt.Platform}, fo, location, SourceOCI)
	if err != nil {
		return nil, err
	}
	img.Source, img.Ref = SourceRegistry, ref
	for i := range img.Layers {
		if l := &img.Layers[i]; l.BlobDigest == "" { // an uncompressed blob: still what a pull moves
			l.BlobDigest, l.BlobBytes = l.Digest, l.TarBytes
		}
	}
	return img, nil
}

// parseRegistryRef reads a reference as docker pull does: docker.io and
// library/ are implied, and :latest. Plain HTTP is allowed for localhost,
// 127.0.0.1, ::1 and the hosts of --insecure-registry only.
func parseRegistryRef(ref string, insecure []string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%q is not an image reference: %w", ref, err)
	}
	if plainHTTPAllowed(r.Context().RegistryStr(), insecure) {
		r, err = name.ParseReference(ref, name.Insecure)
		if err != nil {
			return nil, fmt.Errorf("%q is not an image reference: %w", ref, err)
		}
	}
	return r, nil
}

// plainHTTPAllowed reports a registry host that may be spoken to without
// TLS: a loopback name, or one the user named with --insecure-registry
// (as HOST or HOST:PORT).
func plainHTTPAllowed(hostport string, insecure []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	switch strings.Trim(host, "[]") {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	for _, h := range insecure {
		if h == hostport || h == host {
			return true
		}
	}
	return false
}

// registryClient speaks to one repository of a registry, authenticated as
// `docker login` left it (Docker's config.json and credential helpers).
type registryClient struct {
	ref      name.Reference
	loggedIn bool // credentials were found for the registry
	certs    *registryCerts
	repo     name.Repository
	http     *http.Client
	base     *http.Transport
	stall    time.Duration
}

func newRegistryClient(ctx context.Context, r name.Reference, auth authn.Authenticator, certs *registryCerts, opt Options) (*registryClient, error) {
	host := r.Context().RegistryStr()
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: registryDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       certs.config,
		TLSHandshakeTimeout:   registryDialTimeout,
		ResponseHeaderTimeout: registryHeaderWait,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   registryFetchers() + 2,
		IdleConnTimeout:       90 * time.Second,
	}
	var rt http.RoundTripper = &plainHTTPGuard{inner: &retryTransport{inner: certs.note(base)}, host: host, allowed: plainHTTPAllowed(host, opt.InsecureRegistries)}
	t, err := transport.NewWithContext(ctx, r.Context().Registry, auth, rt, []string{r.Scope(transport.PullScope)})
	if err != nil {
		base.CloseIdleConnections()
		return nil, err
	}
	return &registryClient{ref: r, certs: certs, repo: r.Context(), http: &http.Client{Transport: t}, base: base, stall: registryStallTimeout}, nil
}

func (c *registryClient) close() { c.base.CloseIdleConnections() }

var _ fetcher = (*registryClient)(nil)

func (c *registryClient) where() string { return "the registry " + c.repo.RegistryStr() }

func (c *registryClient) explain(ctx context.Context, err error) error {
	return registryError(ctx, c.ref, c.loggedIn, c.certs, err)
}

// plainHTTPGuard refuses plain HTTP to a registry that is not allowed it:
// go-containerregistry falls back to HTTP for private addresses too.
type plainHTTPGuard struct {
	inner   http.RoundTripper
	host    string
	allowed bool
}

// errPlainHTTP is a request without TLS to a registry not allowed one.
var errPlainHTTP = errors.New("plain HTTP refused")

func (g *plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowed {
		return nil, fmt.Errorf("%w to %s", errPlainHTTP, req.URL.Host)
	}
	return g.inner.RoundTrip(req)
}

// A request the registry fails in passing (a 5xx reply, or a connection
// reset before any byte of the body came) is sent again: registryTries
// times in all, after registryRetryWait, then twice that.
const registryTries = 3

// registryRetryWait is the first wait before a request is sent again;
// tests lower it.
var registryRetryWait = 250 * time.Millisecond

// retryTransport sends a GET or HEAD again when the registry fails it in
// passing. Once a byte of a body has been read, a failure is the caller's:
// what was read has gone on to the parser.
type retryTransport struct{ inner http.RoundTripper }

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) || (req.Body != nil && req.Body != http.NoBody) {
		return t.inner.RoundTrip(req)
	}
	return t.send(req, 1)
}

// send sends req as its try'th try, and again while it fails in passing.
func (t *retryTransport) send(req *http.Request, try int) (*http.Response, error) {
	for ; ; try++ {
		resp, err := t.inner.RoundTrip(req)
		last := try >= registryTries
		switch {
		case err != nil:
			if last || !resetEarly(err) {
				return nil, err
			}
		case transientStatus(resp.StatusCode) && !last:
			resp.Body.Close()
		default:
			if resp.StatusCode == http.StatusOK && req.Method == http.MethodGet && !last {
				resp.Body = &firstByteRetry{t: t, req: req, body: resp.Body, try: try}
			}
			return resp, nil
		}
		if err := sleepCtx(req.Context(), registryRetryWait<<(try-1)); err != nil {
			return nil, err
		}
	}
}

// transientStatus is a reply that may be different a moment later.
func transientStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// resetEarly is a connection that ended before a reply, or before the
// first byte of a body.
func resetEarly(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// firstByteRetry is a body that, when its connection is reset before its
// first byte, asks again and reads the new reply's body instead.
type firstByteRetry struct {
	t    *retryTransport
	req  *http.Request
	body io.ReadCloser
	try  int  // the try that body answers
	got  bool // a byte came: a failure from here on is the caller's
}

func (b *firstByteRetry) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if n > 0 {
		b.got = true
	}
	if err == nil || err == io.EOF || b.got || b.try >= registryTries || !resetEarly(err) {
		return n, err
	}
	b.body.Close()
	ctx := b.req.Context()
	if werr := sleepCtx(ctx, registryRetryWait<<(b.try-1)); werr != nil {
		return 0, werr
	}
	resp, rerr := b.t.send(b.req, b.try+1)
	switch {
	case rerr != nil && ctx.Err() != nil:
		return 0, ctx.Err()
	case rerr != nil:
		return 0, err // the reset says more than the retry's failure
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return 0, err
	}
	b.body, b.try = resp.Body, registryTries // the new body retries on its own
	return b.body.Read(p)
}

func (b *firstByteRetry) Close() error { return b.body.Close() }

// registryCerts is the TLS set-up for one registry host, read from its
// certs.d directories.
type registryCerts struct {
	config  *tls.Config
	clients []string          // the client certificates (*.cert), in order
	pairs   []tls.Certificate // and their pairs
	// asked is what the last handshake that asked for a client
	// certificate got: 0 none asked; askedNone none of clients (none
	// signed by a CA the server names); i+1 clients[i].
	asked atomic.Int32
	// answered is set by the first reply over TLS: the registry let this
	// client in, and a later failure is not a client certificate's.
	answered atomic.Bool
}

// note wraps inner to note a reply over TLS.
func (rc *registryCerts) note(inner http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := inner.RoundTrip(req)
		if err == nil && resp.TLS != nil {
			rc.answered.Store(true)
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

const askedNone = -1

// clientCertificate answers a server's request for a client certificate
// with the first pair that one of the CAs it names signed, as Go's own
// choice does, and notes which one went.
func (rc *registryCerts) clientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	for i := range rc.pairs {
		if cri.SupportsCertificate(&rc.pairs[i]) == nil {
			rc.asked.Store(int32(i + 1))
			return &rc.pairs[i], nil
		}
	}
	rc.asked.Store(askedNone)
	return &tls.Certificate{}, nil
}

// certsDirs are the certs.d roots that Docker and podman read, the user's
// first as containers/image has it.
func certsDirs() []string {
	var dirs []string
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config", "containers", "certs.d"))
	}
	return append(dirs, "/etc/containers/certs.d", "/etc/docker/certs.d")
}

// maxCertFile bounds a certificate or key file of certs.d.
const maxCertFile = 1 << 20

// registryTLS reads the TLS set-up for host as Docker and podman do, from
// certs.d/HOST[:PORT] in each of certsDirs: the system's CAs and every
// *.crt there are trusted; each *.cert is a client certificate (mutual TLS)
// whose key is the *.key of the same name beside it, and one without the
// other is an error. The server's request picks the pair that is sent (the
// first that its CAs signed). Nothing but that directory is read.
func registryTLS(host string) (*registryCerts, error) {
	rc := &registryCerts{config: &tls.Config{MinVersion: tls.VersionTLS12}}
	rc.config.GetClientCertificate = rc.clientCertificate
	if host == "" || host == "." || host == ".." || strings.ContainsAny(host, `/\`) {
		return rc, nil // not a directory name: certs.d is not read for it
	}
	for _, root := range certsDirs() {
		dir := filepath.Join(root, host)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // none for this host (or not ours to read), as Docker and podman take it
		}
		has := func(name string) bool {
			return slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == name })
		}
		for _, e := range entries {
			f := filepath.Join(dir, e.Name())
			switch base, ext := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), filepath.Ext(e.Name()); ext {
			case ".crt":
				pem, err := readCertFile(f)
				if err != nil {
					return nil, fmt.Errorf("reading the CA certificate %s: %w", f, err)
				}
				if rc.config.RootCAs == nil {
					if rc.config.RootCAs, _ = x509.SystemCertPool(); rc.config.RootCAs == nil {
						rc.config.RootCAs = x509.NewCertPool()
					}
				}
				if !rc.config.RootCAs.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("the CA certificate %s holds no PEM certificate", f)
				}
			case ".cert":
				key := filepath.Join(dir, base+".key")
				if !has(base + ".key") {
					return nil, fmt.Errorf("the client certificate %s has no key beside it (%s): put its key there, or name a CA certificate *.crt", f, key)
				}
				pair, err := readClientPair(f, key)
				if err != nil {
					return nil, err
				}
				rc.pairs = append(rc.pairs, pair)
				rc.clients = append(rc.clients, f)
			case ".key":
				if !has(base + ".cert") {
					return nil, fmt.Errorf("the client key %s has no certificate beside it (%s): a client pair is NAME.cert and NAME.key", f, filepath.Join(dir, base+".cert"))
				}
			}
		}
	}
	return rc, nil
}

// readClientPair reads a client certificate and its key. No error says
// anything of the key's content.
func readClientPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := readCertFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading the client certificate %s: %w", certFile, err)
	}
	key, err := readCertFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading the client key %s: %w", keyFile, err)
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("the client certificate %s and its key %s: %s", certFile, keyFile, firstLine(err.Error()))
	}
	return pair, nil
}

// readCertFile reads a regular file (a FIFO would wait for a writer)
// through maxCertFile.
func readCertFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCertFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCertFile {
		return nil, fmt.Errorf("larger than %d bytes", maxCertFile)
	}
	return data, nil
}

// get asks the registry for one object of the repository.
func (c *registryClient) get(ctx context.Context, kind, id, accept string) (*http.Response, error) {
	u := fmt.Sprintf("%s://%s/v2/%s/%s/%s", c.repo.Scheme(), c.repo.RegistryStr(), c.repo.RepositoryStr(), kind, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		// The reply's body says what went wrong; a registry that stops
		// sending it must not hold the run: the body is closed after
		// the stall time, which ends the read.
		t := time.AfterFunc(c.stall, func() { resp.Body.Close() })
		err := transport.CheckError(resp, http.StatusOK)
		stalled := !t.Stop()
		resp.Body.Close()
		if stalled {
			return nil, fmt.Errorf("%w for %s, in the middle of an error reply (HTTP %d)", errStalled, c.stall, resp.StatusCode)
		}
		return nil, err
	}
	return resp, nil
}

// manifest fetches a manifest or index by tag or digest, through the
// metadata limit, with the media type the registry gives it.
func (c *registryClient) manifest(ctx context.Context, id string) ([]byte, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.get(ctx, "manifests", id, manifestAccept)
	if err != nil {
		cancel()
		return nil, "", err
	}
	body := newStallReader(resp.Body, resp.Body, cancel, c.stall)
	defer body.Close()
	data, err := readLimited(body, "manifest "+id)
	if err != nil {
		return nil, "", err
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return data, strings.TrimSpace(mt), nil
}

// blob opens a blob's stream. The read stops after the registry sends
// nothing for c.stall, and at size+1 bytes, which tells a longer blob.
func (c *registryClient) blob(ctx context.Context, digest string, size int64) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.get(ctx, "blobs", digest, "")
	if err != nil {
		cancel()
		return nil, err
	}
	var r io.Reader = resp.Body
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	return newStallReader(r, resp.Body, cancel, c.stall), nil
}

// readLimited reads a metadata document through MaxJSON.
func readLimited(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if len(data) > MaxJSON {
		return nil, fmt.Errorf("%s is larger than %d bytes", what, MaxJSON)
	}
	return data, nil
}

// stallReader ends a read (by cancelling its request) when no byte has
// come for a while: a registry that stops sending is an error, not a hang.
type stallReader struct {
	r      io.Reader
	body   io.Closer
	cancel context.CancelFunc
	timer  *time.Timer
	wait   time.Duration
	mu     sync.Mutex
	fired  bool
}

func newStallReader(r io.Reader, body io.Closer, cancel context.CancelFunc, wait time.Duration) *stallReader {
	s := &stallReader{r: r, body: body, cancel: cancel, wait: wait}
	s.timer = time.AfterFunc(wait, func() {
		s.mu.Lock()
		s.fired = true
		s.mu.Unlock()
		cancel()
	})
	return s
}

// errStalled is a blob read the registry stopped sending.
var errStalled = errors.New("the registry stopped sending")

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.timer.Reset(s.wait)
	if err != nil && err != io.EOF {
		s.mu.Lock()
		fired := s.fired
		s.mu.Unlock()
		if fired {
			return n, fmt.Errorf("%w for %s", errStalled, s.wait)
		}
	}
	return n, err
}

func (s *stallReader) Close() error {
	s.timer.Stop()
	s.cancel()
	return s.body.Close()
}

// registryError says what went wrong in a user's words: the host it could
// not find or reach, the login it needs, the tag it lacks, the certificate
// it does not trust, the client certificate it wants, the rate limit it hit.
func registryError(ctx context.Context, r name.Reference, loggedIn bool, certs *registryCerts, err error) error {
	if ctx.Err() != nil {
		return ctx.Err() // Load says it was interrupted
	}
	host := r.Context().RegistryStr()
	if msg := clientCertProblem(err, host, certs); msg != "" {
		return fmt.Errorf("TLS with the registry %s failed: %s", host, msg)
	}
	if msg := tlsProblem(err); msg != "" { // before a plain-HTTP fallback's error
		return fmt.Errorf("TLS with the registry %s failed: %s", host, msg)
	}
	var te *transport.Error
	if errors.As(err, &te) {
		code := func(c transport.ErrorCode) bool {
			return slices.ContainsFunc(te.Errors, func(d transport.Diagnostic) bool { return d.Code == c })
		}
		switch {
		case te.StatusCode == http.StatusUnauthorized || code(transport.UnauthorizedErrorCode):
			if loggedIn {
				return fmt.Errorf("the registry %s refuses the login this machine has for it (for %s): log in again with %s", host, r.Context().RepositoryStr(), loginCommand(host))
			}
			return fmt.Errorf("the registry %s wants a login for %s (or has no such repository): run %s", host, r.Context().RepositoryStr(), loginCommand(host))
		case te.StatusCode == http.StatusForbidden || code(transport.DeniedErrorCode):
			return fmt.Errorf("the registry %s denies access to %s: log in as a user allowed to pull it (%s)", host, r.Context().RepositoryStr(), loginCommand(host))
		case te.StatusCode == http.StatusTooManyRequests || code(transport.TooManyRequestsErrorCode):
			return fmt.Errorf("the registry %s limits requests, and this pull went over its limit (429 Too Many Requests): wait, or log in (%s) for a higher limit", host, loginCommand(host))
		case code(transport.BlobUnknownErrorCode) || (te.StatusCode == http.StatusNotFound && te.Request != nil && strings.Contains(te.Request.URL.Path, "/blobs/")):
			blob := "a blob"
			if te.Request != nil {
				blob = "the blob " + path.Base(te.Request.URL.Path)
			}
			return fmt.Errorf("the registry %s lacks %s that the manifest of %s names: the image is incomplete there", host, blob, r)
		case code(transport.NameUnknownErrorCode):
			return fmt.Errorf("the registry %s has no repository %s", host, r.Context().RepositoryStr())
		case te.StatusCode == http.StatusNotFound || code(transport.ManifestUnknownErrorCode):
			return fmt.Errorf("the registry %s has no image %s: no such repository or tag", host, r)
		}
		return fmt.Errorf("the registry %s: %s", host, firstLine(teMessage(te)))
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && (dnsErr.IsNotFound || strings.Contains(dnsErr.Err, "no such host")) {
		return fmt.Errorf("unknown registry host %q (no such host in DNS): check the name in %s", dnsErr.Name, r)
	}
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot look up the registry host %q: %s", dnsErr.Name, dnsErr.Err)
	}
	if errors.Is(err, errPlainHTTP) {
		return fmt.Errorf("the registry %s does not answer over TLS, and plain HTTP is allowed only with --insecure-registry %s", host, host)
	}
	if errors.Is(err, errStalled) {
		return fmt.Errorf("reading from the registry %s: %s", host, firstLine(err.Error()))
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("cannot reach the registry %s: %s", host, firstLine(opErr.Err.Error()))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("the registry %s closed the connection in the middle of the pull", host)
	}
	return fmt.Errorf("the registry %s: %s", host, firstLine(err.Error()))
}

// loginCommand is how to log in to host: Docker Hub needs no name.
func loginCommand(host string) string {
	if host == name.DefaultRegistry || host == "docker.io" {
		return "docker login"
	}
	return "docker login " + host
}

func teMessage(te *transport.Error) string {
	if len(te.Errors) > 0 {
		d := te.Errors[0]
		return fmt.Sprintf("%s (%d %s)", strings.ToLower(d.Message), te.StatusCode, d.Code)
	}
	return fmt.Sprintf("HTTP %d %s", te.StatusCode, http.StatusText(te.StatusCode))
}

// tlsProblem names a certificate problem, or "" when err is none.
func tlsProblem(err error) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ua):
		return "its certificate is signed by an authority this machine does not trust (put the CA in /etc/docker/certs.d/HOST:PORT/ca.crt, or use --insecure-registry for a registry without TLS)"
	case errors.As(err, &he):
		return fmt.Sprintf("its certificate is for %s, not for this host name", certNames(he.Certificate))
	case errors.As(err, &ci):
		switch ci.Reason {
		case x509.Expired:
			return "its certificate has expired, or is not valid yet (" + ci.Detail + ")"
		}
		return "its certificate is not valid: " + ci.Error()
	case errors.As(err, &rh):
		return "it does not speak TLS on that port (a plain HTTP registry? use --insecure-registry)"
	case errors.As(err, &ve):
		return "its certificate could not be verified: " + firstLine(ve.Err.Error())
	}
	return ""
}

// clientCertProblem names a client certificate (mutual TLS) the registry
// wanted and did not get, or refused: from what it asked for in the
// handshake and the TLS alert it sent. "" when err is no such failure.
func clientCertProblem(err error, host string, certs *registryCerts) string {
	if certs == nil || certs.answered.Load() {
		return ""
	}
	alert := ""
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		alert = op.Err.Error()
	}
	is := func(codes ...tls.AlertError) bool {
		return slices.ContainsFunc(codes, func(c tls.AlertError) bool { return alert == c.Error() })
	}
	const (
		handshakeFailure    tls.AlertError = 40
		badCertificate      tls.AlertError = 42
		unsupportedCert     tls.AlertError = 43
		certificateRevoked  tls.AlertError = 44
		certificateExpired  tls.AlertError = 45
		certificateUnknown  tls.AlertError = 46
		unknownCA           tls.AlertError = 48
		certificateRequired tls.AlertError = 116
	)
	// A server without the pair it asked for sends "certificate required",
	// "bad certificate" (Debian's registry 2.8) or "handshake failure", as
	// its TLS library and version have it; with TLS 1.3 the alert comes
	// after the client's side of the handshake, and HTTP/2 may report only
	// that the connection failed. So what the server asked for in the
	// handshake says more than the alert.
	why := "(" + alert + ")"
	if alert == "" {
		why = "(it asked for one in the handshake, then closed the connection)"
	}
	where := fmt.Sprintf("put its pair as client.cert and client.key in ~/.config/containers/certs.d/%s/ or /etc/docker/certs.d/%s/", host, host)
	switch asked := certs.asked.Load(); {
	case asked == askedNone && len(certs.clients) == 0:
		return fmt.Sprintf("it requires a client certificate (mutual TLS), and none is set up for it: %s %s", where, why)
	case asked == askedNone:
		return fmt.Sprintf("it requires a client certificate (mutual TLS) signed by a CA it names, and %s is not: %s %s", strings.Join(certs.clients, ", "), where, why)
	case asked > 0 && (alert == "" || is(certificateRequired, handshakeFailure, badCertificate, unsupportedCert, certificateRevoked, certificateExpired, certificateUnknown, unknownCA)):
		if alert == "" {
			why = "(it closed the connection after the handshake)"
		}
		return fmt.Sprintf("it does not accept the client certificate %s: it wants one signed by a CA it trusts, and valid now %s", certs.clients[min(int(asked), len(certs.clients))-1], why)
	case asked == 0 && len(certs.clients) == 0 && is(certificateRequired, badCertificate, certificateUnknown):
		return fmt.Sprintf("it requires a client certificate (mutual TLS), and none is set up for it: %s %s", where, why)
	}
	return ""
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another name"
	}
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no name"
	}
	return listCut(names, len(names))
}

// loadFromRegistryInstead reads from its registry an image that the
// daemon does not have (or no daemon answers), and says so in the
// report's Source line; when the registry fails too, the error says both.
//
// With opt.NoRegistryFallback (CI mode) only a name that names its
// registry's host is: a bare name (app, library/alpine) would be read from
// Docker Hub, where anyone may have pushed it, in place of an image a
// failed build never made.
func loadFromRegistryInstead(ctx context.Context, ref string, opt Options, ps *parsing, miss *daemonMissError) (*Image, error) {
	if opt.NoRegistryFallback && !namesRegistryHost(ref) {
		return nil, fmt.Errorf("%s; in CI mode a name without a registry host is not read from Docker Hub in its place: %s%s reads it from there", miss.msg, registryScheme, ref)
	}
	note := "the Docker daemon at " + miss.host + " does not have it"
	if miss.noDaemon {
		note = "no Docker daemon answers at " + miss.host
	}
	img, err := loadRegistry(ctx, ref, opt, ps, note)
	if err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("%s; nor could its registry give it: %w", miss.msg, err)
	}
	return img, err
}

// namesRegistryHost reports a reference whose first component names a
// registry host, as Docker tells one: it holds a '.' or a ':', or is
// localhost (ghcr.io/org/app, localhost:5000/app). Any other name is
// Docker Hub's.
func namesRegistryHost(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(first, ".:") || first == "localhost")
}
