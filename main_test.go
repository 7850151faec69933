package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

const sample = "testdata/sample.tar"

// layerscope runs the command in-process and returns its exit code and
// outputs.
func layerscope(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), args, bytes.NewReader(stdin), &stdout, &stderr)
	if err != nil {
		stderr.WriteString("layerscope: " + err.Error() + "\n")
	}
	return code, stdout.String(), stderr.String()
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestExitCodes(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"defaults fail the sample", []string{"--ci", sample}, 1, "Result: FAIL (1 of 3 rules failed)", ""},
		{"its 422 kB of waste is under the 1 MB floor", []string{"--ci", "--fail-on", "none", sample}, 0, "not judged: 422 kB wasted is below the floor of 1.0 MB", ""},
		{"limits it meets", []string{"--ci", "--min-efficiency", "0.75", "--max-waste-percent", "30", "--fail-on", "none", sample}, 0, "Result: PASS", ""},
		{"flags after the image", []string{sample, "--ci", "--min-efficiency=0.75", "--max-waste-percent=30", "--fail-on=none"}, 0, "Result: PASS", ""},
		{"fail on a category", []string{"--ci", "--min-efficiency=off", "--max-waste-percent=off", "--fail-on", "toolchain", sample}, 1, "FAIL  fail-on            limit toolchain  value 1", ""},
		{"fail on warnings", []string{"--ci", "--min-efficiency=off", "--max-waste-percent=off", "--fail-on", "warning", sample}, 1, "limit warning    value 9", ""},
		{"bad fail-on", []string{"--ci", "--fail-on", "everything", sample}, 2, "", `fail-on: "everything" is not a category`},
		{"max-waste in SI units", []string{"--ci", "--max-waste", "400kB", "--max-waste-percent", "off", "--min-efficiency", "off", "--fail-on", "none", sample}, 1, "FAIL  max-waste", ""},
		{"max-waste in binary units", []string{"--ci", "--max-waste", "1MiB", "--max-waste-percent", "off", "--min-efficiency", "off", "--fail-on", "none", sample}, 0, "PASS  max-waste", ""},
		{"list rules", []string{"--list-rules"}, 0, "private-key", ""},
		{"without --ci the verdict does not set the exit code", []string{sample}, 0, "Result: FAIL", ""},
		{"no image", []string{"--ci"}, 2, "", "no image given"},
		{"two images", []string{"--ci", "a", "b"}, 2, "", "one image at a time"},
		{"unknown flag", []string{"--nope", sample}, 2, "", "unknown flag --nope (see layerscope --help)"},
		{"unknown flag with a value", []string{"--bogus=1", sample}, 2, "", "unknown flag --bogus (see layerscope --help)"},
		{"unknown short flag", []string{"-x", sample}, 2, "", "unknown flag -x (see"},
		{"a flag with no value", []string{sample, "--format"}, 2, "", "--format needs a value"},
		{"a bad boolean", []string{"--ci=maybe", sample}, 2, "", "--ci: want true or false"},
		{"bad limit", []string{"--ci", "--min-efficiency", "2", sample}, 2, "", "--min-efficiency: bad fraction"},
		{"bad size", []string{"--ci", "--max-waste", "lots", sample}, 2, "", "--max-waste: bad size"},
		{"missing file", []string{"--ci", "./nope.tar"}, 2, "", "./nope.tar: no such file or directory"},
		{"no daemon", []string{"--ci", "myimage:tag"}, 2, "", "cannot reach the Docker daemon at unix:///nonexistent/docker.sock"},
		{"bad source", []string{"--ci", "--source", "podman", sample}, 2, "", `unknown source "podman"`},
		{"bad platform", []string{"--ci", "--platform", "amd64", sample}, 2, "", "bad platform"},
		{"a platform with a control character", []string{"--ci", "--platform", "linux/amd\n64", sample}, 2, "", `bad platform "linux/amd\n64"`},
		{"help", []string{"--help"}, 0, "Exit codes:", ""},
		{"version", []string{"--version"}, 0, "layerscope ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := layerscope(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if code == 2 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("an error must be one line, got %q", stderr)
			}
		})
	}
}

