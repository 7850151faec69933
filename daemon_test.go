package main

import (
	"context"
	"encoding/json"
	"fmt"
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

// The images .ci/daemon.sh builds from testdata/dockerfiles, each with the
// legacy builder and with BuildKit.
var daemonImages = []string{"waste", "multistage", "secret", "whiteouts", "gobuild", "gomulti", "python",
	"scratchuser", "lockfirst", "contextcopy", "jdk", "junk"} // the Debian ones (88 MB) are left out: time

// testImageRefs names every image of daemonImages, with each builder.
func testImageRefs() []string {
	var refs []string
	for _, name := range daemonImages {
		for _, builder := range []string{"legacy", "buildkit"} {
			refs = append(refs, "layerscope-test/"+name+":"+builder)
		}
	}
	return refs
}

// daemonFigures reads each image through the daemon: the figures every
// other source must give.
func daemonFigures(t *testing.T, refs []string) map[string]map[string]any {
	t.Helper()
	want := map[string]map[string]any{}
	for _, ref := range refs {
		want[ref] = figures(jsonReport(t, ref))
	}
	return want
}

// baseFields are the summary's figures that a known base image adds.
var baseFields = []string{"baseLayers", "base", "buildWastePercent", "buildWastedBytes", "baseRemovedBytes"}

// needDaemon skips a test when no Docker daemon answers, unless CI=true:
// there a missing daemon is a failure, never a silent skip.
func needDaemon(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := image.NewDaemonClient(ctx)
	if err == nil {
		defer c.Close()
		_, err = c.Ping(ctx)
	}
	if err != nil {
		if truthy(os.Getenv("CI")) {
			t.Fatalf("CI=true and no Docker daemon answers: %v", err)
		}
		t.Skipf("no Docker daemon answers (%v): to run this test, %s", err, buildImages)
	}
}

// buildImages is the one command that makes what needTestImages looks for.
const buildImages = "sudo bash .ci/daemon.sh all (apt-installs docker.io, busybox-static, skopeo, debootstrap and tmux, starts dockerd unless a daemon answers, and builds the layerscope-test/* images)"

var testImages struct {
	once    sync.Once
	missing []string
}

// needTestImages skips a test when the daemon lacks the images that
// .ci/daemon.sh builds from testdata/dockerfiles, naming the command that
// builds them, unless CI=true: there a missing image is a failure.
func needTestImages(t *testing.T) {
	t.Helper()
	needDaemon(t)
	testImages.once.Do(func() {
		refs := []string{"layerscope-test/base:1", "layerscope-test/debian:12"}
		dirs, _ := os.ReadDir(filepath.Join("testdata", "dockerfiles"))
		for _, d := range dirs {
			if d.IsDir() {
				refs = append(refs, "layerscope-test/"+d.Name()+":legacy", "layerscope-test/"+d.Name()+":buildkit")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := image.NewDaemonClient(ctx)
		if err != nil {
			testImages.missing = refs
			return
		}
		defer c.Close()
		for _, ref := range refs {
			if _, err := c.ImageInspect(ctx, ref); err != nil {
				testImages.missing = append(testImages.missing, ref)
			}
		}
	})
	if m := testImages.missing; len(m) > 0 {
		msg := fmt.Sprintf("the daemon lacks %d test images (%s): build them with %s", len(m), strings.Join(m[:min(3, len(m))], ", "), buildImages)
		if truthy(os.Getenv("CI")) {
			t.Fatal("CI=true and " + msg)
		}
		t.Skip(msg)
	}
}

// startService starts a server the test owns, its output in logPath, in
// a process group of its own. It returns a channel closed when the server
// has ended; the test's cleanup ends it: SIGTERM, then SIGKILL after 20 s.
func startService(t *testing.T, logPath, name string, args ...string) <-chan struct{} {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return done
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if truthy(os.Getenv("CI")) {
			t.Fatalf("CI=true and %s is not installed", name)
		}
		t.Skipf("%s is not installed: sudo bash .ci/daemon.sh install && sudo bash .ci/registry.sh install installs what the tests use", name)
	}
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// jsonReport runs layerscope --ci --format json and decodes the report.
func jsonReport(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := layerscope(t, nil, append([]string{"--ci", "--format", "json", "--fail-on", "none"}, args...)...)
	if code == 2 {
		t.Fatalf("layerscope %s: %s", strings.Join(args, " "), stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("layerscope %s: %v", strings.Join(args, " "), err)
	}
	return rep
}

// figures are what every source must agree on: all but where the image
// came from, and the base image, which only the daemon's search finds
// without --base (baseFields).
func figures(rep map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"summary", "waste", "findings", "warnings"} {
		out[k] = rep[k]
	}
	summary := out["summary"].(map[string]any)
	delete(summary, "compressedBytes") // only blob sources know it
	for _, k := range baseFields {
		delete(summary, k)
	}
	for _, f := range rep["findings"].([]any) {
		delete(f.(map[string]any), "base")
	}
	var layers []any
	for _, l := range rep["layers"].([]any) {
		l := l.(map[string]any)
		delete(l, "blobDigest") // only compressed sources have one
		delete(l, "blobBytes")
		delete(l, "base")
		layers = append(layers, l)
	}
	out["layers"] = layers
	return out
}

// TestSourcesAgreeOnRealImages reads each test image through the daemon,
// from `docker save`, and from skopeo's OCI layouts and archives (plain,
// gzip and zstd), and checks that every figure is the same.
func TestSourcesAgreeOnRealImages(t *testing.T) {
	needTestImages(t)
	needTool(t, "docker")
	needTool(t, "skopeo")
	t.Setenv("CI", "")
	for _, name := range daemonImages {
		for _, builder := range []string{"legacy", "buildkit"} {
			ref := "layerscope-test/" + name + ":" + builder
			t.Run(name+"/"+builder, func(t *testing.T) {
				dir := t.TempDir()
				want := figures(jsonReport(t, ref))
				archive := filepath.Join(dir, "image.tar")
				sh(t, "docker", "save", "-o", archive, ref)
				sh(t, "skopeo", "copy", "-q", "docker-archive:"+archive, "oci:"+filepath.Join(dir, "oci-plain")+":"+builder)
				sh(t, "skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "gzip", "docker-archive:"+archive, "oci:"+filepath.Join(dir, "oci-gzip")+":"+builder)
				sh(t, "skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", "docker-archive:"+archive, "oci:"+filepath.Join(dir, "oci-zstd")+":"+builder)
				sh(t, "skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", "docker-archive:"+archive, "oci-archive:"+filepath.Join(dir, "image.oci.tar")+":"+builder)
				for _, src := range []string{archive, filepath.Join(dir, "oci-plain"), filepath.Join(dir, "oci-gzip"), filepath.Join(dir, "oci-zstd"), filepath.Join(dir, "image.oci.tar")} {
					got := figures(jsonReport(t, src))
					if !reflect.DeepEqual(got, want) {
						g, _ := json.MarshalIndent(got, "", " ")
						w, _ := json.MarshalIndent(want, "", " ")
						t.Errorf("%s disagrees with the daemon:\n%s\nwant:\n%s", filepath.Base(src), g, w)
					}
				}
			})
		}
	}
}

func TestDaemonErrors(t *testing.T) {
	needDaemon(t)
	t.Setenv("CI", "")
	code, _, stderr := layerscope(t, nil, "--ci", "layerscope-test/no-such-image:1")
	if code != 2 || !strings.Contains(stderr, `image "layerscope-test/no-such-image:1" not found in the daemon`) {
		t.Errorf("missing image: exit %d, %q", code, stderr)
	}
}

// TestFindingsOnRealImages checks the leftover rules on images the daemon
// built with each builder: each finding names the instruction that caused
// it, and the images built right draw none.
func TestFindingsOnRealImages(t *testing.T) {
	needTestImages(t)
	t.Setenv("CI", "")
	type want struct{ rule, createdBy, path string }
	tests := []struct {
		name string
		want []want
	}{
		{"gobuild", []want{
			{"go-toolchain", "RUN mkdir -p /usr/local/go/bin", "/usr/local/go"},
			{"go-build-cache", "RUN mkdir -p /root/.cache/go-build/ab", "/root/.cache/go-build"},
			{"go-build-cache", "RUN mkdir -p /root/.cache/go-build/ab", "/root/go/pkg/mod"},
			{"build-files", "COPY ", "/src/Dockerfile"},
			{"source-code", "COPY ", "/src/main.go"},
			{"run-as-root", "", ""},
		}},
		{"gomulti", nil},
		{"python", nil},
		{"secret", []want{
			{"private-key", "COPY ", "/root/.ssh/id_rsa"},
			{"private-key", "RUN chmod 600 /root/.ssh/id_rsa", "/root/.ssh/id_rsa"},
			{"secret-env", "ARG DB_PASSWORD=<redacted>", ""},
			{"secret-env", "NPM_TOKEN=<redacted>", ""},
			{"run-as-root", "", ""},
		}},
		// Issue 9: real images from both builders.
		{"debslim", []want{{"package-db", "RUN apt-get update", "/var/cache/debconf/templates.dat"}}},
		{"debuser", []want{{"overwritten", "", "/etc/passwd"}}},
		{"scratchuser", []want{{"user-undefined", "USER nobody", ""}}},
		{"lockfirst", nil},
		{"contextcopy", []want{
			{"install-after-copy", "bundle install", ""},
			{"rewritten-unchanged", "COPY ", "/opt/myapp/Gemfile.lock"},
		}},
		{"jdk", []want{{"jdk", "RUN J=/opt/java/openjdk", "/opt/java/openjdk/jmods"}}},
		{"junk", []want{
			{"build-tools", "RUN mkdir -p /usr/libexec/git-core", "/usr/libexec/git-core"},
			{"build-tools", "RUN mkdir -p /usr/libexec/git-core", "/usr/local/bin/protoc"},
			{"vcs-folder", "RUN mkdir -p /app/.git/objects", "/app/.git"},
			{"context-junk", "COPY ", "/app/docker-compose.yml"},
			{"context-junk", "COPY ", "/app/.idea"},
			{"context-junk", "COPY ", "/app/.vscode"},
			{"context-junk", "COPY ", "/app/node_modules"},
			{"install-after-copy", "npm ci", ""},
		}},
		{"waste", []want{
			{"removed-later", "RUN mkdir -p /data/cache", "/data/big.bin"},
			{"metadata-only", "RUN mkdir -p /data/cache", "/opt/app/lib.so"},
			{"overwritten", "RUN mkdir -p /data/cache", "/opt/app/config.txt"},
			{"removed-later", "RUN mkdir -p /data/cache", "/data/cache/a.txt"},
		}},
	}
	for _, tc := range tests {
		for _, builder := range []string{"legacy", "buildkit"} {
			t.Run(tc.name+"/"+builder, func(t *testing.T) {
				rep := jsonReport(t, "layerscope-test/"+tc.name+":"+builder)
				var got []want
				for _, f := range rep["findings"].([]any) {
					f := f.(map[string]any)
					paths := f["paths"].([]any)
					p := ""
					if len(paths) > 0 {
						p = paths[0].(string)
					}
					got = append(got, want{f["rule"].(string), f["createdBy"].(string), p})
				}
				if len(got) != len(tc.want) {
					t.Fatalf("findings %+v, want %+v", got, tc.want)
				}
				for i, w := range tc.want {
					if got[i].rule != w.rule || got[i].path != w.path || !strings.Contains(got[i].createdBy, w.createdBy) {
						t.Errorf("finding %d = %+v, want %+v", i, got[i], w)
					}
				}
			})
		}
	}
	// The default fail-on set fails CI on a secret, even a deleted one.
	if code, _, _ := layerscope(t, nil, "--ci", "--max-waste-percent=off", "--min-efficiency=off", "layerscope-test/secret:buildkit"); code != 1 {
		t.Errorf("secret image: exit %d, want 1", code)
	}
	if code, stdout, _ := layerscope(t, nil, "--ci", "layerscope-test/gomulti:buildkit"); code != 0 {
		t.Errorf("multi-stage image: exit %d, want 0\n%s", code, stdout)
	}
}

// TestIssue9Verdicts checks the CI verdicts issue 9 asks for on real
// images from both builders.
func TestIssue9Verdicts(t *testing.T) {
	needTestImages(t)
	t.Setenv("CI", "")
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			// The Debian-slim runtime passes, with one info, and says
			// which figure it judged; --strict-waste judges all and fails.
			ref := "layerscope-test/debslim:" + builder
			code, stdout, _ := layerscope(t, nil, "--ci", ref)
			if code != 0 || !strings.Contains(stdout, "waste judged: 0 B, the wasted bytes less 1.6 MB of package-database updates") {
				t.Errorf("%s: exit %d, want 0\n%s", ref, code, stdout)
			}
			rep := jsonReport(t, ref)
			s := rep["summary"].(map[string]any)
			if s["unavoidableWastedBytes"].(float64) < 1e6 || s["unavoidableWastedBytes"] != s["wastedBytes"] {
				t.Errorf("%s: summary %v", ref, s)
			}
			if w := rep["ci"].(map[string]any)["waste"].(map[string]any); w["judged"] != "avoidable" || w["bytes"].(float64) != 0 {
				t.Errorf("%s: ci.waste %v", ref, w)
			}
			if code, stdout, _ := layerscope(t, nil, "--ci", "--strict-waste", ref); code != 1 || !strings.Contains(stdout, "waste judged: all") {
				t.Errorf("%s --strict-waste: exit %d, want 1\n%s", ref, code, stdout)
			}
			// Scratch with a named user and no /etc/passwd fails.
			if code, stdout, _ := layerscope(t, nil, "--ci", "layerscope-test/scratchuser:"+builder); code != 1 || !strings.Contains(stdout, "error   config") {
				t.Errorf("scratchuser: exit %d, want 1\n%s", code, stdout)
			}
			// The lock-files-first layout passes with no finding.
			if code, stdout, _ := layerscope(t, nil, "--ci", "layerscope-test/lockfirst:"+builder); code != 0 || strings.Contains(stdout, "Findings") {
				t.Errorf("lockfirst: exit %d, want 0 and no finding\n%s", code, stdout)
			}
		})
	}
}

// TestSecretsNeverPrintedOnRealImages: both builders record build
// arguments unquoted (|2 DB_PASSWORD=battery staple words NPM_TOKEN=…
// /bin/sh -c …); no word of a value shows in the text or JSON report, and
// each argument is a finding.
func TestSecretsNeverPrintedOnRealImages(t *testing.T) {
	needTestImages(t)
	t.Setenv("CI", "")
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			ref := "layerscope-test/secret:" + builder
			_, text, stderr := layerscope(t, nil, "--ci", "--fail-on", "none", ref)
			_, js, _ := layerscope(t, nil, "--ci", "--format", "json", "--fail-on", "none", ref)
			if text == "" || js == "" {
				t.Fatalf("no report: %s", stderr)
			}
			for _, v := range []string{"battery", "staple", "words", "fake-token-123"} {
				if strings.Contains(text, v) || strings.Contains(js, v) {
					t.Errorf("a build argument's value shows: %q", v)
				}
			}
			for _, want := range []string{
				"RUN |2 DB_PASSWORD=<redacted> NPM_TOKEN=<redacted> rm /root/.ssh/id_rsa",
				"DB_PASSWORD is recorded in the build history with its value",
				"NPM_TOKEN is recorded in the build history with its value",
			} {
				if !strings.Contains(js, want) {
					t.Errorf("the JSON report lacks %q", want)
				}
			}
		})
	}
}

