package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

const sampleDockerfile = "testdata/sample.Dockerfile"

// TestFormatGoldens pins every format of the bundled sample, with its
// Dockerfile (so findings carry lines): go test -run TestFormatGoldens
// -update rewrites them.
func TestFormatGoldens(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	for _, tc := range []struct{ format, golden string }{
		{"sarif", "testdata/sample.sarif"},
		{"junit", "testdata/sample.junit.xml"},
		{"markdown", "testdata/sample.md"},
		{"codequality", "testdata/sample.codequality.json"},
		{"text", "testdata/sample.dockerfile.txt"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, got, stderr := layerscope(t, nil, "--ci", "--format", tc.format, "--dockerfile", sampleDockerfile, sample)
			if code != 1 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
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
		})
	}
}

// sarifSchema compiles the vendored SARIF 2.1.0 schema (see
// testdata/sarif/SOURCE.md).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	f, err := os.Open("testdata/sarif/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, f); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSARIFValid checks the SARIF log against the schema and reads it
// back: the driver lists every rule of the table, each finding and each
// failed CI rule is a result whose ruleIndex points at its rule, and the
// fingerprints are the same on a second run.
func TestSARIFValid(t *testing.T) {
	t.Setenv("CI", "")
	schema := sarifSchema(t)
	// A baseline that shipped 1 byte: both growth rules fail.
	_, saved, _ := layerscope(t, nil, "--format", "json", "--dockerfile", "none", sample)
	var baseline map[string]any
	if err := json.Unmarshal([]byte(saved), &baseline); err != nil {
		t.Fatal(err)
	}
	baseline["summary"].(map[string]any)["contentBytes"] = 1
	baselineFile := filepath.Join(t.TempDir(), "baseline.json")
	if data, err := json.Marshal(baseline); err != nil || os.WriteFile(baselineFile, data, 0o644) != nil {
		t.Fatal("writing the baseline", err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"with a baseline and the growth rules", []string{"--dockerfile", "none", "--baseline", baselineFile, "--max-growth", "1MB", "--max-growth-percent", "10"}},
		{"with the Dockerfile", []string{"--dockerfile", sampleDockerfile}},
		{"without", []string{"--dockerfile", "none"}},
		{"with an ignored finding", []string{"--ci-config", "testdata/formats-ignore.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--ci", "--format", "sarif", sample}, tc.args...)
			_, out, stderr := layerscope(t, nil, args...)
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, stderr)
			}
			if err := schema.Validate(doc); err != nil {
				t.Fatalf("not valid SARIF 2.1.0: %#v", err)
			}
			// The schema does judge: a level SARIF lacks is refused.
			var bad any
			json.Unmarshal([]byte(strings.Replace(out, `"level": "error"`, `"level": "fatal"`, 1)), &bad)
			if schema.Validate(bad) == nil {
				t.Fatal("the schema accepted a result of level fatal")
			}
			var log struct {
				Version string
				Runs    []struct {
					Tool struct {
						Driver struct{ Rules []struct{ ID string } }
					}
					Results []struct {
						RuleID              string
						RuleIndex           int
						Level               string
						PartialFingerprints map[string]string
						Suppressions        []struct{ Justification string }
						Locations           []struct {
							PhysicalLocation *struct {
								ArtifactLocation struct{ URI string }
								Region           struct{ StartLine int }
							}
							LogicalLocations []struct{ Name, FullyQualifiedName string }
						}
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &log); err != nil {
				t.Fatal(err)
			}
			if log.Version != "2.1.0" || len(log.Runs) != 1 {
				t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
			}
			run := log.Runs[0]
			var ids []string
			for _, r := range run.Tool.Driver.Rules {
				ids = append(ids, r.ID)
			}
			for _, r := range rules.Table {
				if !slices.Contains(ids, r.ID) {
					t.Errorf("driver lacks rule %s", r.ID)
				}
			}
			var rep report.Report
			_, jsonOut, _ := layerscope(t, nil, append([]string{"--ci", "--format", "json", sample}, tc.args...)...)
			if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.CI.Rules {
				if !slices.Contains(ids, r.Name) {
					t.Errorf("driver lacks CI rule %s", r.Name)
				}
			}
			failed := 0
			for _, r := range rep.CI.Rules {
				if !r.Pass {
					failed++
				}
			}
			if len(run.Results) != len(rep.Findings)+failed {
				t.Errorf("%d results, want %d findings + %d failed rules", len(run.Results), len(rep.Findings), failed)
			}
			lines, suppressed := 0, 0
			for i, res := range run.Results {
				if res.RuleIndex < 0 || res.RuleIndex >= len(ids) || ids[res.RuleIndex] != res.RuleID {
					t.Errorf("result %d: ruleIndex %d does not name %s", i, res.RuleIndex, res.RuleID)
				}
				if len(res.PartialFingerprints) == 0 || len(res.Locations) == 0 || len(res.Locations[0].LogicalLocations) == 0 {
					t.Errorf("result %d lacks a fingerprint or a logical location: %+v", i, res)
				}
				if pl := res.Locations[0].PhysicalLocation; pl != nil {
					lines++
					if pl.ArtifactLocation.URI != sampleDockerfile || pl.Region.StartLine < 5 {
						t.Errorf("result %d: location %+v", i, pl)
					}
				}
				suppressed += len(res.Suppressions)
			}
			if wantLines := slices.Contains(tc.args, sampleDockerfile); (lines > 0) != wantLines {
				t.Errorf("%d results on Dockerfile lines (with the Dockerfile: %v)", lines, wantLines)
			}
			if wantSuppressed := strings.Contains(tc.name, "ignored"); (suppressed > 0) != wantSuppressed {
				t.Errorf("%d suppressed results", suppressed)
			}
			_, again, _ := layerscope(t, nil, args...)
			if again != out {
				t.Error("a second run of the same image wrote another SARIF log")
			}
		})
	}
}

