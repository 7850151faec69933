package report

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// hostileBase is a base image's name built to break each format: table
// pipes, backticks, HTML, a terminal escape, a bidi override.
const hostileBase = "evil|`base`<b>\x1b[31m\u202e:1"

// baseReport is an image on a base of two layers (0 and 1): the build's
// own waste in layer 3, the base's waste in layer 0 and the base's
// private key in layer 1; fail-on is set.
func baseReport(failOn string) *Report {
	return &Report{
		Image:   ImageInfo{Ref: "app:1"},
		Summary: Summary{Layers: 4, BaseLayers: 2, Base: &BaseImage{Name: hostileBase, From: BaseFromFlag}},
		Layers:  []Layer{{Index: 0, Base: true}, {Index: 1, Base: true}, {Index: 2}, {Index: 3}},
		Findings: []Finding{
			{Rule: "private-key", Category: CategorySecret, Severity: SeverityError, Layer: 1, Paths: []string{"/root/.ssh/id_rsa"}, Message: "the base's key", Advice: "rotate it", Base: true},
			{Rule: "overwritten", Category: CategoryWaste, Severity: SeverityWarning, Layer: 3, Paths: []string{"/app/x"}, Message: "the build's waste", Advice: "write it once"},
			{Rule: "apt-lists", Category: CategoryPackageCache, Severity: SeverityWarning, Layer: 0, Paths: []string{"/var/lib/apt/lists"}, Message: "the base's apt lists", Advice: "rm them", Base: true},
		},
		CI: CI{Rules: []Rule{{Name: RuleFailOn, Limit: failOn, Value: 1, From: "flag"}}},
	}
}

// noRawControl fails when out holds a raw terminal escape or bidi override.
func noRawControl(t *testing.T, out string) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("a raw control character in the output:\n%q", out)
	}
}

// TestMarkdownBaseFindingsApart: the base image's findings are a section
// of their own after the build's table, as in the text report, named by
// the base (escaped); the build's table holds only the build's.
func TestMarkdownBaseFindingsApart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		failOn string
		note   bool // the line on which base findings fail CI
	}{
		{"fail-on without base", "secret,error", true},
		{"fail-on base", "base,secret,warning", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := baseReport(tc.failOn).WriteMarkdown(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			own, base, ok := strings.Cut(out, "### From the base image ")
			if !ok {
				t.Fatalf("no section for the base image's findings:\n%s", out)
			}
			if !strings.Contains(own, "### Findings") || !strings.Contains(own, "the build's waste") {
				t.Errorf("the build's findings are not before the base's:\n%s", out)
			}
			for _, f := range []string{"the base's key", "the base's apt lists"} {
				if strings.Contains(own, f) || !strings.Contains(base, f) {
					t.Errorf("%q is not listed with the base image's findings only:\n%s", f, out)
				}
			}
			if strings.Contains(base, "the build's waste") {
				t.Errorf("the build's finding is listed as the base's:\n%s", out)
			}
			escaped := "evil\\|\\`base\\`&lt;b&gt;\\\\x1b\\[31m\\\\u202e:1 (layers 0-1)"
			if !strings.HasPrefix(base, escaped) {
				t.Errorf("the section's title does not name the base, escaped: %q", base[:min(len(base), 80)])
			}
			if got := strings.Contains(base, "fail CI only when --fail-on names base"); got != tc.note {
				t.Errorf("the note on failing CI: %v, want %v", got, tc.note)
			}
			if !strings.Contains(base, "| 1 (base) |") {
				t.Errorf("a base finding's row does not mark its layer:\n%s", base)
			}
			noRawControl(t, out)
			if strings.Contains(out, "<b>") {
				t.Errorf("raw HTML from the base's name:\n%s", out)
			}
		})
	}
}

// TestJUnitBaseSuite: the base image's findings are a suite of their own,
// named for the base; the base's key fails (a secret fails whoever
// shipped it), its apt lists fail only when fail-on names base.
func TestJUnitBaseSuite(t *testing.T) {
	type suite struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string    `xml:"name,attr"`
			Classname string    `xml:"classname,attr"`
			Failure   *struct{} `xml:"failure"`
		} `xml:"testcase"`
	}
	for _, tc := range []struct {
		failOn       string
		baseFailures int
	}{{"secret,error", 1}, {"base,secret,warning", 2}} {
		t.Run(tc.failOn, func(t *testing.T) {
			var b strings.Builder
			if err := baseReport(tc.failOn).WriteJUnit(&b); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Name   string  `xml:"name,attr"`
				Tests  int     `xml:"tests,attr"`
				Suites []suite `xml:"testsuite"`
			}
			if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
				t.Fatalf("not XML: %v", err)
			}
			if len(doc.Suites) != 3 {
				t.Fatalf("%d suites, want the rules, the build's findings and the base's", len(doc.Suites))
			}
			own, base := doc.Suites[1], doc.Suites[2]
			if own.Name != "layerscope: findings in app:1" || len(own.Cases) != 1 || !strings.Contains(own.Cases[0].Name, "the build's waste") {
				t.Errorf("the build's suite %q: %+v", own.Name, own.Cases)
			}
			if want := `layerscope: findings from the base image evil|` + "`base`" + `<b>\x1b[31m\u202e:1 in app:1`; base.Name != want {
				t.Errorf("the base's suite is named %q, want %q", base.Name, want)
			}
			if len(base.Cases) != 2 || base.Tests != 2 || base.Failures != tc.baseFailures {
				t.Errorf("the base's suite: %d cases, %d tests, %d failures, want 2, 2, %d", len(base.Cases), base.Tests, base.Failures, tc.baseFailures)
			}
			for _, c := range base.Cases {
				if !strings.HasPrefix(c.Classname, "layerscope.base.") {
					t.Errorf("case %q: classname %q", c.Name, c.Classname)
				}
			}
			if doc.Tests != 4 {
				t.Errorf("%d tests in all, want 4", doc.Tests)
			}
			noRawControl(t, b.String())
		})
	}
}