// TestRootAdviceRunsOnDebian: the run-as-root fix layerscope gives for the
// Debian base is the line testdata/dockerfiles/debuser builds with, and
// the image built with it runs as that user.
func TestRootAdviceRunsOnDebian(t *testing.T) {
	needTestImages(t)
	needTool(t, "docker")
	t.Setenv("CI", "")
	rep := jsonReport(t, "layerscope-test/debian:12")
	var advice string
	for _, f := range rep["findings"].([]any) {
		if f := f.(map[string]any); f["rule"] == "run-as-root" {
			advice = f["advice"].(string)
		}
	}
	const line = "RUN useradd --system --uid 10001 app"
	if !strings.Contains(advice, line) {
		t.Fatalf("advice on the Debian base: %q, want %q", advice, line)
	}
	df, err := os.ReadFile(filepath.Join("testdata", "dockerfiles", "debuser", "Dockerfile"))
	if err != nil || !strings.Contains(string(df), "\n"+line+"\n") {
		t.Fatalf("testdata/dockerfiles/debuser/Dockerfile does not build with %q (%v)", line, err)
	}
	for _, builder := range []string{"legacy", "buildkit"} {
		out, err := exec.Command("docker", "run", "--rm", "--network=none", "layerscope-test/debuser:"+builder).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "app" {
			t.Errorf("debuser:%s runs as %q (%v), want app", builder, out, err)
		}
	}
}
