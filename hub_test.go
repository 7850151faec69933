package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// hubHost is Docker Hub's registry, where a bare name is pulled from.
const hubHost = "index.docker.io"

// mainChildEnv, set, has the test binary run layerscope's main with its
// own arguments instead of the tests: a process of its own, so that proxy
// variables, which Go's net/http reads once per process, are read afresh.
const mainChildEnv = "LAYERSCOPE_TEST_RUN_MAIN"

// fakeHub stands in for Docker Hub: an HTTPS proxy for layerscope that
// answers a CONNECT to index.docker.io:443 with TLS of its own (a
// certificate for index.docker.io, signed by a CA the child's certs.d
// trusts) and passes the requests to a local test registry. Any other
// proxied request is refused, and every request is recorded: nothing
// leaves the machine.
type fakeHub struct {
	proxy string // http://127.0.0.1:PORT
	home  string // a HOME whose certs.d trusts the fake hub's CA

	mu    sync.Mutex
	asked []string // CONNECT targets and other proxied requests, in order
	conns chan net.Conn
}

func startFakeHub(t *testing.T, reg *testRegistry) *fakeHub {
	t.Helper()
	caCert, caKey := newCert(t, nil, nil, "layerscope test CA", "")
	leaf, leafKey := newCert(t, caCert, caKey, hubHost, hubHost)
	h := &fakeHub{home: t.TempDir(), conns: make(chan net.Conn)}
	certs := filepath.Join(h.home, ".config", "containers", "certs.d", hubHost)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw}, PrivateKey: leafKey}}, MinVersion: tls.VersionTLS12}

	// The registry behind the TLS the CONNECTs end in.
	u, _ := url.Parse("http://" + reg.host)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = discardLog()
	inner := &http.Server{Handler: rp, ErrorLog: discardLog(), ReadHeaderTimeout: 10 * time.Second}
	l := &chanListener{conns: h.conns, done: make(chan struct{}), addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	go inner.Serve(l)

	front := &http.Server{ErrorLog: discardLog(), ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Host
		if r.Method != http.MethodConnect {
			target = r.Method + " " + r.URL.String()
		}
		h.mu.Lock()
		h.asked = append(h.asked, target)
		h.mu.Unlock()
		if r.Method != http.MethodConnect || r.Host != hubHost+":443" {
			http.Error(w, "the test proxy reaches only "+hubHost, http.StatusForbidden)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil || buf.Reader.Buffered() > 0 {
			conn.Close() // a client that speaks before the answer is not one
			return
		}
		select {
		case h.conns <- tls.Server(conn, tlsConf):
		case <-l.done:
			conn.Close()
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve(ln)
	t.Cleanup(func() { front.Close(); l.Close(); inner.Close() })
	h.proxy = "http://" + ln.Addr().String()
	return h
}

// requests are what the proxy was asked for so far.
func (h *fakeHub) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.asked)
}

// chanListener accepts the connections sent on conns.
type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// newCert makes a P-256 certificate for a day: a CA when parent is nil,
// else one for dnsName signed by parent.
func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn, dnsName string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	signer, signKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.DNSNames = []string{dnsName}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		signer, signKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// layerscopeViaHub runs layerscope's main in a process of its own whose
// every HTTP(S) request goes through the fake hub's proxy, with a HOME
// that trusts the fake hub and no registry logins, reading the daemon the
// tests use. It returns the exit code and outputs.
func layerscopeViaHub(t *testing.T, h *fakeHub, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "HOME", "DOCKER_CONFIG", "DOCKER_HOST", "DOCKER_CONTEXT", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "CI":
			continue
		}
		env = append(env, kv)
	}
	dir := t.TempDir()
	cmd.Env = append(env, mainChildEnv+"=1", "CI=",
		"HTTPS_PROXY="+h.proxy, "https_proxy="+h.proxy, "HTTP_PROXY="+h.proxy, "http_proxy="+h.proxy,
		"HOME="+h.home, "DOCKER_CONFIG="+filepath.Join(dir, "docker"), "XDG_RUNTIME_DIR="+dir, "DOCKER_HOST="+daemonHost(t))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, &stderr, strings.NewReader("")
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("layerscope %s: out of time", strings.Join(args, " "))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("layerscope %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}
