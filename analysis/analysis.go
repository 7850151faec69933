// Package analysis is the one analysis step: load an image, build its
// report, know its base image, find leftovers (marking the base's), apply
// the config's suppressions and judge the limits, in that order. The
// command, its tests and the benchmarks all run it, so none of them
// assembles the pipeline by hand.
package analysis

import (
	"context"

	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

// Options say how to read the image and what to judge it by. The zero
// value reads with the default rules and limits and the default fail-on
// set, with nothing suppressed.
type Options struct {
	Image  image.Options // Sniff defaults to rules.Sniff
	Rules  *rules.Set    // nil: the built-in rules
	Ignore []config.Ignore
	Limits *config.Limits // nil: report.DefaultLimits()
	Dive   bool           // the limits came from dive's .dive-ci
	FailOn *report.FailOn // nil: report.DefaultFailOn, from "default"
	// Base is --base: the base image, any source image.Load reads (only
	// its chain is read when the source allows). "" looks for it (the
	// manifest's base annotations, else the daemon); NoBase for none.
	Base string
}

// Run analyses the image that source names. It returns the report and the
// loaded image (its layers can be read again when the source allows it).
func Run(ctx context.Context, source string, opt Options) (*report.Report, *image.Image, error) {
	if opt.Image.Sniff == nil {
		opt.Image.Sniff = rules.Sniff
	}
	set := opt.Rules
	if set == nil {
		var err error
		if set, err = rules.NewSet(nil, nil); err != nil {
			return nil, nil, err
		}
	}
	limits := report.DefaultLimits()
	if opt.Limits != nil {
		limits = *opt.Limits
	}
	failOn := report.FailOn{Set: report.DefaultFailOn, From: "default"}
	if opt.FailOn != nil {
		failOn = *opt.FailOn
	}
	opt.Image.Merge = true // each layer merges as it is parsed: the peak is the tree, not every change set
	img, err := image.Load(ctx, source, opt.Image)
	if err != nil {
		return nil, nil, err
	}
	rep, err := report.Build(ctx, img)
	if err != nil {
		return nil, img, err
	}
	base, layers, warning, err := findBase(ctx, img, opt)
	if err != nil {
		return nil, img, err
	}
	if warning != "" {
		rep.Warnings = append(rep.Warnings, warning)
	}
	if base != nil {
		rep.SetBase(*base, layers, rules.PackageDB)
	}
	rep.Findings = set.Find(rep, img)
	// The base's findings are marked after the rules ran: a rule judges
	// a path whoever shipped it; whether it fails CI is the verdict's
	// business (fail-on names base or not).
	for i := range rep.Findings {
		if rules.FromConfig(rep.Findings[i]) {
			rep.Findings[i].Build = true // the final config is the image's, whoever set it first
		}
	}
	rep.MarkBaseFindings()
	rep.Ignore(opt.Ignore)
	rep.Check(limits, opt.Dive, failOn)
	return rep, img, nil
}
