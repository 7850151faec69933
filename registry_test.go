package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/layerscope/layerscope/image"
)

// The tests below run Debian's docker-registry (the distribution registry
// 2.8) on 127.0.0.1, push the test images into it with skopeo, and read
// them back through layerscope's registry source.

const registryBin = "docker-registry"

// The htpasswd user of the TLS registry, and its bcrypt hash (a test
// password, made with Python's crypt.crypt and METHOD_BLOWFISH).
const (
	registryUser = "layerscope"
	registryPass = "layerscope-test-password"
	registryHash = "$2b$04$zTpK.n9uGiNVUNQiwrZFr..0L/iszrrVt/ckGlxkY3ow7IanLmmc2"
)

type testRegistry struct {
	host string // 127.0.0.1:PORT
	data string // its storage root
	cmd  *exec.Cmd
	done chan struct{}
}

// registryTLS is a test registry's TLS: its certificate and key; with
// htpasswd, the logins it wants; with clientCAs, the CA a client
// certificate must be signed by (mutual TLS), and a pair it signed for the
// check that the registry is up.
type registryTLS struct {
	cert, key, htpasswd string
	clientCAs           string
	clientCert          string
	clientKey           string
}

func needRegistry(t *testing.T) {
	t.Helper()
	needTestImages(t)
	needTool(t, registryBin)
	needTool(t, "skopeo")
	needTool(t, "docker")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry starts a registry of the test's own, stopped when the test
// ends; with sec, it speaks TLS and wants a login.
func startRegistry(t *testing.T, sec *registryTLS) *testRegistry {
	t.Helper()
	dir := t.TempDir()
	r := &testRegistry{host: fmt.Sprintf("127.0.0.1:%d", freePort(t)), data: filepath.Join(dir, "data"), done: make(chan struct{})}
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.data, r.host)
	if sec != nil {
		conf += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", sec.cert, sec.key)
		if sec.clientCAs != "" {
			conf += fmt.Sprintf("    clientcas:\n      - %s\n", sec.clientCAs)
		}
		if sec.htpasswd != "" {
			conf += fmt.Sprintf("auth:\n  htpasswd:\n    realm: layerscope-test\n    path: %s\n", sec.htpasswd)
		}
	}
	cf := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(registryBin, "serve", cf)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); logf.Close(); close(r.done) }()
	t.Cleanup(r.stop)
	scheme := "http"
	if sec != nil {
		scheme = "https"
	}
	probe := &tls.Config{InsecureSkipVerify: true}
	if sec != nil && sec.clientCert != "" {
		pair, err := tls.LoadX509KeyPair(sec.clientCert, sec.clientKey)
		if err != nil {
			t.Fatal(err)
		}
		probe.Certificates = []tls.Certificate{pair}
	}
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: probe}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := cl.Get(scheme + "://" + r.host + "/v2/")
		if err == nil {
			resp.Body.Close()
			return r
		}
		select {
		case <-r.done:
			out, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("the registry exited: %s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry at %s did not answer within 20 s: %v", r.host, err)
		}
	}
}

// stop ends the registry: SIGTERM, then SIGKILL after 10 s.
func (r *testRegistry) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// push copies a `docker save` archive into the registry with skopeo.
func (r *testRegistry) push(t *testing.T, archive, ref string, args ...string) {
	t.Helper()
	a := append([]string{"copy", "-q", "--dest-tls-verify=false"}, args...)
	sh(t, "skopeo", append(a, "docker-archive:"+archive, "docker://"+r.host+"/"+ref)...)
}

// savedImages holds one `docker save` archive per image for the whole run.
var savedImages struct {
	mu    sync.Mutex
	dir   string
	files map[string]string
}

