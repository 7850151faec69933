package image

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
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// testCA signs client certificates for the mutual TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// client makes a client certificate the CA signs, and its key, as PEM.
func (ca *testCA) client(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "layerscope test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// TestRegistryClientCert: a registry that wants a client certificate
// (mutual TLS) gets the pair of certs.d/HOST:PORT, under a name Docker
// uses (client.cert, client.key) or any other NAME.cert and NAME.key;
// without one, or with one it refuses, the one line says so and where
// the pair goes; half a pair is an error that names the file.
func TestRegistryClientCert(t *testing.T) {
	ca, other := newTestCA(t, "layerscope test client CA"), newTestCA(t, "another CA")
	goodCert, goodKey := ca.client(t)
	otherCert, otherKey := other.client(t)
	_, strayKey := ca.client(t)
	type file struct{ name, data string }
	tests := []struct {
		name   string
		files  []file // in certs.d/HOST:PORT, beside the server's CA as ca.crt
		tls12  bool   // the server speaks TLS 1.2 at most
		refuse bool   // the server refuses every client certificate
		fifo   string // a FIFO of this name there too
		want   string // "" when the image loads; HOST is the registry's
		wantIn string // and this too, when set
	}{
		{name: "client.cert and client.key", files: []file{{"client.cert", string(goodCert)}, {"client.key", string(goodKey)}}},
		{name: "any NAME.cert and NAME.key", files: []file{{"me.cert", string(goodCert)}, {"me.key", string(goodKey)}}},
		{name: "TLS 1.2", tls12: true, files: []file{{"client.cert", string(goodCert)}, {"client.key", string(goodKey)}}},
		{name: "pairs of two CAs: the one the server names", files: []file{{"a.cert", string(otherCert)}, {"a.key", string(otherKey)}, {"b.cert", string(goodCert)}, {"b.key", string(goodKey)}}},
		{name: "no client certificate",
			want: "TLS with the registry HOST failed: it requires a client certificate (mutual TLS), and none is set up for it: put its pair as client.cert and client.key in ~/.config/containers/certs.d/HOST/ or /etc/docker/certs.d/HOST/ (tls: certificate required)"},
		{name: "no client certificate, TLS 1.2", tls12: true,
			want: "TLS with the registry HOST failed: it requires a client certificate (mutual TLS), and none is set up for it: put its pair as client.cert and client.key in ~/.config/containers/certs.d/HOST/ or /etc/docker/certs.d/HOST/ (tls: handshake failure)"},
		{name: "another CA's certificate", files: []file{{"client.cert", string(otherCert)}, {"client.key", string(otherKey)}},
			want: "TLS with the registry HOST failed: it requires a client certificate (mutual TLS) signed by a CA it names, and DIR/client.cert is not: put its pair as client.cert and client.key in ~/.config/containers/certs.d/HOST/ or /etc/docker/certs.d/HOST/ (tls: certificate required)"},
		{name: "a certificate the server refuses", refuse: true, files: []file{{"client.cert", string(goodCert)}, {"client.key", string(goodKey)}},
			want: "TLS with the registry HOST failed: it does not accept the client certificate DIR/client.cert: it wants one signed by a CA it trusts, and valid now (tls: bad certificate)"},
		{name: "a .cert without its .key", files: []file{{"client.cert", string(goodCert)}},
			want: "the client certificate DIR/client.cert has no key beside it (DIR/client.key)"},
		{name: "a .key without its .cert", files: []file{{"client.cert", string(goodCert)}, {"client.key", string(goodKey)}, {"old.key", string(strayKey)}},
			want: "the client key DIR/old.key has no certificate beside it (DIR/old.cert)"},
		{name: "a key of another certificate", files: []file{{"client.cert", string(goodCert)}, {"client.key", string(strayKey)}},
			want: "the client certificate DIR/client.cert and its key DIR/client.key: tls: private key does not match public key"},
		{name: "a key that is not PEM", files: []file{{"client.cert", string(goodCert)}, {"client.key", "not a key"}},
			want: "the client certificate DIR/client.cert and its key DIR/client.key: tls: failed to find any PEM data in key input"},
		{name: "a FIFO for a key", files: []file{{"client.cert", string(goodCert)}}, fifo: "client.key",
			want: "reading the client key DIR/client.key: not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(newFakeRegistry())
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
			pool := x509.NewCertPool()
			pool.AddCert(ca.cert)
			srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
			if tc.refuse {
				srv.TLS.VerifyPeerCertificate = func([][]byte, [][]*x509.Certificate) error { return errors.New("refused") }
			}
			if tc.tls12 {
				srv.TLS.MaxVersion = tls.VersionTLS12
			}
			srv.StartTLS()
			defer srv.Close()
			host := srv.Listener.Addr().String()
			home := t.TempDir()
			t.Setenv("HOME", home)
			dir := filepath.Join(home, ".config", "containers", "certs.d", host)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			files := append([]file{{"ca.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))}}, tc.files...)
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.fifo != "" {
				if err := syscall.Mkfifo(filepath.Join(dir, tc.fifo), 0o600); err != nil {
					t.Skipf("no FIFO here: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			img, err := Load(ctx, "registry://"+host+"/app:1", Options{Keychain: authn.NewMultiKeychain()})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want the image", err)
				}
				if len(img.Layers) != 1 || len(img.Layers[0].Changes.Entries) == 0 {
					t.Errorf("got layers %+v", img.Layers)
				}
				return
			}
			want := strings.NewReplacer("HOST", host, "DIR", dir).Replace(tc.want)
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || ctx.Err() != nil {
				t.Fatalf("got %v, want one line with %q", err, want)
			}
			for _, f := range files {
				for _, line := range strings.Split(f.data, "\n") {
					if strings.HasSuffix(f.name, ".key") && len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
						t.Errorf("the error holds a line of the key %s: %v", f.name, err)
					}
				}
			}
		})
	}
}

// TestRegistryCertsDirHost: a registry host that is not a directory's name
// (".", "..") reads nothing of certs.d or above it.
func TestRegistryCertsDirHost(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	above := filepath.Join(home, ".config", "containers")
	if err := os.MkdirAll(filepath.Join(above, "certs.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{above, filepath.Join(above, "certs.d")} {
		for _, name := range []string{"stray.crt", "stray.cert"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("not a certificate"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ref := range []string{"registry://../app:1", "registry://./app:1"} {
		t.Run(ref, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Load(ctx, ref, Options{Keychain: authn.NewMultiKeychain()})
			if err == nil || strings.Contains(err.Error(), "stray") {
				t.Errorf("got %v, want an error that does not come from certs.d", err)
			}
		})
	}
}
