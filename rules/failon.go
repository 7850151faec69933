package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/layerscope/layerscope/report"
)

// FailOnNone empties the fail-on set: no finding fails CI.
const FailOnNone = "none"

// ParseFailOn checks a fail-on list (from the flag or the config file)
// and returns the set the verdict judges. It takes categories and
// severities; base, beside at least one of them, makes the base image's
// findings count too; none stands alone and empties the set. An empty list
// is an error, not the default: write none to fail on no finding.
func ParseFailOn(items []string, from string) (report.FailOn, error) {
	if len(items) == 0 {
		return report.FailOn{}, fmt.Errorf("fail-on is empty: write none to fail on no finding, or name categories or severities (%s)", strings.Join(report.DefaultFailOn, ","))
	}
	set := []string{}
	base, none := false, false
	for _, v := range items {
		switch {
		case v == FailOnNone:
			none = true
		case v == report.FailOnBase:
			base = true
		case slices.Contains(Categories, Category(v)), Severity(v) == Error, Severity(v) == Warning, Severity(v) == Info:
		default:
			return report.FailOn{}, fmt.Errorf("fail-on: %q is not a category (%s), a severity (error, warning, info), base or none", v, categoryList())
		}
		if v != FailOnNone && !slices.Contains(set, v) {
			set = append(set, v)
		}
	}
	switch {
	case none && len(items) > 1:
		return report.FailOn{}, fmt.Errorf("fail-on: none stands alone (got %s): it fails on no finding", strings.Join(items, ","))
	case base && len(set) == 1:
		return report.FailOn{}, fmt.Errorf("fail-on: base makes the base image's findings count too: name the categories or severities that fail with it (base,%s)", strings.Join(report.DefaultFailOn, ","))
	}
	return report.FailOn{Set: set, From: from}, nil
}

// PackageDB reports a path (as the tree names it, without a leading
// slash) of a package database that any install rewrites: its waste is
// unavoidable.
func PackageDB(path string) bool { return packageDB(path) }
