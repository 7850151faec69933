package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/layerscope/layerscope/tui"
)

// TestJSONFileKinds: --json replaces a regular file whole, with the mode a
// new file gets, and writes through anything else (a device, a FIFO, a
// symlink to one) instead of turning it into a regular file.
func TestJSONFileKinds(t *testing.T) {
	t.Setenv("CI", "")
	dir := t.TempDir()

	t.Run("a new file gets 0644 less the umask", func(t *testing.T) {
		old := syscall.Umask(0o027)
		defer syscall.Umask(old)
		out := filepath.Join(dir, "new.json")
		if code, _, stderr := layerscope(t, nil, "--json", out, sample); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, want 0640 (0644 less umask 027)", st.Mode().Perm())
		}
		leftovers, _ := filepath.Glob(filepath.Join(dir, ".layerscope-*"))
		if len(leftovers) > 0 {
			t.Errorf("temporary files left behind: %v", leftovers)
		}
	})

	t.Run("a device stays a device", func(t *testing.T) {
		// A null device of the test's own, so that a regression cannot
		// replace the machine's /dev/null.
		null := filepath.Join(dir, "null")
		if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Skipf("cannot make a device node here (run as root): %v", err)
		}
		if code, _, stderr := layerscope(t, nil, "--json", null, sample); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		st, err := os.Stat(null)
		if err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("%s is no longer a character device: %v %v", null, st.Mode(), err)
		}
	})

	fifo := filepath.Join(dir, "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link-to-fifo")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{fifo, link} {
		t.Run("a FIFO gets the report: "+filepath.Base(target), func(t *testing.T) {
			got := make(chan []byte, 1)
			go func() {
				f, err := os.Open(fifo)
				if err != nil {
					got <- nil
					return
				}
				defer f.Close()
				b, _ := io.ReadAll(f)
				got <- b
			}()
			if code, _, stderr := layerscope(t, nil, "--json", target, sample); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			select {
			case b := <-got:
				var rep map[string]any
				if err := json.Unmarshal(b, &rep); err != nil || rep["schemaVersion"] == nil {
					t.Errorf("the reader got no report (%v): %.80q", err, b)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the FIFO never got the report")
			}
			if st, err := os.Lstat(target); err != nil || st.Mode().IsRegular() {
				t.Errorf("%s was replaced by a regular file", target)
			}
		})
	}

	t.Run("a missing folder is named, not the temporary file", func(t *testing.T) {
		code, _, stderr := layerscope(t, nil, "--json", "/missing/dir/x.json", sample)
		if code != 2 || !strings.Contains(stderr, "writing /missing/dir/x.json: the folder /missing/dir does not exist") || strings.Contains(stderr, ".layerscope-") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

// TestConfigMustBeARegularFile: a FIFO named as the config (or lying in
// the working directory as .layerscope.yaml) is refused at once instead of
// blocking forever.
func TestConfigMustBeARegularFile(t *testing.T) {
	t.Setenv("CI", "")
	sampleAbs := abs(t, sample)
	t.Chdir(t.TempDir())
	if err := syscall.Mkfifo(".layerscope.yaml", 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--ci", sampleAbs}, {"--ci", "--ci-config", ".layerscope.yaml", sampleAbs}, {"--ci", "--ci-config", ".", sampleAbs}} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			defer close(done)
			code, _, stderr = layerscope(t, nil, args...)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: blocked on the config", args)
		}
		if code != 2 || !strings.Contains(stderr, "is not a regular file") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}

// TestDiveFileWithPlugins: dive's own sample .dive-ci carries plugin keys;
// it is still read, with a warning naming what was ignored.
func TestDiveFileWithPlugins(t *testing.T) {
	t.Setenv("CI", "")
	sampleAbs := abs(t, sample)
	t.Chdir(t.TempDir())
	body := "plugins:\n  - plugin1\n\nrules:\n  lowestEfficiency: 0.75\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.30\n  plugin1/rule1: error\n"
	if err := os.WriteFile(".dive-ci", []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := layerscope(t, nil, "--ci", "--fail-on", "none", sampleAbs)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	for _, w := range []string{"warning: .dive-ci: ignored what layerscope does not read: plugins, rules.plugin1/rule1"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, stderr)
		}
	}
	if !strings.Contains(stdout, "limit 30.0 %") || !strings.Contains(stdout, "plugins, rules.plugin1/rule1") {
		t.Errorf("the dive limits or the note are missing:\n%s", stdout)
	}
	// The same keys in layerscope's own file stay an error.
	if err := os.WriteFile(".layerscope.yaml", []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := layerscope(t, nil, "--ci", sampleAbs); code != 2 {
		t.Errorf(".layerscope.yaml with unknown keys: exit %d: %s", code, stderr)
	}
}

// TestTerminalOnStdin: "-" with a keyboard on standard input would wait
// forever; it says to pipe an archive in.
func TestTerminalOnStdin(t *testing.T) {
	t.Setenv("CI", "")
	ptm, pts := openPTY(t)
	defer ptm.Close()
	defer pts.Close()
	var stdout, stderr strings.Builder
	code, err := run(context.Background(), []string{"--ci", "-"}, pts, &stdout, &stderr)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "standard input is a terminal: pipe an archive in") {
		t.Errorf("exit %d, %v", code, err)
	}
}

// openPTY opens a pseudo-terminal pair.
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(filepath.Join("/dev/pts", strconv.Itoa(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptm, pts
}

// TestInterrupted: a run the user stopped exits 130 with one word, not a
// Go error from whatever reader was busy.
func TestInterrupted(t *testing.T) {
	t.Setenv("CI", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code, err := run(ctx, []string{"--ci", sample}, nil, &stdout, &stderr)
	if code != 130 || err == nil || err.Error() != "interrupted" {
		t.Errorf("exit %d, %v", code, err)
	}
}

// TestQuitWhileLoading: q before the image has loaded is the user's
// choice: exit 130, and nothing to explain on stderr.
func TestQuitWhileLoading(t *testing.T) {
	if code, err := failure(context.Background(), fmt.Errorf("explorer: %w", tui.ErrQuit)); code != 130 || err != nil {
		t.Errorf("q while loading: exit %d, %v", code, err)
	}
	if code, err := failure(context.Background(), errors.New("layer 3: digest mismatch")); code != 2 || err == nil {
		t.Errorf("a failed load: exit %d, %v", code, err)
	}
}
