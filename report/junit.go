package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, the test-report format every CI shows: a testsuite for the
// CI rules (a testcase each, failed when the rule fails), one for the
// build's findings (a testcase each, failed when the finding fails CI by
// --fail-on, else passed with the finding in system-out) and, when the
// base image has findings, one for those, apart as in the text report.
// Each suite's name says what it holds and of which image; a
// comparison's (Report.Compared) say so.

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

// junitTitles names the document and its suites: the CI rules, the
// build's findings, the base image's.
func (r *Report) junitTitles() (doc, rules, own, base string) {
	image := Escape(r.imageName())
	theBase := Escape(r.theBase())
	if c := r.Compared; c != nil && c.Baseline {
		against := " against the baseline " + Escape(c.Old.Name())
		return "layerscope: " + image + against,
			"layerscope: CI rules for " + image + against,
			"layerscope: findings in " + image + against,
			"layerscope: findings from " + theBase + " in " + image + against
	}
	if c := r.Compared; c != nil {
		old := Escape(c.Old.Name())
		return "layerscope diff: " + old + " → " + image,
			"layerscope: CI rules for " + old + " → " + image,
			"layerscope: new findings in " + image + " since " + old,
			"layerscope: new findings from " + theBase + " in " + image + " since " + old
	}
	return "layerscope: " + image,
		"layerscope: CI rules for " + image,
		"layerscope: findings in " + image,
		"layerscope: findings from " + theBase + " in " + image
}

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	docTitle, rulesTitle, ownTitle, baseTitle := r.junitTitles()
	rules := junitSuite{Name: rulesTitle, Cases: []junitCase{}}
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

	own, base := r.splitBase()
	doc := junitSuites{Name: docTitle, Suites: []junitSuite{rules, r.junitFindings(ownTitle, "layerscope.findings.", own)}}
	if len(base) > 0 {
		doc.Suites = append(doc.Suites, r.junitFindings(baseTitle, "layerscope.base.", base))
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
	}
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

// junitFindings is a suite of findings: a testcase each, named by class
// and the finding's category.
func (r *Report) junitFindings(title, class string, fs []Finding) junitSuite {
	findings := junitSuite{Name: title, Cases: []junitCase{}}
	for _, f := range fs {
		c := junitCase{
			Name:      fmt.Sprintf("%s: layer %d: %s", f.Rule, f.Layer, Escape(f.Message)),
			Classname: class + string(f.Category),
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
		if f.Base {
			text += "\nfrom " + Escape(r.theBase()) + ", not the build: " + BaseAdvice
		}
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
	return findings
}