// TestStdinWithRef picks one image of an archive on standard input.
func TestStdinWithRef(t *testing.T) {
	t.Setenv("CI", "")
	a := it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "aaaa"))}, Tags: []string{"api:1"}, User: "10001"}
	b := it.Image{Layers: [][]byte{it.Layer(it.Reg("b", "bb"))}, Tags: []string{"web:1"}, User: "10001"}
	archive := it.Tar(it.DockerArchive(a, b))
	code, stdout, stderr := layerscope(t, archive, "--ci", "--format", "json", "-:web:1")
	if code != 0 || !strings.Contains(stdout, `"ref": "web:1"`) || !strings.Contains(stdout, `"finalBytes": 2`) {
		t.Errorf("-:web:1: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = layerscope(t, archive, "--ci", "-")
	if code != 2 || !strings.Contains(stderr, "api:1, web:1") {
		t.Errorf("two images on stdin without a ref: exit %d, %s", code, stderr)
	}
}

// TestDirectoryNamedLikeAnImage: a reference whose name is also a
// directory (nginx:1.25 beside ./nginx/) still goes to the daemon.
func TestDirectoryNamedLikeAnImage(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	t.Chdir(t.TempDir())
	os.Mkdir("nginx", 0o755)
	os.WriteFile("nginx/nginx.conf", []byte("events {}"), 0o644)
	_, _, stderr := layerscope(t, nil, "--ci", "nginx:1.25")
	if !strings.Contains(stderr, "cannot reach the Docker daemon") {
		t.Errorf("nginx:1.25 beside ./nginx/: %s", stderr)
	}
}

func TestCIEnvironment(t *testing.T) {
	t.Setenv("CI", "true")
	if code, _, _ := layerscope(t, nil, sample); code != 1 {
		t.Errorf("CI=true: exit %d, want 1 (the check is on)", code)
	}
	if code, _, _ := layerscope(t, nil, "--ci=false", sample); code != 0 {
		t.Errorf("CI=true --ci=false: exit %d, want 0", code)
	}
	out := filepath.Join(t.TempDir(), "report.json")
	os.WriteFile(out, bytes.Repeat([]byte("stale "), 100_000), 0o644)
	if code, _, _ := layerscope(t, nil, "--json", out, sample); code != 1 {
		t.Errorf("--json FILE turned the check off: exit %d, want 1", code)
	}
	var rep map[string]any
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("--json FILE is not one JSON document: %v", err)
	}
}