// TestJUnitParses reads the JUnit XML back: two suites, a testcase per CI
// rule and per finding, failures where the verdict says.
func TestJUnitParses(t *testing.T) {
	t.Setenv("CI", "")
	_, out, _ := layerscope(t, nil, "--ci", "--format", "junit", sample)
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if len(doc.Suites) != 2 {
		t.Fatalf("%d suites, want 2", len(doc.Suites))
	}
	// The sample: 3 CI rules, fail-on fails; 14 findings, the 3 secrets fail.
	for i, want := range []struct{ tests, failures int }{{3, 1}, {14, 3}} {
		s := doc.Suites[i]
		failures := 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				failures++
			} else if c.SystemOut == "" {
				t.Errorf("suite %q: passed case %q says nothing in system-out", s.Name, c.Name)
			}
		}
		if s.Tests != want.tests || len(s.Cases) != want.tests || s.Failures != want.failures || failures != want.failures {
			t.Errorf("suite %q: %d tests (%d cases), %d failures (%d), want %d and %d", s.Name, s.Tests, len(s.Cases), s.Failures, failures, want.tests, want.failures)
		}
	}
	if doc.Tests != 17 || doc.Failures != 4 {
		t.Errorf("totals %d tests, %d failures", doc.Tests, doc.Failures)
	}
}

// TestCodeQualityParses reads the Code Quality report back: the fields
// GitLab requires on every issue, unique fingerprints, lines only from the
// Dockerfile.
func TestCodeQualityParses(t *testing.T) {
	t.Setenv("CI", "")
	for _, withDockerfile := range []bool{true, false} {
		args := []string{"--ci", "--format", "codequality", sample, "--dockerfile", "none"}
		if withDockerfile {
			args[len(args)-1] = sampleDockerfile
		}
		_, out, _ := layerscope(t, nil, args...)
		var issues []struct {
			Description string `json:"description"`
			CheckName   string `json:"check_name"`
			Fingerprint string `json:"fingerprint"`
			Severity    string `json:"severity"`
			Location    struct {
				Path  string `json:"path"`
				Lines struct {
					Begin int `json:"begin"`
				} `json:"lines"`
			} `json:"location"`
		}
		if err := json.Unmarshal([]byte(out), &issues); err != nil {
			t.Fatal(err)
		}
		if len(issues) != 15 { // 14 findings and the failed fail-on rule
			t.Errorf("%d issues, want 15", len(issues))
		}
		seen := map[string]bool{}
		onDockerfile := 0
		for _, is := range issues {
			if is.Description == "" || is.CheckName == "" || is.Fingerprint == "" || is.Location.Path == "" || is.Location.Lines.Begin < 1 {
				t.Errorf("incomplete issue %+v", is)
			}
			if !slices.Contains([]string{"info", "minor", "major", "critical", "blocker"}, is.Severity) {
				t.Errorf("severity %q", is.Severity)
			}
			if seen[is.Fingerprint] {
				t.Errorf("fingerprint %s twice", is.Fingerprint)
			}
			seen[is.Fingerprint] = true
			if is.Location.Path == sampleDockerfile {
				onDockerfile++
			}
		}
		if (onDockerfile > 0) != withDockerfile {
			t.Errorf("with Dockerfile %v: %d issues on it", withDockerfile, onDockerfile)
		}
	}
}