func saved(t *testing.T, ref string) string {
	t.Helper()
	savedImages.mu.Lock()
	defer savedImages.mu.Unlock()
	if f, ok := savedImages.files[ref]; ok {
		return f
	}
	if savedImages.dir == "" {
		d, err := os.MkdirTemp("", "layerscope-registry-test-")
		if err != nil {
			t.Fatal(err)
		}
		savedImages.dir, savedImages.files = d, map[string]string{}
	}
	f := filepath.Join(savedImages.dir, strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".tar")
	sh(t, "docker", "save", "-o", f, ref)
	savedImages.files[ref] = f
	return f
}

func TestMain(m *testing.M) {
	if os.Getenv(mainChildEnv) == "1" {
		main() // layerscopeViaHub's process: layerscope itself, with its arguments
		return
	}
	code := m.Run()
	if savedImages.dir != "" {
		os.RemoveAll(savedImages.dir)
	}
	os.Exit(code)
}

// manifestOf fetches a manifest from a plain-HTTP test registry.
func manifestOf(t *testing.T, r *testRegistry, repo, tag string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.host+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkBlobFigures checks what only a registry knows: each layer's blob
// size, and the image's compressed bytes as their sum, each blob once.
func checkBlobFigures(t *testing.T, rep map[string]any) {
	t.Helper()
	var sum float64
	seen := map[any]bool{}
	for _, l := range rep["layers"].([]any) {
		l := l.(map[string]any)
		b, _ := l["blobBytes"].(float64)
		if b <= 0 || l["blobDigest"] == nil {
			t.Errorf("layer %v has no blob figures: %v", l["index"], l)
		}
		if !seen[l["blobDigest"]] {
			seen[l["blobDigest"]] = true
			sum += b
		}
	}
	if got := rep["summary"].(map[string]any)["compressedBytes"]; got != sum {
		t.Errorf("summary.compressedBytes is %v, the layers' blobs add up to %v", got, sum)
	}
	if src := rep["image"].(map[string]any)["source"]; src != "registry" {
		t.Errorf("source is %v, want registry", src)
	}
}

func sameFigures(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s disagrees with the daemon:\n%s\nwant:\n%s", what, g, w)
	}
}

