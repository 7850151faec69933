package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, the test-report format every CI shows: a testsuite for the
// CI rules (a testcase each, failed when the rule fails) and one for the
// findings (a testcase each, failed when the finding fails CI by
// --fail-on, else passed with the finding in system-out).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	image := Escape(r.imageName())
	rules := junitSuite{Name: "layerscope CI rules: " + image, Cases: []junitCase{}}
	for _, rule := range r.CI.Rules {
		c := junitCase{Name: rule.Name, Classname: "layerscope.ci"}
		detail := fmt.Sprintf("limit %s, value %s (%s)", formatRule(rule.Name, rule.Limit), formatRule(rule.Name, rule.Value), rule.From)
		if !rule.Pass {
			c.Failure = &junitFailure{Message: ruleMessage(rule), Type: rule.Name, Text: detail}
			rules.Failures++
		} else {
			c.SystemOut = detail
			if rule.Note != "" {
				c.SystemOut += "\n" + rule.Note
			}
		}
		rules.Cases = append(rules.Cases, c)
	}
	rules.Tests = len(rules.Cases)

	findings := junitSuite{Name: "layerscope findings: " + image, Cases: []junitCase{}}
	for _, f := range r.Findings {
		c := junitCase{
			Name:      fmt.Sprintf("%s: layer %d: %s", f.Rule, f.Layer, Escape(f.Message)),
			Classname: "layerscope.findings." + string(f.Category),
			File:      Escape(f.File), Line: f.Line,
		}
		text := fmt.Sprintf("%s %s, %s in layer %d", f.Severity, f.Category, Size(f.Bytes), f.Layer)
		if f.File != "" && f.Line > 0 {
			text += fmt.Sprintf(" (%s:%d)", Escape(f.File), f.Line)
		}
		if f.CreatedBy != "" {
			text += "\nlayer made by: " + Escape(f.CreatedBy)
		}
		if len(f.Paths) > 0 {
			text += "\npaths: " + Escape(strings.Join(f.Paths, ", "))
		}
		text += "\nfix: " + Escape(f.Advice)
		switch {
		case r.FailsCI(f):
			c.Failure = &junitFailure{Message: Escape(f.Message), Type: string(f.Category), Text: text}
			findings.Failures++
		case f.Ignored != "":
			c.Skipped = &junitSkipped{Message: "ignored: " + Escape(f.Ignored)}
			c.SystemOut = text
			findings.Skipped++
		default:
			c.SystemOut = text
		}
		findings.Cases = append(findings.Cases, c)
	}
	findings.Tests = len(findings.Cases)

	doc := junitSuites{Name: "layerscope " + image, Suites: []junitSuite{rules, findings}}
	doc.Tests = rules.Tests + findings.Tests
	doc.Failures = rules.Failures + findings.Failures
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