// TestMarkdownSummary: under 60 lines, the verdict, tables that keep
// their columns whatever a path holds.
func TestMarkdownSummary(t *testing.T) {
	t.Setenv("CI", "")
	_, out, _ := layerscope(t, nil, "--ci", "--format", "markdown", sample)
	if n := strings.Count(out, "\n"); n >= 60 {
		t.Errorf("%d lines, want under 60", n)
	}
	for _, want := range []string{"❌ FAIL (1 of 3 rules failed)", "| fail-on | secret,error | 3 | **FAIL** |", "### Findings", "### Top wasted paths"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	cols := 0 // the current table's pipes; an escaped \| is text
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row %q has %d pipes, its table %d", line, n, cols)
		}
	}
}

// TestOutputFiles: several --output files at once, each the same bytes as
// --format gives on standard output, and --json as json.
func TestOutputFiles(t *testing.T) {
	t.Setenv("CI", "")
	dir := t.TempDir()
	args := []string{"--ci", sample, "--json", filepath.Join(dir, "r.json")}
	for _, f := range report.Formats {
		args = append(args, "--output", f+":"+filepath.Join(dir, "r."+f))
	}
	if code, _, stderr := layerscope(t, nil, args...); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range append(slices.Clone(report.Formats), "json-flag") {
		file, format := filepath.Join(dir, "r."+f), f
		if f == "json-flag" {
			file, format = filepath.Join(dir, "r.json"), "json"
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, want, _ := layerscope(t, nil, "--ci", "--format", format, sample)
		if format == "text" {
			// Standard output here is no terminal (120 columns), a file
			// gets 100: instructions are cut elsewhere.
			if !strings.HasSuffix(string(got), "Result: FAIL (1 of 3 rules failed)\n") {
				t.Errorf("%s: not the text report:\n%s", file, got)
			}
			continue
		}
		if string(got) != want {
			t.Errorf("%s: the file differs from --format %s", file, format)
		}
	}
	for _, bad := range []string{"sarif", "yaml:x.yaml", "sarif:"} {
		if code, _, stderr := layerscope(t, nil, "--ci", sample, "--output", bad); code != 2 || !strings.Contains(stderr, "--output") {
			t.Errorf("--output %s: exit %d, %s", bad, code, stderr)
		}
	}
	if code, _, stderr := layerscope(t, nil, "--ci", sample, "--format", "yaml"); code != 2 || !strings.Contains(stderr, "want text, json, sarif") {
		t.Errorf("--format yaml: exit %d, %s", code, stderr)
	}
}

// TestGitHubActions: with --ci on GitHub Actions, an ::error annotation
// per finding that fails CI, on its Dockerfile line, and the Markdown
// summary appended to GITHUB_STEP_SUMMARY.
func TestGitHubActions(t *testing.T) {
	t.Setenv("CI", "")
	summary := filepath.Join(t.TempDir(), "summary.md")
	os.WriteFile(summary, []byte("before\n"), 0o644)
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	code, stdout, stderr := layerscope(t, nil, "--ci", "--dockerfile", sampleDockerfile, sample)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var annotations []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "::") {
			annotations = append(annotations, l)
		}
	}
	if len(annotations) != 3 {
		t.Errorf("%d annotations, want one per failing secret finding:\n%s", len(annotations), stderr)
	}
	for _, want := range []string{"::error file=testdata/sample.Dockerfile,line=8,title=layerscope private-key::layer 2: a private key", "line=10,title=layerscope secret-env::"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("annotations lack %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout, "::error") {
		t.Error("annotations went to standard output, into the report")
	}
	got, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(got), "before\n## layerscope: layerscope/sample:1") {
		t.Errorf("step summary not appended:\n%s", got)
	}
	t.Run("not without --ci", func(t *testing.T) {
		os.WriteFile(summary, nil, 0o644)
		_, _, stderr := layerscope(t, nil, "--ci=false", sample)
		got, _ := os.ReadFile(summary)
		if strings.Contains(stderr, "::error") || len(got) > 0 {
			t.Errorf("annotations or summary without --ci: %q %q", stderr, got)
		}
	})
}