// TestRegistryAgreesWithDaemon pushes each test image into a registry in
// Docker's v2 manifest format (gzip layers) and OCI's (gzip and zstd), and
// checks that layerscope reads the same figures from there as from the
// daemon, and the blob sizes besides.
func TestRegistryAgreesWithDaemon(t *testing.T) {
	needRegistry(t)
	t.Setenv("CI", "")
	// zstd goes to a registry of its own: skopeo 1.9 reuses a blob the
	// registry holds in another repository whatever its compression.
	reg, zreg := startRegistry(t, nil), startRegistry(t, nil)
	formats := []struct {
		name string
		args []string
		want string // a layer media type the manifest must show
	}{
		{"v2s2", []string{"--format", "v2s2"}, "application/vnd.docker.image.rootfs.diff.tar.gzip"},
		{"oci", []string{"--format", "oci"}, "application/vnd.oci.image.layer.v1.tar+gzip"},
		// skopeo 1.9 pushes a layer the registry has as gzip again as
		// gzip, whatever it is asked: zstd goes through a layout.
		{"oci-zstd", nil, "application/vnd.oci.image.layer.v1.tar+zstd"},
	}
	for _, name := range daemonImages {
		for _, builder := range []string{"legacy", "buildkit"} {
			ref := "layerscope-test/" + name + ":" + builder
			t.Run(name+"/"+builder, func(t *testing.T) {
				want := figures(jsonReport(t, ref))
				archive := saved(t, ref)
				for _, f := range formats {
					repo, tag := "lt/"+name, builder+"-"+f.name
					if f.args == nil {
						layout := filepath.Join(t.TempDir(), "zstd")
						sh(t, "skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", "docker-archive:"+archive, "oci:"+layout+":x")
						sh(t, "skopeo", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false", "oci:"+layout+":x", "docker://"+zreg.host+"/"+repo+":"+tag)
					} else {
						reg.push(t, archive, repo+":"+tag, f.args...)
					}
					reg := reg
					if f.args == nil {
						reg = zreg
					}
					m := manifestOf(t, reg, repo, tag)
					if ls, _ := m["layers"].([]any); len(ls) == 0 || ls[0].(map[string]any)["mediaType"] != f.want {
						t.Fatalf("skopeo pushed %s with layers %v, want %s", f.name, m["layers"], f.want)
					}
					rep := jsonReport(t, "registry://"+reg.host+"/"+repo+":"+tag)
					checkBlobFigures(t, rep)
					sameFigures(t, f.name, figures(rep), want)
				}
			})
		}
	}
}

// TestRegistryFallback: a name the daemon lacks is read from its registry
// (and the Source line says why); a name neither has is one line that
// says both.
func TestRegistryFallback(t *testing.T) {
	needRegistry(t)
	t.Setenv("CI", "")
	reg := startRegistry(t, nil)
	reg.push(t, saved(t, "layerscope-test/waste:buildkit"), "fallback/waste:1")
	ref := reg.host + "/fallback/waste:1"
	want := figures(jsonReport(t, "layerscope-test/waste:buildkit"))
	tests := []struct {
		name, dockerHost, note string
	}{
		{"daemon lacks it", "", "(the Docker daemon at " + daemonHost(t) + " does not have it)"},
		{"no daemon", "unix:///nonexistent/docker.sock", "(no Docker daemon answers at unix:///nonexistent/docker.sock)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dockerHost != "" {
				t.Setenv("DOCKER_HOST", tc.dockerHost)
			}
			rep := jsonReport(t, ref)
			checkBlobFigures(t, rep)
			sameFigures(t, "the registry", figures(rep), want)
			code, stdout, _ := layerscope(t, nil, "--ci", "--fail-on", "none", ref)
			if line := "Source   registry " + reg.host + "/fallback/waste " + tc.note + "\n"; code == 2 || !strings.Contains(stdout, line) {
				t.Errorf("exit %d; want the line %q in:\n%s", code, line, stdout)
			}
		})
	}
	t.Run("neither has it", func(t *testing.T) {
		code, _, stderr := layerscope(t, nil, "--ci", reg.host+"/fallback/nothing:1")
		want := fmt.Sprintf(`layerscope: image "%s/fallback/nothing:1" not found in the daemon at %s (pull or build it first); nor could its registry give it: the registry %s has no image %s/fallback/nothing:1: no such repository or tag`, reg.host, daemonHost(t), reg.host, reg.host)
		if code != 2 || strings.TrimSpace(stderr) != want {
			t.Errorf("exit %d, %q; want exit 2, %q", code, stderr, want)
		}
	})
}

