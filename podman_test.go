package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podmanService is `podman system service` on a socket of the test's own,
// with a storage of its own (vfs: it works inside a container too).
type podmanService struct {
	sock string
	args []string        // the podman flags that name its storage
	done <-chan struct{} // closed when the service has ended
}

func startPodman(t *testing.T) *podmanService {
	t.Helper()
	dir := t.TempDir()
	p := &podmanService{
		sock: filepath.Join(dir, "podman.sock"),
		args: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs",
			"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", filepath.Join(dir, "tmp"),
			"--network-config-dir", filepath.Join(dir, "networks")},
	}
	p.done = startService(t, filepath.Join(dir, "service.log"), "podman", append(append([]string{}, p.args...), "system", "service", "--time", "0", "unix://"+p.sock)...)
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", p.sock)
		},
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := cl.Get("http://podman/_ping")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.done:
			out, _ := os.ReadFile(filepath.Join(dir, "service.log"))
			t.Fatalf("podman system service exited: %s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman's socket did not answer within 30 s: %v", err)
		}
	}
}

// TestPodmanAgreesWithDocker loads the test images into podman and reads
// them through its Docker-compatible socket (DOCKER_HOST): every figure is
// the daemon's.
func TestPodmanAgreesWithDocker(t *testing.T) {
	needTestImages(t)
	needTool(t, "podman")
	needTool(t, "docker")
	t.Setenv("CI", "")
	refs := testImageRefs()
	want := daemonFigures(t, refs)
	p := startPodman(t)
	all := filepath.Join(t.TempDir(), "all.tar")
	sh(t, "docker", append([]string{"save", "-o", all}, refs...)...)
	sh(t, "podman", append(append([]string{}, p.args...), "load", "-q", "-i", all)...)
	os.Remove(all)
	t.Setenv("DOCKER_HOST", "unix://"+p.sock)
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			rep := jsonReport(t, "--source", "docker", ref)
			if loc := rep["image"].(map[string]any)["location"]; loc != "unix://"+p.sock {
				t.Errorf("read from %v, want podman's socket", loc)
			}
			sameFigures(t, "podman", figures(rep), want[ref])
		})
	}
	t.Run("missing image", func(t *testing.T) {
		code, _, stderr := layerscope(t, nil, "--ci", "--source", "docker", "layerscope-test/no-such-image:1")
		want := fmt.Sprintf(`layerscope: image "layerscope-test/no-such-image:1" not found in the daemon at unix://%s (pull or build it first)`, p.sock)
		if code != 2 || strings.TrimSpace(stderr) != want {
			t.Errorf("exit %d, %q; want %q", code, stderr, want)
		}
	})
	t.Run("platform", func(t *testing.T) {
		code, _, stderr := layerscope(t, nil, "--ci", "--platform", "linux/arm64", "--source", "docker", refs[0])
		if want := "its API (1.41) cannot export another platform (needs 1.48)"; code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, %q; want %q", code, stderr, want)
		}
	})
}