// sarifSchema is the vendored SARIF 2.1.0 schema (testdata/sarif at the
// module's root), compiled once.
var sarifSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open("../testdata/sarif/sarif-schema-2.1.0.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SARIFSchema, f); err != nil {
		return nil, err
	}
	return c.Compile(SARIFSchema)
})

// sarifResults writes a SARIF log, checks it against the schema, and
// decodes its results and run properties.
func sarifResults(t *testing.T, r *Report) (results []map[string]any, props map[string]any) {
	t.Helper()
	var b strings.Builder
	if err := r.WriteSARIF(&b, Tool{Name: "layerscope"}); err != nil {
		t.Fatal(err)
	}
	noRawControl(t, b.String())
	schema, err := sarifSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []struct {
			Results    []map[string]any
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(b.String()), &log); err != nil {
		t.Fatal(err)
	}
	return log.Runs[0].Results, log.Runs[0].Properties
}

// TestSARIFMarksBaseFindings: a base finding says so (property base, the
// message), and one that fails no CI run is a note; the base's key keeps
// its level, and so does all with fail-on base. Suppressions are on every
// result or none (SARIF 2.1.0, 3.27.23), and a log that is no comparison
// has no baselineState.
func TestSARIFMarksBaseFindings(t *testing.T) {
	for _, tc := range []struct {
		failOn string
		levels map[string]string // by rule
	}{
		{"secret,error", map[string]string{"private-key": "error", "overwritten": "warning", "apt-lists": "note"}},
		{"base,secret,warning", map[string]string{"private-key": "error", "overwritten": "warning", "apt-lists": "warning"}},
	} {
		t.Run(tc.failOn, func(t *testing.T) {
			r := baseReport(tc.failOn)
			r.Findings[1].Ignored = "known"
			results, _ := sarifResults(t, r)
			if len(results) != 4 {
				t.Fatalf("%d results, want 3 findings and the failed fail-on", len(results))
			}
			for _, res := range results {
				id := res["ruleId"].(string)
				if _, ok := res["suppressions"].([]any); !ok {
					t.Errorf("%s: suppressions %v: want an array on every result, as one is suppressed", id, res["suppressions"])
				}
				if _, ok := res["baselineState"]; ok {
					t.Errorf("%s: a baselineState outside a comparison", id)
				}
				if id == RuleFailOn {
					continue
				}
				props := res["properties"].(map[string]any)
				msg := res["message"].(map[string]any)["text"].(string)
				isBase := id != "overwritten"
				if (props["base"] == true) != isBase || strings.HasPrefix(msg, "From the base image "+hostileBase+": ") != isBase {
					t.Errorf("%s: base %v, message %q", id, props["base"], msg)
				}
				if isBase && props["baseImage"] != hostileBase {
					t.Errorf("%s: baseImage %v", id, props["baseImage"])
				}
				if res["level"] != tc.levels[id] {
					t.Errorf("%s: level %v, want %s", id, res["level"], tc.levels[id])
				}
			}
		})
	}
}

// TestCodeQualityMarksBaseFindings: as in SARIF, a base finding says so,
// and one that fails no CI run is info; the base's key stays a blocker.
func TestCodeQualityMarksBaseFindings(t *testing.T) {
	var b strings.Builder
	if err := baseReport("secret,error").WriteCodeQuality(&b); err != nil {
		t.Fatal(err)
	}
	noRawControl(t, b.String())
	var issues []struct {
		Description string `json:"description"`
		CheckName   string `json:"check_name"`
		Severity    string `json:"severity"`
	}
	if err := json.Unmarshal([]byte(b.String()), &issues); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		severity string
		base     bool
	}{"private-key": {"blocker", true}, "overwritten": {"minor", false}, "apt-lists": {"info", true}, RuleFailOn: {"major", false}}
	if len(issues) != len(want) {
		t.Fatalf("%d issues, want %d", len(issues), len(want))
	}
	for _, is := range issues {
		w := want[is.CheckName]
		if is.Severity != w.severity || strings.HasPrefix(is.Description, "From the base image "+hostileBase+": ") != w.base {
			t.Errorf("%s: severity %s, description %q: want %s, base %v", is.CheckName, is.Severity, is.Description, w.severity, w.base)
		}
	}
}