// TestRegistryFallbackInCI: in CI mode (--ci, or CI=true) a name the
// daemon lacks is read from its registry only when it names the registry's
// host; a bare name, which would be Docker Hub's, is one line that says
// the daemon lacks it and how to read it from Docker Hub.
func TestRegistryFallbackInCI(t *testing.T) {
	needRegistry(t)
	t.Setenv("CI", "")
	reg := startRegistry(t, nil)
	reg.push(t, saved(t, "layerscope-test/waste:buildkit"), "fallback/waste:1")
	port := reg.host[strings.LastIndex(reg.host, ":")+1:]
	lacks := func(name string) string {
		return fmt.Sprintf(`layerscope: image %q not found in the daemon at %s (pull or build it first); in CI mode a name without a registry host is not read from Docker Hub in its place: registry://%s reads it from there`, name, daemonHost(t), name)
	}
	tests := []struct {
		name   string
		ciEnv  string
		args   []string
		stderr string // "" when the image is read from the registry
	}{
		{"a bare name", "", []string{"--ci", "layerscope-no-such-image:1"}, lacks("layerscope-no-such-image:1")},
		{"a Docker Hub path", "", []string{"--ci", "library/layerscope-no-such-image"}, lacks("library/layerscope-no-such-image")},
		{"a bare name, CI=true", "true", []string{"layerscope-no-such-image:1"}, lacks("layerscope-no-such-image:1")},
		{"a registry host", "", []string{"--ci", "--fail-on", "none", reg.host + "/fallback/waste:1"}, ""},
		{"localhost", "", []string{"--ci", "--fail-on", "none", "localhost:" + port + "/fallback/waste:1"}, ""},
		{"a registry host, CI=true", "true", []string{"--fail-on", "none", reg.host + "/fallback/waste:1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ciEnv)
			code, stdout, stderr := layerscope(t, nil, tc.args...)
			if tc.stderr != "" {
				if code != 2 || strings.TrimSpace(stderr) != tc.stderr || strings.Count(stderr, "\n") != 1 {
					t.Errorf("exit %d, %q; want exit 2, %q", code, stderr, tc.stderr)
				}
				return
			}
			if code == 2 || !strings.Contains(stdout, "Source   registry ") || !strings.Contains(stdout, "does not have it)") {
				t.Errorf("exit %d, stderr %q; want the image read from its registry, said so in:\n%s", code, stderr, stdout)
			}
		})
	}
	// Outside CI mode a bare name is still read from Docker Hub: here a
	// stand-in for it (fakeHub) that serves the test registry, so that no
	// test reaches the internet. Proxy settings are read once per process,
	// so layerscope runs in a process of its own.
	hub := startFakeHub(t, reg)
	reg.push(t, saved(t, "layerscope-test/waste:buildkit"), "library/layerscope-hub-only:1")
	hubOnly := []struct {
		name   string
		args   []string
		stdout string // a line the report holds, when the image is read
		stderr string // the one line of an error, when it is not
		hub    bool   // whether Docker Hub is asked
	}{
		{"a bare name outside CI mode: read from Docker Hub", []string{"--fail-on", "none", "layerscope-hub-only:1"},
			"Source   registry " + hubHost + "/library/layerscope-hub-only (the Docker daemon at " + daemonHost(t) + " does not have it)\n", "", true},
		{"a bare name neither has", []string{"--fail-on", "none", "layerscope-no-such-image:1"}, "",
			`layerscope: image "layerscope-no-such-image:1" not found in the daemon at ` + daemonHost(t) + " (pull or build it first); nor could its registry give it: the registry " + hubHost + " has no image ", true},
		{"a bare name in CI mode: Docker Hub is not asked", []string{"--ci", "layerscope-hub-only:1"}, "", lacks("layerscope-hub-only:1"), false},
	}
	for _, tc := range hubOnly {
		t.Run(tc.name, func(t *testing.T) {
			before := len(hub.requests())
			code, stdout, stderr := layerscopeViaHub(t, hub, tc.args...)
			asked := hub.requests()[before:]
			if tc.stdout != "" {
				if code == 2 || !strings.Contains(stdout, tc.stdout) {
					t.Errorf("exit %d, stderr %q; want the line %q in:\n%s", code, stderr, tc.stdout, stdout)
				}
			} else if code != 2 || !strings.HasPrefix(stderr, tc.stderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, %q; want exit 2 and one line that begins %q", code, stderr, tc.stderr)
			}
			if len(asked) == 0 && tc.hub {
				t.Errorf("Docker Hub was not asked")
			}
			if len(asked) > 0 && !tc.hub {
				t.Errorf("Docker Hub was asked: %q", asked)
			}
			for _, a := range asked {
				if a != hubHost+":443" {
					t.Errorf("the proxy was asked for %q: only Docker Hub is a registry here", a)
				}
			}
		})
	}
}