func TestConfigFiles(t *testing.T) {
	t.Setenv("CI", "")
	sampleAbs := abs(t, sample)
	tests := []struct {
		name, file, body string
		args             []string
		code             int
		want             []string
	}{
		{"layerscope config", ".layerscope.yaml", "rules:\n  min-efficiency: 0.75\n  max-waste-percent: 30%\nfail-on: [toolchain]\nignore:\n  - {category: toolchain, path: /usr/local/go, reason: the image builds Go code}\n", nil, 0,
			[]string{"PASS  max-waste-percent  limit 30.0 %", "(.layerscope.yaml)", "PASS  fail-on            limit toolchain", "(ignored: the image builds Go code)"}},
		{"rules switched off and added", ".layerscope.yaml", "disable: [go-toolchain]\nadd:\n  - {id: no-sample, category: config, severity: error, paths: [\"etc/os-release\"], what: the sample's os-release, advice: none}\n", []string{"--fail-on", "error"}, 1,
			[]string{"the sample's os-release: 1 file", "limit error      value 4"}},
		{"a bad rule in the config", ".layerscope.yaml", "disable: [nope]\n", nil, 2, []string{`config file .layerscope.yaml: disable: no rule "nope"`}},
		{"a flag wins over the config", ".layerscope.yaml", "rules:\n  min-efficiency: 0.75\n  max-waste-percent: 30\n  waste-floor: 0\n", []string{"--min-efficiency", "0.8"}, 1,
			[]string{"FAIL  min-efficiency     limit 0.8", "(flag)", "(.layerscope.yaml)"}},
		{"a waste floor of 0 judges any waste", ".layerscope.yaml", "rules:\n  waste-floor: 0\n", []string{"--fail-on=none"}, 1,
			[]string{"FAIL  max-waste-percent  limit 10.0 %     value 25.5 %", "FAIL  min-efficiency"}},
		{"strict-waste from the config", ".layerscope.yaml", "rules:\n  strict-waste: true\n", []string{"--fail-on=none"}, 0,
			[]string{"waste judged: all 422 kB wasted (strict)"}},
		{"--strict-waste=false wins over the config", ".layerscope.yaml", "rules:\n  strict-waste: true\n", []string{"--fail-on=none", "--strict-waste=false"}, 0,
			[]string{"waste judged: all 422 kB wasted (none of it package-database updates)"}},
		{"dive's .dive-ci", ".dive-ci", "rules:\n  lowestEfficiency: 0.75\n  highestWastedBytes: disabled\n  highestUserWastedPercent: 0.30\n", []string{"--fail-on=none"}, 0,
			[]string{"limit 30.0 %", "(.dive-ci)", "never count the copy of a file that is kept"}},
		{"dive's .dive-ci that fails", ".dive-ci", "rules:\n  highestWastedBytes: 100KB\n", nil, 1,
			[]string{"FAIL  max-waste          limit 100 kB ", " value 422 kB "}},
		{"an unknown rule", ".layerscope.yaml", "rules:\n  max-wast: 1MB\n", nil, 2, []string{"rules.max-wast: unknown rule"}},
		{"broken yaml", ".layerscope.yaml", "rules: [\n", nil, 2, []string{".layerscope.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if err := os.WriteFile(tc.file, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := layerscope(t, nil, append([]string{"--ci", sampleAbs}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
		})
	}
}

// TestSampleGolden pins the text and JSON reports of the bundled sample:
// go test -run TestSampleGolden -update rewrites them.
func TestSampleGolden(t *testing.T) {
	t.Setenv("CI", "")
	for _, tc := range []struct{ golden, format string }{{"testdata/sample.txt", "text"}, {"testdata/sample.json", "json"}} {
		_, got, stderr := layerscope(t, nil, "--ci", "--format", tc.format, sample)
		if stderr != "" {
			t.Fatal(stderr)
		}
		if *update {
			os.WriteFile(tc.golden, []byte(got), 0o644)
		}
		want, err := os.ReadFile(tc.golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s report differs from %s (run with -update if the change is meant):\n%s", tc.format, tc.golden, got)
		}
	}
}

// TestJSONArraysAreNeverNull keeps the contract: an image with nothing to
// say still has [] where a list goes.
func TestJSONArraysAreNeverNull(t *testing.T) {
	t.Setenv("CI", "")
	clean := it.Image{Layers: [][]byte{it.Layer(it.Reg("app", "binary"))}, User: "65532"}
	_, stdout, stderr := layerscope(t, it.Tar(it.DockerArchive(clean)), "--ci", "--format", "json", "-")
	for _, k := range []string{`"findings": []`, `"warnings": []`, `"waste": []`} {
		if !strings.Contains(stdout, k) {
			t.Errorf("report lacks %s:\n%s%s", k, stdout, stderr)
		}
	}
}

func TestStdinAndHostileNames(t *testing.T) {
	t.Setenv("CI", "")
	evil := it.Image{Layers: [][]byte{it.Layer(
		it.Reg("evil\x1b[2J\x1b]0;pwned\x07name", strings.Repeat("a", 100)),
		it.Reg("bidi\u202etxt.exe", "b"),
	), it.Layer(it.Whiteout("", "evil\x1b[2J\x1b]0;pwned\x07name"))}}
	archive := it.GzipBytes(it.Tar(it.DockerArchive(evil)))
	code, stdout, stderr := layerscope(t, archive, "--ci", "-")
	if code != 0 && code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(stdout, "\x1b\x07\u202e") {
		t.Errorf("raw control characters reached the terminal:\n%q", stdout)
	}
	if !strings.Contains(stdout, `/evil\x1b[2J\x1b]0;pwned\x07name`) {
		t.Errorf("the escaped name is missing:\n%s", stdout)
	}
}