// TestAnnotationEscaping: what an image names cannot end the workflow
// command or start another.
func TestAnnotationEscaping(t *testing.T) {
	rep := &report.Report{
		Findings: []report.Finding{{Rule: "r", Category: "secret", Severity: "error", Message: "a\n::warning::x %0A", File: "a,b:c", Line: 3}},
		CI:       report.CI{Rules: []report.Rule{{Name: report.RuleFailOn, Limit: "secret", Pass: false}}},
	}
	var b bytes.Buffer
	writeAnnotations(rep, &b)
	want := "::error file=a%2Cb%3Ac,line=3,title=layerscope r::layer 0: a\\n::warning::x %250A. Fix: \n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// diffGoldenNoise are the parts of a report on a real image that a
// rebuild changes: digests, and the legacy builder's content hashes in
// COPY instructions.
var diffGoldenNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<digest>"},
	{regexp.MustCompile(`\b(file|dir):[0-9a-f]{6,}`), "$1:<hash>"},
}

// diffGoldenExt is each golden file's extension, by format.
var diffGoldenExt = map[string]string{"markdown": "md", "sarif": "sarif", "junit": "junit.xml", "codequality": "codequality.json"}

// Issue 12: diff's CI formats on real images, pinned: a single-stage Go
// image against its multi-stage rewrite and back (with the Dockerfile,
// --fail-on and a growth limit: new findings on their lines, failed
// rules), and a cleanup moved into the same RUN. go test -run
// TestDiffFormatGoldens -update rewrites them; the SARIF logs are also
// checked against the schema.
func TestDiffFormatGoldens(t *testing.T) {
	needTestImages(t)
	t.Setenv("CI", "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	schema := sarifSchema(t)
	df := "testdata/dockerfiles/gobuild/Dockerfile"
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"gobuild-gomulti", []string{"--dockerfile", "none", "layerscope-test/gobuild:legacy", "layerscope-test/gomulti:legacy"}, exitPass},
		{"waste-wastefixed", []string{"--dockerfile", "none", "layerscope-test/waste:legacy", "layerscope-test/wastefixed:legacy"}, exitPass},
		{"gomulti-gobuild", []string{"--dockerfile", df, "--fail-on", "toolchain", "--max-growth", "1MB", "layerscope-test/gomulti:legacy", "layerscope-test/gobuild:legacy"}, exitFail},
	} {
		for _, format := range []string{"markdown", "sarif", "junit", "codequality"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				code, got, stderr := layerscope(t, nil, append([]string{"diff", "--ci", "--format", format}, tc.args...)...)
				if code != tc.code || stderr != "" {
					t.Fatalf("exit %d (want %d), stderr %q", code, tc.code, stderr)
				}
				if format == "sarif" {
					var doc any
					if err := json.Unmarshal([]byte(got), &doc); err != nil {
						t.Fatal(err)
					}
					if err := schema.Validate(doc); err != nil {
						t.Fatalf("not valid SARIF 2.1.0: %#v", err)
					}
				}
				for _, n := range diffGoldenNoise {
					got = n.re.ReplaceAllString(got, n.with)
				}
				golden := filepath.Join("testdata", "diff", tc.name+"."+diffGoldenExt[format])
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					os.WriteFile(golden, []byte(got), 0o644)
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%s differs from %s (run with -update if the change is meant):\n%s", format, golden, got)
				}
			})
		}
	}
}