// TestComparisonFormats: the judged side of a comparison titles its JUnit
// suites for it (escaped), and its SARIF results carry baselineState on
// every result: new, unchanged for a --baseline finding, new for a failed
// rule; the fixed findings are a run property, not results.
func TestComparisonFormats(t *testing.T) {
	r := &Report{
		Image: ImageInfo{Ref: "app:new"},
		Findings: []Finding{
			{Rule: "go-toolchain", Category: CategoryToolchain, Severity: SeverityWarning, Layer: 1, Paths: []string{"/usr/local/go"}, Message: "the Go toolchain"},
			{Rule: "apt-lists", Category: CategoryPackageCache, Severity: SeverityWarning, Layer: 0, Paths: []string{"/var/lib/apt/lists"}, Message: "apt lists", InBaseline: true},
		},
		CI: CI{Rules: []Rule{{Name: RuleMaxGrowth, Limit: int64(1), Value: int64(2), From: "flag"}}},
		Compared: &Comparison{
			Old:   ImageInfo{Ref: "app:old\x1b[2J"},
			Fixed: []Finding{{Rule: "git-dir", Category: CategoryVCS, Severity: SeverityWarning, Layer: 2, Paths: []string{"/src/.git"}, Message: "a .git directory"}},
		},
	}
	t.Run("junit", func(t *testing.T) {
		var b strings.Builder
		if err := r.WriteJUnit(&b); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Name   string `xml:"name,attr"`
			Suites []struct {
				Name string `xml:"name,attr"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
			t.Fatal(err)
		}
		got := []string{doc.Name}
		for _, s := range doc.Suites {
			got = append(got, s.Name)
		}
		want := []string{
			`layerscope diff: app:old\x1b[2J → app:new`,
			`layerscope: CI rules for app:old\x1b[2J → app:new`,
			`layerscope: new findings in app:new since app:old\x1b[2J`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("titles\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		noRawControl(t, b.String())
	})
	t.Run("sarif", func(t *testing.T) {
		results, props := sarifResults(t, r)
		want := map[string]string{"go-toolchain": StateNew, "apt-lists": StateUnchanged, RuleMaxGrowth: StateNew}
		if len(results) != len(want) {
			t.Fatalf("%d results, want %d: the fixed finding is no result", len(results), len(want))
		}
		for _, res := range results {
			if id := res["ruleId"].(string); res["baselineState"] != want[id] {
				t.Errorf("%s: baselineState %v, want %s", id, res["baselineState"], want[id])
			}
		}
		fixed, _ := props["fixedFindings"].([]any)
		if props["comparedWith"] != "app:old\x1b[2J" || len(fixed) != 1 || fixed[0].(map[string]any)["ruleId"] != "git-dir" {
			t.Errorf("run properties: comparedWith %q, fixedFindings %v", props["comparedWith"], props["fixedFindings"])
		}
	})
}

// A --baseline report lists every finding of the image, so its titles
// name the baseline and do not call them new; a CI rule the baseline
// failed too is unchanged.
func TestBaselineComparisonFormats(t *testing.T) {
	r := &Report{
		Image: ImageInfo{Ref: "app:2"},
		Findings: []Finding{
			{Rule: "go-toolchain", Category: CategoryToolchain, Severity: SeverityWarning, Layer: 1, Paths: []string{"/usr/local/go"}, Message: "the Go toolchain"},
			{Rule: "apt-lists", Category: CategoryPackageCache, Severity: SeverityWarning, Layer: 0, Paths: []string{"/var/lib/apt/lists"}, Message: "apt lists", InBaseline: true},
		},
		CI: CI{Rules: []Rule{
			{Name: RuleMaxWastePercent, Limit: 10.0, Value: 20.0, From: "flag"},
			{Name: RuleMaxGrowth, Limit: int64(1), Value: int64(2), From: "flag"},
		}},
		Compared: &Comparison{Old: ImageInfo{Ref: "app:1"}, Baseline: true, OldFailed: map[string]bool{RuleMaxWastePercent: true}},
	}
	var b strings.Builder
	if err := r.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name="layerscope: app:2 against the baseline app:1"`, `name="layerscope: findings in app:2 against the baseline app:1"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JUnit lacks %s:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "new findings") {
		t.Errorf("JUnit calls every finding new:\n%s", b.String())
	}
	results, _ := sarifResults(t, r)
	want := map[string]string{"go-toolchain": StateNew, "apt-lists": StateUnchanged, RuleMaxWastePercent: StateUnchanged, RuleMaxGrowth: StateNew}
	for _, res := range results {
		if id := res["ruleId"].(string); res["baselineState"] != want[id] {
			t.Errorf("%s: baselineState %v, want %s", id, res["baselineState"], want[id])
		}
	}
}
