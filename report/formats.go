package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Formats are the report formats, for --format and --output: the first is
// the default.
var Formats = []string{"text", "json", "sarif", "junit", "markdown", "codequality"}

// RuleInfo describes a finding rule for the formats that list the rules
// (SARIF's driver): the rule table lives in package rules, above report.
type RuleInfo struct {
	ID       string
	Category Category
	Severity Severity
	What     string // what a match is
	Advice   string // the fix
}

// Tool names layerscope in the formats that say who wrote them.
type Tool struct {
	Name    string
	Version string
	URI     string
	Rules   []RuleInfo
}

// ciRules are the CI rules' names, in the order tools list them.
var ciRules = []string{RuleMaxWaste, RuleMaxWastePercent, RuleMinEfficiency, RuleFailOn, RuleMaxGrowth, RuleMaxGrowthPercent}

// The fixes the waste rules and the growth rules share.
const (
	wasteAdvice  = "delete files in the same RUN that made them, or build in a builder stage and COPY --from only the output"
	growthAdvice = "find what the new layers add (layerscope diff OLD NEW) and drop what the image does not need"
)

// ciRuleInfo describes the CI rules, the checks besides the findings.
var ciRuleInfo = map[string]RuleInfo{
	RuleMaxWaste: {ID: RuleMaxWaste, What: "wasted bytes above the limit",
		Advice: wasteAdvice},
	RuleMaxWastePercent: {ID: RuleMaxWastePercent, What: "wasted bytes above a share of what the build added",
		Advice: wasteAdvice},
	RuleMinEfficiency: {ID: RuleMinEfficiency, What: "efficiency (1 - wasted/all layer bytes) below the limit",
		Advice: wasteAdvice},
	RuleMaxGrowth: {ID: RuleMaxGrowth, What: "bytes shipped grew by more than the limit since the old image or the baseline",
		Advice: growthAdvice},
	RuleMaxGrowthPercent: {ID: RuleMaxGrowthPercent, What: "bytes shipped grew by more than a share of the old image's or the baseline's",
		Advice: growthAdvice},
	RuleFailOn: {ID: RuleFailOn, What: "findings of a category or severity that fails CI",
		Advice: "fix the findings listed, or suppress one with a reason under ignore: in .layerscope.yaml"},
}

// FailsCI says whether a finding counts against the fail-on rule the
// report judged (FailOn.Fails): not ignored, not in the --baseline report,
// of a category or severity in the set, and not the base image's unless
// the set names base.
func (r *Report) FailsCI(f Finding) bool {
	for _, rule := range r.CI.Rules {
		if rule.Name == RuleFailOn {
			return FailOn{Set: strings.Split(fmt.Sprint(rule.Limit), ",")}.Fails(f)
		}
	}
	return false
}

// Fingerprint identifies a finding across runs and rebuilds of an image:
// its rule, category and paths (not the layer digest, which a rebuild
// changes, nor its bytes).
func (f Finding) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "finding\x00%s\x00%s", f.Rule, f.Category)
	for _, p := range f.Paths {
		fmt.Fprintf(h, "\x00%s", p)
	}
	if len(f.Paths) == 0 {
		fmt.Fprintf(h, "\x00%s", f.Message) // config findings: the message names the subject
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// ruleFingerprint identifies a failed CI rule of an image.
func ruleFingerprint(name string) string {
	h := sha256.Sum256([]byte("ci-rule\x00" + name))
	return hex.EncodeToString(h[:])[:32]
}

// ruleMessage says what a failed CI rule found, in one line.
func ruleMessage(rule Rule) string {
	return fmt.Sprintf("CI rule %s failed: value %s, limit %s (%s)", rule.Name,
		formatRule(rule.Name, rule.Value), formatRule(rule.Name, rule.Limit), rule.From)
}

// findingText is a finding's message with its fix, for formats that have
// one text field.
func findingText(f Finding) string {
	s := f.Message
	if f.Advice != "" {
		s += ". Fix: " + f.Advice
	}
	return s
}

// imageName is how the formats name the image.
func (r *Report) imageName() string { return r.Image.Name() }

// Name is how the reports name an image: its reference, else its ID.
func (i ImageInfo) Name() string {
	switch {
	case i.Ref != "":
		return i.Ref
	case i.ID != "":
		return i.ID
	}
	return "(image)"
}

// layerName names a finding's layer: its index and digest.
func (r *Report) layerName(i int) string {
	if i >= 0 && i < len(r.Layers) && r.Layers[i].Digest != "" {
		return fmt.Sprintf("layer %d (%s)", i, r.Layers[i].Digest)
	}
	return fmt.Sprintf("layer %d", i)
}

// Locate sets each finding's Dockerfile file and line from the line of
// the instruction that made its layer (lines[i] for layer i, 0 when not
// known). Findings about the image's config (no USER, for one) point at no
// layer's instruction and get none.
func (r *Report) Locate(file string, lines []int) {
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Category == CategoryConfig || f.Layer < 0 || f.Layer >= len(lines) || lines[f.Layer] <= 0 {
			continue
		}
		f.File, f.Line = file, lines[f.Layer]
	}
}