// diffJSON runs diff with --format json and decodes it.
func diffJSON(t *testing.T, args ...string) (v struct {
	Findings struct{ New, Fixed []report.Finding }
	CI       report.CI
}) {
	t.Helper()
	_, out, stderr := layerscope(t, nil, append([]string{"diff", "--ci", "--format", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	return v
}

// Issue 12: diff's SARIF log is valid SARIF 2.1.0 and holds what the
// image SARIF test checks: the driver lists every rule of the table and
// every CI rule judged; a result per new finding and per failed rule, its
// ruleIndex naming its rule, with a fingerprint and a logical location;
// the same log on a second run.
func TestDiffSARIFValid(t *testing.T) {
	t.Setenv("CI", "")
	schema := sarifSchema(t)
	oldTar, newTar := diffArchives(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"growth and fail-on fail", []string{"--fail-on", "toolchain", "--max-growth", "1MB", "--max-growth-percent", "5"}},
		{"all pass", []string{"--fail-on", "none", "--max-growth", "3MB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"--dockerfile", "none"}, tc.args...), oldTar, newTar)
			_, out, stderr := layerscope(t, nil, append([]string{"diff", "--ci", "--format", "sarif"}, args...)...)
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, stderr)
			}
			if err := schema.Validate(doc); err != nil {
				t.Fatalf("not valid SARIF 2.1.0: %#v", err)
			}
			var log struct {
				Version string
				Runs    []struct {
					Tool struct {
						Driver struct{ Rules []struct{ ID string } }
					}
					Results []struct {
						RuleID              string
						RuleIndex           int
						PartialFingerprints map[string]string
						Locations           []struct {
							LogicalLocations []struct{ Name string }
						}
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &log); err != nil {
				t.Fatal(err)
			}
			if log.Version != "2.1.0" || len(log.Runs) != 1 {
				t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
			}
			run := log.Runs[0]
			var ids []string
			for _, r := range run.Tool.Driver.Rules {
				ids = append(ids, r.ID)
			}
			v := diffJSON(t, args...)
			want := []string{}
			for _, f := range v.Findings.New {
				want = append(want, f.Rule)
			}
			for _, r := range v.CI.Rules {
				if !slices.Contains(ids, r.Name) {
					t.Errorf("driver lacks CI rule %s", r.Name)
				}
				if !r.Pass {
					want = append(want, r.Name)
				}
			}
			for _, r := range rules.Table {
				if !slices.Contains(ids, r.ID) {
					t.Errorf("driver lacks rule %s", r.ID)
				}
			}
			got := []string{}
			for i, res := range run.Results {
				got = append(got, res.RuleID)
				if res.RuleIndex < 0 || res.RuleIndex >= len(ids) || ids[res.RuleIndex] != res.RuleID {
					t.Errorf("result %d: ruleIndex %d does not name %s", i, res.RuleIndex, res.RuleID)
				}
				if len(res.PartialFingerprints) == 0 || len(res.Locations) == 0 || len(res.Locations[0].LogicalLocations) == 0 {
					t.Errorf("result %d lacks a fingerprint or a logical location: %+v", i, res)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("results %q, want the new findings and the failed rules %q", got, want)
			}
			if strings.HasPrefix(tc.name, "growth") != slices.Contains(got, report.RuleMaxGrowth) {
				t.Errorf("results %q: max-growth", got)
			}
			_, again, _ := layerscope(t, nil, append([]string{"diff", "--ci", "--format", "sarif"}, args...)...)
			if again != out {
				t.Error("a second run wrote another SARIF log")
			}
		})
	}
}

// Issue 12: diff's JUnit XML parses: a suite of the rules (a test case
// each, failed when the rule fails) and a suite of the new findings.
func TestDiffJUnitParses(t *testing.T) {
	t.Setenv("CI", "")
	oldTar, newTar := diffArchives(t)
	args := []string{"--dockerfile", "none", "--fail-on", "toolchain", "--max-growth", "3MB", "--max-growth-percent", "5", oldTar, newTar}
	code, out, stderr := layerscope(t, nil, append([]string{"diff", "--ci", "--format", "junit"}, args...)...)
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if len(doc.Suites) != 2 {
		t.Fatalf("%d suites, want 2", len(doc.Suites))
	}
	v := diffJSON(t, args...)
	type tc struct {
		name   string
		failed bool
	}
	var wantRules, wantFindings []tc
	for _, r := range v.CI.Rules {
		wantRules = append(wantRules, tc{r.Name, !r.Pass})
	}
	for _, f := range v.Findings.New {
		wantFindings = append(wantFindings, tc{f.Rule, f.Category == "toolchain"})
	}
	if want := []tc{{"max-growth", false}, {"max-growth-percent", true}, {"fail-on", true}}; !slices.Equal(wantRules, want) {
		t.Fatalf("the verdict's rules %v, want %v", wantRules, want)
	}
	for i, want := range [][]tc{wantRules, wantFindings} {
		s := doc.Suites[i]
		var got []tc
		failures := 0
		for _, c := range s.Cases {
			name, _, _ := strings.Cut(c.Name, ":")
			got = append(got, tc{name, c.Failure != nil})
			if c.Failure != nil {
				failures++
			}
		}
		if !slices.Equal(got, want) || s.Tests != len(want) || s.Failures != failures {
			t.Errorf("suite %q: cases %v (%d tests, %d failures), want %v", s.Name, got, s.Tests, s.Failures, want)
		}
	}
	if doc.Tests != len(wantRules)+len(wantFindings) || doc.Failures != 3 {
		t.Errorf("totals %d tests, %d failures", doc.Tests, doc.Failures)
	}
}

// markdownTables checks that every row of each Markdown table has as many
// cells as its header, whatever the cells hold (an escaped \| is text).
func markdownTables(t *testing.T, out string) {
	t.Helper()
	cols := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row %q has %d pipes, its table %d", line, n, cols)
		}
	}
}

// Issue 12: a path built to break a pull request's comment (table pipes,
// backticks, HTML, terminal escapes) is shown escaped in diff's Markdown,
// in the largest changes and in the new finding it makes; no format
// carries a raw control character.
func TestDiffMarkdownEscapesHostilePaths(t *testing.T) {
	t.Setenv("CI", "")
	hostile := "x|`y`<script>alert(1)</script>\x1b]0;pwn\x07\x1b[31m"
	oldTar, newTar := diffArchives(t,
		it.Dir(hostile+"/"), it.Reg(hostile+"/data", strings.Repeat("d", 500_000)),
		it.Dir(hostile+"/.git/"), it.Reg(hostile+"/.git/config", "[core]\n"))
	code, out, stderr := layerscope(t, nil, "diff", "--ci", "--dockerfile", "none", "--format", "markdown", oldTar, newTar)
	if code != exitPass {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	escaped := "x\\|\\`y\\`&lt;script&gt;alert(1)&lt;/script&gt;\\\\x1b\\]0;pwn\\\\x07\\\\x1b\\[31m"
	for _, want := range []string{
		"| + | +500 kB | /" + escaped + "/data | 1 |",
		"| vcs | ",
		escaped + "/.git",
		"### Largest changes", "### New findings (2)", "**✅ PASS**",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "<\x1b\x07") {
		t.Errorf("raw HTML or control characters in the comment:\n%q", out)
	}
	for i := range len(out) {
		if out[i] == '`' && (i == 0 || out[i-1] != '\\') {
			t.Errorf("an unescaped backtick at %d: %q", i, out[max(0, i-20):i+1])
		}
	}
	markdownTables(t, out)
	for _, format := range diffFormats {
		_, out, _ := layerscope(t, nil, "diff", "--ci", "--dockerfile", "none", "--format", format, oldTar, newTar)
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%s: a raw control character", format)
		}
	}
}

// Issue 12: diff on GitHub Actions with --ci, as the image command: an
// ::error annotation per new finding that fails CI and per failed growth
// rule, and the Markdown comparison appended to the step summary.
func TestDiffGitHubActions(t *testing.T) {
	t.Setenv("CI", "")
	oldTar, newTar := diffArchives(t)
	summary := filepath.Join(t.TempDir(), "summary.md")
	os.WriteFile(summary, []byte("before\n"), 0o644)
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	args := []string{"--dockerfile", "none", "--fail-on", "toolchain", "--max-growth", "1MB", oldTar, newTar}
	code, stdout, stderr := layerscope(t, nil, append([]string{"diff", "--ci"}, args...)...)
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var annotations []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "::") {
			annotations = append(annotations, l)
		}
	}
	if len(annotations) != 2 || !strings.HasPrefix(annotations[0], "::error title=layerscope go-toolchain::layer 1: the Go toolchain") ||
		!strings.HasPrefix(annotations[1], "::error title=layerscope max-growth::max-growth: value") {
		t.Errorf("annotations %q, want the toolchain finding and max-growth", annotations)
	}
	if strings.Contains(stdout, "::error") {
		t.Error("annotations went to standard output, into the report")
	}
	got, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(got), "before\n## layerscope diff: ") || !strings.Contains(string(got), "**❌ FAIL (2 of 2 rules failed)**") {
		t.Errorf("step summary not appended:\n%s", got)
	}
	t.Run("not without --ci", func(t *testing.T) {
		os.WriteFile(summary, nil, 0o644)
		_, _, stderr := layerscope(t, nil, append([]string{"diff", "--ci=false"}, args...)...)
		got, _ := os.ReadFile(summary)
		if strings.Contains(stderr, "::error") || len(got) > 0 {
			t.Errorf("annotations or summary without --ci: %q %q", stderr, got)
		}
	})
}
