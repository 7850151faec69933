package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// containerdService is a containerd of the test's own (Debian's, the one
// docker.io runs), on a socket and a root in a temporary directory, so the
// Docker daemon's containerd is left alone.
type containerdService struct {
	sock string
	done <-chan struct{} // closed when containerd has ended
}

const ctrNamespace = "layerscope-test"

func startContainerd(t *testing.T) *containerdService {
	t.Helper()
	dir := t.TempDir()
	c := &containerdService{sock: filepath.Join(dir, "containerd.sock")}
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n[ttrpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, c.sock+".ttrpc")
	cf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.done = startService(t, filepath.Join(dir, "log"), "containerd", "--config", cf)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if exec.Command("ctr", "-a", c.sock, "version").Run() == nil {
			return c
		}
		select {
		case <-c.done:
			out, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("containerd exited: %s", out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("containerd did not answer within 30 s")
		}
	}
}

// TestContainerdAgreesWithDaemon imports the test images into containerd
// with `ctr images import` (layers stored as docker save wrote them), and
// one image as an OCI archive with zstd layers (stored compressed), and
// reads each through containerd's API: every figure is the daemon's.
func TestContainerdAgreesWithDaemon(t *testing.T) {
	needTestImages(t)
	needTool(t, "containerd")
	needTool(t, "ctr")
	needTool(t, "skopeo")
	t.Setenv("CI", "")
	refs := testImageRefs()
	want := daemonFigures(t, refs)
	c := startContainerd(t)
	dir := t.TempDir()
	all := filepath.Join(dir, "all.tar")
	sh(t, "docker", append([]string{"save", "-o", all}, refs...)...)
	sh(t, "ctr", "-a", c.sock, "-n", ctrNamespace, "images", "import", "--no-unpack", all)
	zstd := filepath.Join(dir, "zstd.oci.tar")
	sh(t, "skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", "docker-archive:"+saved(t, refs[0]), "oci-archive:"+zstd+":layerscope-test/zstd:1")
	sh(t, "ctr", "-a", c.sock, "-n", ctrNamespace, "images", "import", "--no-unpack", zstd)
	args := []string{"--source", "containerd", "--containerd-address", c.sock, "--namespace", ctrNamespace}
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			rep := jsonReport(t, append(args, ref)...)
			if src := rep["image"].(map[string]any)["source"]; src != "containerd" {
				t.Errorf("source %v", src)
			}
			sameFigures(t, "containerd", figures(rep), want[ref])
		})
	}
	t.Run("zstd layers, from the environment", func(t *testing.T) {
		t.Setenv("CONTAINERD_ADDRESS", c.sock)
		t.Setenv("CONTAINERD_NAMESPACE", ctrNamespace)
		rep := jsonReport(t, "--source", "containerd", "layerscope-test/zstd:1")
		var sum float64
		for _, l := range rep["layers"].([]any) {
			b, _ := l.(map[string]any)["blobBytes"].(float64)
			sum += b
		}
		if got := rep["summary"].(map[string]any)["compressedBytes"]; got != sum || sum == 0 {
			t.Errorf("compressedBytes %v, blobs add up to %v", got, sum)
		}
		sameFigures(t, "containerd, zstd", figures(rep), want[refs[0]]) // figures drops the blob sizes
	})
	dockerSock, _ := strings.CutPrefix(daemonHost(t), "unix://")
	errs := []struct {
		name string
		args []string
		want string
	}{
		{"wrong namespace", []string{"--source", "containerd", "--containerd-address", c.sock, "--namespace", "k8s.io", refs[0]},
			`image "docker.io/` + refs[0] + `" not found in containerd at ` + c.sock + `, namespace k8s.io, which holds no image`},
		{"no such image", []string{"--source", "containerd", "--containerd-address", c.sock, "--namespace", ctrNamespace, "nothing:1"},
			`image "docker.io/library/nothing:1" not found in containerd at ` + c.sock + `, namespace layerscope-test, which holds docker.io/layerscope-test/`},
		{"no socket", []string{"--source", "containerd", "--containerd-address", filepath.Join(dir, "none.sock"), refs[0]},
			"cannot reach containerd at " + filepath.Join(dir, "none.sock") + ": no socket there"},
		{"not containerd", []string{"--source", "containerd", "--containerd-address", dockerSock, refs[0]},
			dockerSock + " answers, but not as containerd: it speaks HTTP/1.1"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := layerscope(t, nil, append([]string{"--ci"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, %q; want exit 2 and one line with %q", code, stderr, tc.want)
			}
		})
	}
}