// TestRegistryTwoPlatforms pushes an index of two images, one relabelled
// linux/arm64/v8, and picks each with --platform.
func TestRegistryTwoPlatforms(t *testing.T) {
	needRegistry(t)
	t.Setenv("CI", "")
	reg := startRegistry(t, nil)
	dir := t.TempDir()
	amd, arm := "layerscope-test/waste:buildkit", "layerscope-test/multistage:legacy"
	layout := filepath.Join(dir, "layout")
	sh(t, "skopeo", "copy", "-q", "--dest-compress", "docker-archive:"+saved(t, amd), "oci:"+layout+":amd")
	sh(t, "skopeo", "copy", "-q", "--dest-compress", "docker-archive:"+saved(t, arm), "oci:"+layout+":arm")
	twoPlatformIndex(t, layout)
	sh(t, "skopeo", "copy", "-q", "--all", "--dest-tls-verify=false", "oci:"+layout+":multi", "docker://"+reg.host+"/lt/multi:1")
	if m := manifestOf(t, reg, "lt/multi", "1"); len(m["manifests"].([]any)) != 2 {
		t.Fatalf("the registry holds %v, want an index of two", m)
	}
	ref := "registry://" + reg.host + "/lt/multi:1"
	wantAmd, wantArm := figures(jsonReport(t, amd)), figures(jsonReport(t, arm))
	sameFigures(t, "the host's platform", figures(jsonReport(t, ref)), wantAmd)
	sameFigures(t, "linux/amd64", figures(jsonReport(t, "--platform", "linux/amd64", ref)), wantAmd)
	rep := jsonReport(t, "--platform", "linux/arm64", ref)
	sameFigures(t, "linux/arm64", figures(rep), wantArm)
	if a := rep["image"].(map[string]any)["architecture"]; a != "arm64" {
		t.Errorf("--platform linux/arm64 read %v", a)
	}
	code, _, stderr := layerscope(t, nil, "--ci", "--platform", "linux/s390x", ref)
	if want := "no image for platform linux/s390x: the index holds linux/amd64, linux/arm64/v8 (choose with --platform)"; code != 2 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, %q; want exit 2 and %q", code, stderr, want)
	}
}

