package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	dimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// fakeDaemon answers ImageInspect and ImageSave from memory.
type fakeDaemon struct {
	export []byte
	size   int64
}

func (f *fakeDaemon) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (dimage.InspectResponse, error) {
	return dimage.InspectResponse{ID: "sha256:feed", Os: "linux", Architecture: "amd64", Size: f.size}, nil
}

func (f *fakeDaemon) ImageSave(context.Context, []string, ...client.ImageSaveOption) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(f.export)), nil
}
func (f *fakeDaemon) Ping(context.Context) (types.Ping, error) {
	return types.Ping{APIVersion: "1.41"}, nil
}
func (f *fakeDaemon) ClientVersion() string { return "1.41" }
func (f *fakeDaemon) DaemonHost() string    { return "unix:///fake.sock" }

// TestDaemonFailureMidExport: a daemon that fails in the middle of an
// export appends its error as JSON; its message is what the user sees.
func TestDaemonFailureMidExport(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "abc/layer.tar", Size: 4096, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 1000)) // the export stops here...
	export := append(buf.Bytes()[:buf.Len()], []byte(`{"errorDetail":{"message":"open /var/lib/docker/overlay2/x/diff: no such file or directory"},"error":"open …"}`)...)
	_, err := Load(context.Background(), "app:1", Options{Daemon: &fakeDaemon{export: export}, Source: SourceDocker})
	if err == nil || !strings.Contains(err.Error(), "the daemon failed during the export: open /var/lib/docker/overlay2/x/diff: no such file or directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestDaemonPlatform: the daemon's API (1.41) cannot export another
// platform; asking for one says so instead of analysing the wrong image.
func TestDaemonPlatform(t *testing.T) {
	_, err := Load(context.Background(), "app:1", Options{Daemon: &fakeDaemon{}, Platform: &Platform{OS: "linux", Architecture: "arm64"}})
	if err == nil || !strings.Contains(err.Error(), "cannot export another platform (needs 1.48)") {
		t.Fatalf("err = %v", err)
	}
}

// TestContextEndpoint resolves docker contexts as the docker CLI does:
// DOCKER_CONTEXT first, then the config's currentContext.
func TestContextEndpoint(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_CONTEXT", "")
	writeContext := func(name, host string) {
		sum := sha256.Sum256([]byte(name))
		p := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
		os.MkdirAll(p, 0o755)
		os.WriteFile(filepath.Join(p, "meta.json"), []byte(`{"Name":"`+name+`","Endpoints":{"docker":{"Host":"`+host+`"}}}`), 0o644)
	}
	if ep, err := contextEndpoint(); err != nil || ep != nil {
		t.Fatalf("no config: %v %v, want the default daemon", ep, err)
	}
	writeContext("colima", "unix:///home/me/.colima/docker.sock")
	writeContext("remote", "tcp://10.0.0.9:2376")
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"colima"}`), 0o644)
	if ep, err := contextEndpoint(); err != nil || ep == nil || ep.Host != "unix:///home/me/.colima/docker.sock" {
		t.Fatalf("currentContext: %+v %v", ep, err)
	}
	t.Setenv("DOCKER_CONTEXT", "remote")
	if ep, err := contextEndpoint(); err != nil || ep == nil || ep.Host != "tcp://10.0.0.9:2376" {
		t.Fatalf("DOCKER_CONTEXT: %+v %v", ep, err)
	}
	t.Setenv("DOCKER_CONTEXT", "default")
	if ep, err := contextEndpoint(); err != nil || ep != nil {
		t.Fatalf("default context: %+v %v", ep, err)
	}
	t.Setenv("DOCKER_CONTEXT", "gone")
	if _, err := contextEndpoint(); err == nil || !strings.Contains(err.Error(), `docker context "gone" not found`) {
		t.Fatalf("missing context: %v", err)
	}
}

// TestLinkLoop: members that link to each other end in an error, not a
// hang.
func TestLinkLoop(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeSymlink, Linkname: "loop.json"})
	tw.WriteHeader(&tar.Header{Name: "loop.json", Typeflag: tar.TypeSymlink, Linkname: "manifest.json"})
	tw.Close()
	for _, arg := range []string{"-", filepath.Join(t.TempDir(), "loop.tar")} {
		if arg != "-" {
			os.WriteFile(arg, buf.Bytes(), 0o644)
		}
		_, err := Load(context.Background(), arg, Options{Stdin: bytes.NewReader(buf.Bytes())})
		if err == nil || !strings.Contains(err.Error(), "too many levels of links") {
			t.Errorf("%s: err = %v", arg, err)
		}
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestEndlessInputIsCancellable: an archive member that never ends (a
// decompression bomb looks the same) stops when the context does.
func TestEndlessInputIsCancellable(t *testing.T) {
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	tw.WriteHeader(&tar.Header{Name: "abc/layer.tar", Size: 1 << 50, Mode: 0o644, Typeflag: tar.TypeReg})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Load(ctx, "-", Options{Stdin: io.MultiReader(bytes.NewReader(hdr.Bytes()), zeros{})})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// fakeHost serves the Engine API over TCP, as DOCKER_HOST reaches it, and
// sets DOCKER_HOST to it for the test.
func fakeHost(t *testing.T, h http.HandlerFunc) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("DOCKER_HOST", "tcp://"+srv.Listener.Addr().String())
	t.Setenv("DOCKER_TLS_VERIFY", "")
	t.Setenv("DOCKER_CERT_PATH", "")
	t.Setenv("DOCKER_API_VERSION", "")
}

// TestNotADaemon: a host that answers HTTP, but not as a Docker daemon,
// is not reported as one that lacks the image.
func TestNotADaemon(t *testing.T) {
	fakeHost(t, http.NotFound)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Load(ctx, "app:1", Options{Source: SourceDocker})
	if err == nil || !strings.Contains(err.Error(), "answers, but not as a Docker daemon") || strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v, want one that says the host is not a Docker daemon", err)
	}
}

// TestDaemonInterrupted: a cancelled read from the daemon, while it
// prepares the export or while it sends it, is an interruption in a
// user's words: no URL of the socket, no HTTP client error.
func TestDaemonInterrupted(t *testing.T) {
	for _, phase := range []string{"preparing", "sending"} {
		t.Run(phase, func(t *testing.T) {
			started := make(chan struct{})
			fakeHost(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Api-Version", "1.41")
				switch {
				case r.URL.Path == "/_ping":
					io.WriteString(w, "OK")
				case strings.HasSuffix(r.URL.Path, "/json"):
					io.WriteString(w, `{"Id":"sha256:feed","Os":"linux","Architecture":"amd64","Size":1000000}`)
				case strings.HasSuffix(r.URL.Path, "/images/get"):
					if phase == "sending" {
						var buf bytes.Buffer
						tw := tar.NewWriter(&buf)
						tw.WriteHeader(&tar.Header{Name: "abc/layer.tar", Size: 1 << 30, Mode: 0o644, Typeflag: tar.TypeReg})
						w.Write(buf.Bytes())
						w.(http.Flusher).Flush()
					}
					close(started)
					<-r.Context().Done()
				default:
					http.NotFound(w, r)
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := Load(ctx, "app:1", Options{Source: SourceDocker})
				done <- err
			}()
			select {
			case <-started:
			case err := <-done:
				t.Fatalf("Load ended before the export: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || err.Error() != "reading app:1: interrupted" {
					t.Fatalf("err = %q, want an interruption in plain words", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Load goes on 10 s after the context ended")
			}
		})
	}
}

// TestSSHHost: the Docker CLI reaches an ssh:// host through ssh, which
// layerscope does not run; it must say so, not that the daemon may be
// down.
func TestSSHHost(t *testing.T) {
	t.Setenv("DOCKER_HOST", "ssh://me@build-host")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Load(ctx, "app:1", Options{Source: SourceDocker})
	if err == nil || !strings.Contains(err.Error(), "over ssh") || strings.Contains(err.Error(), "is it running") {
		t.Fatalf("err = %v, want one that says ssh:// hosts are not reached", err)
	}
}

// hangingPing is a daemon whose ping never answers.
type hangingPing struct{ fakeDaemon }

func (*hangingPing) Ping(ctx context.Context) (types.Ping, error) {
	<-ctx.Done()
	return types.Ping{}, ctx.Err()
}

// TestDaemonErrorPingTimesOut: a missing image on a daemon whose ping
// hangs is still "not found", soon, not a hang or "another server".
func TestDaemonErrorPingTimesOut(t *testing.T) {
	defer func(d time.Duration) { pingWait = d }(pingWait)
	pingWait = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := daemonError(ctx, &hangingPing{}, "app:1", fmt.Errorf("no such image: %w", cerrdefs.ErrNotFound))
	if err == nil || !strings.Contains(err.Error(), `image "app:1" not found in the daemon`) || ctx.Err() != nil {
		t.Errorf("got %v", err)
	}
}
