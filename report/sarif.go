package report

import (
	"fmt"
	"io"
	"strings"
)

// SARIF 2.1.0, the format GitHub code scanning reads: one run, the driver
// with every rule, a result per finding and per failed CI rule.
//
// The base image's findings are results like the build's, marked: the
// property base (and baseImage), the message begins "From the base image
// NAME: ", and one that fails no CI run (not a secret, fail-on without
// base) has level note. The level and the message are what code scanning
// shows; it ignores kind (every result is a problem to it) and
// baselineState, and a suppression means someone accepted the result,
// which nobody did.
//
// A comparison's log (Report.Compared) gives every result a baselineState
// (SARIF requires it on all or none): its findings are the new ones, and
// a failed rule is the comparison's own verdict, new too. The fixed
// findings are not results, which code scanning would show as open
// alerts whatever their state: the run's property fixedFindings lists
// them.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool      `json:"tool"`
	Results    []sarifResult  `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifMessage   `json:"shortDescription"`
	FullDescription      sarifMessage   `json:"fullDescription"`
	Help                 sarifHelp      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	// Suppressions is never nil: SARIF wants it on every result or on
	// none, and every finding is checked against the config's ignores.
	Suppressions  []sarifSuppression `json:"suppressions"`
	BaselineState string             `json:"baselineState,omitempty"`
	Properties    map[string]any     `json:"properties,omitempty"`
}

// sarifFixed is a comparison's fixed finding, in the run's properties.
type sarifFixed struct {
	RuleID      string `json:"ruleId"`
	Message     string `json:"message"`
	OldLayer    int    `json:"oldLayer"` // the layer of the image compared with
	Fingerprint string `json:"fingerprint"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// SARIFSchema is the schema URI the log names.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// sarifFingerprintKey names layerscope's partial fingerprint.
const sarifFingerprintKey = "layerscopeFinding/v1"

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(severity Severity) string {
	switch severity {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "note"
}

// ruleName is a rule's PascalCase name, as SARIF suggests: go-build-cache
// is GoBuildCache.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// WriteSARIF writes the report as a SARIF 2.1.0 log.
func (r *Report) WriteSARIF(w io.Writer, tool Tool) error {
	driver := sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.URI, Rules: []sarifRule{}}
	index := map[string]int{}
	addRule := func(ri RuleInfo, level string, props map[string]any) {
		if _, ok := index[ri.ID]; ok {
			return
		}
		index[ri.ID] = len(driver.Rules)
		short := ri.What
		if short == "" {
			short = ri.ID
		}
		full := short
		if ri.Category != "" {
			full = fmt.Sprintf("%s (category %s, severity %s)", short, ri.Category, ri.Severity)
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: ri.ID, Name: ruleName(ri.ID),
			ShortDescription:     sarifMessage{Text: short},
			FullDescription:      sarifMessage{Text: full},
			Help:                 sarifHelp{Text: "Fix: " + ri.Advice, Markdown: "**Fix:** " + markdownText(ri.Advice)},
			DefaultConfiguration: sarifConfig{Level: level},
			Properties:           props,
		})
	}
	for _, ri := range tool.Rules {
		addRule(ri, sarifLevel(ri.Severity), map[string]any{"category": ri.Category, "tags": []string{"container-image", string(ri.Category)}})
	}
	// Every CI rule, and any the verdict has besides (none today): a
	// result's ruleIndex must name its rule.
	for _, name := range ciRules {
		addRule(ciRuleInfo[name], "error", map[string]any{"category": "ci", "tags": []string{"container-image", "ci"}})
	}
	for _, rule := range r.CI.Rules {
		ri, ok := ciRuleInfo[rule.Name]
		if !ok {
			ri = RuleInfo{ID: rule.Name, What: "CI rule " + rule.Name}
		}
		addRule(ri, "error", map[string]any{"category": "ci", "tags": []string{"container-image", "ci"}})
	}
	// Rules a config added are not in the table: describe them from their findings.
	for _, f := range r.Findings {
		addRule(RuleInfo{ID: f.Rule, Category: f.Category, Severity: f.Severity, Advice: f.Advice}, sarifLevel(f.Severity),
			map[string]any{"category": f.Category, "tags": []string{"container-image", string(f.Category)}})
	}

	image := r.imageName()
	state := func(s string) string { // baselineState: only in a comparison's log
		if r.Compared == nil {
			return ""
		}
		return s
	}
	ruleState := func(name string) string {
		if r.Compared == nil {
			return ""
		}
		return r.Compared.ruleState(name)
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		loc := sarifLocation{LogicalLocations: []sarifLogical{{
			Name: fmt.Sprintf("layer %d", f.Layer), FullyQualifiedName: image + " " + r.layerName(f.Layer), Kind: "module",
		}}}
		if f.File != "" && f.Line > 0 {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: f.File}, Region: &sarifRegion{StartLine: f.Line}}
		}
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message:             sarifMessage{Text: findingText(f)},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{sarifFingerprintKey: f.Fingerprint()},
			Suppressions:        []sarifSuppression{},
			BaselineState:       state(f.state()),
			Properties: map[string]any{
				"category": f.Category, "severity": f.Severity, "bytes": f.Bytes, "layer": f.Layer,
				"paths": nonNil(f.Paths), "createdBy": f.CreatedBy, "failsCI": r.FailsCI(f),
			},
		}
		if f.Base {
			res.Message.Text = "From " + r.theBase() + ": " + res.Message.Text
			res.Properties["base"] = true
			if b := r.Summary.Base; b != nil {
				res.Properties["baseImage"] = b.Name
			}
			if r.baseExcused(f) {
				res.Level = "note"
			}
		}
		if f.Ignored != "" {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: f.Ignored}}
		}
		results = append(results, res)
	}
	for _, rule := range r.CI.Rules {
		if rule.Pass {
			continue
		}
		results = append(results, sarifResult{
			RuleID: rule.Name, RuleIndex: index[rule.Name], Level: "error",
			Message:             sarifMessage{Text: ruleMessage(rule)},
			Locations:           []sarifLocation{{LogicalLocations: []sarifLogical{{Name: image, Kind: "module"}}}},
			PartialFingerprints: map[string]string{sarifFingerprintKey: ruleFingerprint(rule.Name)},
			Suppressions:        []sarifSuppression{},
			BaselineState:       ruleState(rule.Name),
			Properties:          map[string]any{"limit": rule.Limit, "value": rule.Value, "from": rule.From},
		})
	}
	props := map[string]any{
		"image": image, "imageId": r.Image.ID, "pass": r.CI.Pass,
		"contentBytes": r.Summary.ContentBytes, "wastedBytes": r.Summary.WastedBytes, "efficiency": r.Summary.Efficiency,
	}
	if c := r.Compared; c != nil {
		fixed := []sarifFixed{}
		for _, f := range c.Fixed {
			fixed = append(fixed, sarifFixed{RuleID: f.Rule, Message: f.Message, OldLayer: f.Layer, Fingerprint: f.Fingerprint()})
		}
		props["comparedWith"], props["comparedWithId"], props["fixedFindings"] = c.Old.Name(), c.Old.ID, fixed
	}
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{{
		Tool:       sarifTool{Driver: driver},
		Results:    results,
		Properties: props,
	}}}
	return EncodeJSON(w, log)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