// twoPlatformIndex adds to an OCI layout holding images "amd" and "arm"
// an index "multi" of both, with "arm" relabelled linux/arm64/v8 (a new
// config, so a new manifest). Nothing runs the images: the label is all.
func twoPlatformIndex(t *testing.T, layout string) {
	t.Helper()
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Platform    map[string]string `json:"platform,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	readJSON := func(p string, v any) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatal(err)
		}
	}
	blob := func(d string) string {
		return filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
	}
	write := func(v any) desc {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		d := desc{Digest: digest(data), Size: int64(len(data))}
		if err := os.WriteFile(blob(d.Digest), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	var idx struct {
		SchemaVersion int    `json:"schemaVersion"`
		Manifests     []desc `json:"manifests"`
	}
	readJSON(filepath.Join(layout, "index.json"), &idx)
	var out []desc
	for _, d := range idx.Manifests {
		switch d.Annotations["org.opencontainers.image.ref.name"] {
		case "amd":
			d.Platform = map[string]string{"os": "linux", "architecture": "amd64"}
		case "arm":
			var m map[string]any
			readJSON(blob(d.Digest), &m)
			var cfg map[string]any
			cd := m["config"].(map[string]any)
			readJSON(blob(cd["digest"].(string)), &cfg)
			cfg["architecture"], cfg["variant"] = "arm64", "v8"
			nc := write(cfg)
			cd["digest"], cd["size"] = nc.Digest, nc.Size
			nm := write(m)
			d = desc{MediaType: d.MediaType, Digest: nm.Digest, Size: nm.Size, Platform: map[string]string{"os": "linux", "architecture": "arm64", "variant": "v8"}}
		default:
			continue
		}
		d.Annotations = nil
		out = append(out, d)
	}
	if len(out) != 2 {
		t.Fatalf("layout holds %v", idx.Manifests)
	}
	multi := write(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": out})
	multi.MediaType = "application/vnd.oci.image.index.v1+json"
	multi.Annotations = map[string]string{"org.opencontainers.image.ref.name": "multi"}
	idx.Manifests = append(idx.Manifests, multi)
	data, _ := json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(layout, "index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRegistryTLSAndLogin reads from a registry that speaks TLS (a
// certificate made with openssl here) and wants an htpasswd login, given
// in a config.json in DOCKER_CONFIG as `docker login` writes it.
func TestRegistryTLSAndLogin(t *testing.T) {
	needRegistry(t)
	needTool(t, "openssl")
	t.Setenv("CI", "")
	dir := t.TempDir()
	ossl := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=layerscope test CA")
	ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
	if err := os.WriteFile(filepath.Join(dir, "san.ext"), []byte("subjectAltName=IP:127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext")
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(registryUser+":"+registryHash+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := startRegistry(t, &registryTLS{cert: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key"), htpasswd: htpasswd})
	src := "layerscope-test/secret:buildkit"
	want := figures(jsonReport(t, src))
	reg.push(t, saved(t, src), "private/secret:1", "--dest-creds", registryUser+":"+registryPass)
	ref := "registry://" + reg.host + "/private/secret:1"

	// A home whose certs.d trusts the test CA, as Docker's and podman's
	// /etc/docker/certs.d/HOST:PORT/ca.crt would.
	trusted := filepath.Join(dir, "home-trusts")
	certs := filepath.Join(trusted, ".config", "containers", "certs.d", reg.host)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	dockerConfig := func(name, pass string) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o700)
		conf := map[string]any{"auths": map[string]any{}}
		if pass != "" {
			conf["auths"] = map[string]any{reg.host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(registryUser + ":" + pass))}}
		}
		data, _ := json.Marshal(conf)
		if err := os.WriteFile(filepath.Join(d, "config.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	loggedIn, wrong, none := dockerConfig("logged-in", registryPass), dockerConfig("wrong", "not-the-password"), dockerConfig("none", "")
	tests := []struct {
		name, home, config, want string
	}{
		{"no login", trusted, none, "the registry " + reg.host + " wants a login for private/secret (or has no such repository): run docker login " + reg.host},
		{"wrong password", trusted, wrong, "the registry " + reg.host + " refuses the login this machine has for it (for private/secret): log in again with docker login " + reg.host},
		{"untrusted CA", t.TempDir(), loggedIn, "TLS with the registry " + reg.host + " failed: its certificate is signed by an authority this machine does not trust"},
		{"logged in", trusted, loggedIn, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", tc.home)
			t.Setenv("DOCKER_CONFIG", tc.config)
			if tc.want == "" {
				rep := jsonReport(t, ref)
				checkBlobFigures(t, rep)
				sameFigures(t, "the TLS registry", figures(rep), want)
				return
			}
			code, _, stderr := layerscope(t, nil, "--ci", ref)
			if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, %q; want exit 2 and one line with %q", code, stderr, tc.want)
			}
		})
	}
}

// openssl runs openssl in dir.
func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// signedPair makes NAME.key and NAME.crt in dir, signed by CA.crt and
// CA.key there, with the extensions of ext (one per line).
func signedPair(t *testing.T, dir, name, ca, subject, ext string) {
	t.Helper()
	openssl(t, dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name+".key", "-out", name+".csr", "-subj", subject)
	if err := os.WriteFile(filepath.Join(dir, name+".ext"), []byte(ext+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	openssl(t, dir, "x509", "-req", "-in", name+".csr", "-CA", ca+".crt", "-CAkey", ca+".key", "-CAcreateserial", "-out", name+".crt", "-days", "2", "-extfile", name+".ext")
}

// TestRegistryClientCert reads from a registry that wants a client
// certificate (mutual TLS: distribution's http.tls.clientcas, a CA made
// with openssl here). The pair is found as Docker and podman find it, in
// certs.d/HOST:PORT/client.cert and client.key (here the one of HOME,
// ~/.config/containers/certs.d); without it, or with half of it, the one
// line says what is missing and where it goes.
func TestRegistryClientCert(t *testing.T) {
	needRegistry(t)
	needTool(t, "openssl")
	t.Setenv("CI", "")
	dir := t.TempDir()
	for _, ca := range []string{"ca", "clientca", "otherca"} {
		openssl(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca+".key", "-out", ca+".crt", "-days", "2", "-subj", "/CN=layerscope test "+ca)
	}
	signedPair(t, dir, "server", "ca", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1")
	signedPair(t, dir, "client", "clientca", "/CN=layerscope test client", "extendedKeyUsage=clientAuth")
	signedPair(t, dir, "other", "otherca", "/CN=layerscope test client", "extendedKeyUsage=clientAuth")
	path := func(name string) string { return filepath.Join(dir, name) }
	reg := startRegistry(t, &registryTLS{cert: path("server.crt"), key: path("server.key"), clientCAs: path("clientca.crt"), clientCert: path("client.crt"), clientKey: path("client.key")})

	// certsDir makes a certs.d/HOST:PORT of these files (name: the test
	// file it copies) under a home of its own.
	certsDir := func(name string, files map[string]string) (home, certs string) {
		home = filepath.Join(dir, "home-"+name)
		certs = filepath.Join(home, ".config", "containers", "certs.d", reg.host)
		if err := os.MkdirAll(certs, 0o700); err != nil {
			t.Fatal(err)
		}
		for to, from := range files {
			data, err := os.ReadFile(path(from))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(certs, to), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return home, certs
	}
	_, push := certsDir("push", map[string]string{"ca.crt": "ca.crt", "client.cert": "client.crt", "client.key": "client.key"})
	src := "layerscope-test/waste:buildkit"
	want := figures(jsonReport(t, src))
	sh(t, "skopeo", "copy", "-q", "--dest-cert-dir", push, "docker-archive:"+saved(t, src), "docker://"+reg.host+"/mtls/waste:1")
	ref := "registry://" + reg.host + "/mtls/waste:1"
	tests := []struct {
		name  string
		files map[string]string
		want  string // "" when the image is read; else the line up to the TLS alert (which the server's Go version picks); CERTS is the certs.d directory
	}{
		{"client.cert and client.key", map[string]string{"ca.crt": "ca.crt", "client.cert": "client.crt", "client.key": "client.key"}, ""},
		{"no client certificate", map[string]string{"ca.crt": "ca.crt"},
			"layerscope: TLS with the registry " + reg.host + " failed: it requires a client certificate (mutual TLS), and none is set up for it: put its pair as client.cert and client.key in ~/.config/containers/certs.d/" + reg.host + "/ or /etc/docker/certs.d/" + reg.host + "/ ("},
		{"a .cert without its .key", map[string]string{"ca.crt": "ca.crt", "client.cert": "client.crt"},
			"layerscope: the client certificate CERTS/client.cert has no key beside it (CERTS/client.key): put its key there, or name a CA certificate *.crt\n"},
		{"a certificate of another CA", map[string]string{"ca.crt": "ca.crt", "client.cert": "other.crt", "client.key": "other.key"},
			"layerscope: TLS with the registry " + reg.host + " failed: it requires a client certificate (mutual TLS) signed by a CA it names, and CERTS/client.cert is not: put its pair as client.cert and client.key in ~/.config/containers/certs.d/" + reg.host + "/ or /etc/docker/certs.d/" + reg.host + "/ ("},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home, certs := certsDir(fmt.Sprint(i), tc.files)
			t.Setenv("HOME", home)
			t.Setenv("DOCKER_CONFIG", t.TempDir()) // no login
			if tc.want == "" {
				rep := jsonReport(t, ref)
				checkBlobFigures(t, rep)
				sameFigures(t, "the mutual TLS registry", figures(rep), want)
				return
			}
			code, _, stderr := layerscope(t, nil, "--ci", ref)
			if want := strings.ReplaceAll(tc.want, "CERTS", certs); code != 2 || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, %q; want exit 2 and one line that begins %q", code, stderr, want)
			}
		})
	}
}

// faultProxy stands between layerscope and a registry and lets fault
// change the first blob response of more than 64 KiB.
func faultProxy(t *testing.T, reg *testRegistry, fault func(io.ReadCloser) io.ReadCloser) string {
	t.Helper()
	u, _ := url.Parse("http://" + reg.host)
	p := httputil.NewSingleHostReverseProxy(u)
	var once sync.Once
	p.ModifyResponse = func(resp *http.Response) error {
		if strings.Contains(resp.Request.URL.Path, "/blobs/") && resp.ContentLength > 64<<10 {
			once.Do(func() { resp.Body = fault(resp.Body) })
		}
		return nil
	}
	p.ErrorLog = discardLog()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p, ErrorLog: discardLog()}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

type funcReader struct {
	read  func([]byte) (int, error)
	close func() error
}

func (f funcReader) Read(p []byte) (int, error) { return f.read(p) }
func (f funcReader) Close() error               { return f.close() }

// TestRegistryFaults: a registry stopped in the middle of a pull, a layer
// served with the wrong bytes, a manifest that names a blob the registry
// lacks. Each ends with exit 2 and one line, and leaves no file behind.
func TestRegistryFaults(t *testing.T) {
	needRegistry(t)
	t.Setenv("CI", "")
	src := "layerscope-test/waste:buildkit" // layer 0 is a blob of 1 MB
	tests := []struct {
		name string
		// setup returns the registry host layerscope is to read from.
		setup func(t *testing.T, reg *testRegistry) string
		want  []string // one of these
	}{
		{"stopped mid-pull", func(t *testing.T, reg *testRegistry) string {
			return faultProxy(t, reg, func(body io.ReadCloser) io.ReadCloser {
				var n int
				return funcReader{read: func(p []byte) (int, error) {
					if n >= 32<<10 {
						// What the registry had sent the kernel still
						// arrives: the stream breaks here, as it would
						// on the wire.
						reg.cmd.Process.Kill()
						<-reg.done
						return 0, io.ErrUnexpectedEOF
					}
					m, err := body.Read(p[:min(len(p), 4<<10)])
					n += m
					return m, err
				}, close: body.Close}
			})
		}, []string{"layer 0 (blobs/sha256/", "the registry 127.0.0.1:", " closed the connection in the middle of the pull"}},
		{"wrong bytes", func(t *testing.T, reg *testRegistry) string {
			return faultProxy(t, reg, func(body io.ReadCloser) io.ReadCloser {
				var n int
				return funcReader{read: func(p []byte) (int, error) {
					m, err := body.Read(p)
					if n <= 100_000 && n+m > 100_000 {
						p[100_000-n] ^= 0xff
					}
					n += m
					return m, err
				}, close: body.Close}
			})
		}, []string{"layer 0 (blobs/sha256/", "): digest mismatch: content is sha256:"}},
		{"missing blob", func(t *testing.T, reg *testRegistry) string {
			m := manifestOf(t, reg, "lt/waste", "1")
			d := m["layers"].([]any)[0].(map[string]any)["digest"].(string)
			h := strings.TrimPrefix(d, "sha256:")
			if err := os.Remove(filepath.Join(reg.data, "docker", "registry", "v2", "blobs", "sha256", h[:2], h, "data")); err != nil {
				t.Fatal(err)
			}
			return reg.host
		}, []string{"layer 0 (blobs/sha256/", "): the registry 127.0.0.1:", " lacks the blob sha256:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t, nil)
			reg.push(t, saved(t, src), "lt/waste:1")
			host := tc.setup(t, reg)
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errOut strings.Builder
			code, err := run(ctx, []string{"--ci", "registry://" + host + "/lt/waste:1"}, strings.NewReader(""), &out, &errOut)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if code != 2 || strings.Contains(msg, "\n") || !containsAll(msg, tc.want) || ctx.Err() != nil {
				t.Errorf("exit %d, %q; want exit 2 and one line with %q", code, msg, tc.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left %d files in TMPDIR", len(left))
			}
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// daemonHost is where the Docker daemon the tests use answers.
func daemonHost(t *testing.T) string {
	t.Helper()
	c, err := image.NewDaemonClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.DaemonHost()
}
