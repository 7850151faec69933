package report

import (
	"path"
	"slices"
	"strings"

	"github.com/layerscope/layerscope/config"
)

// Rule names, as the report shows them.
const (
	RuleMaxWaste        = "max-waste"
	RuleMaxWastePercent = "max-waste-percent"
	RuleMinEfficiency   = "min-efficiency"
	RuleFailOn          = "fail-on"
	// The growth rules judge a comparison: layerscope diff, --baseline.
	RuleMaxGrowth        = "max-growth"
	RuleMaxGrowthPercent = "max-growth-percent"
)

// DefaultFailOn is the fail-on set when neither a flag nor the config
// gives one: any secret, and any finding of severity error.
var DefaultFailOn = []string{string(CategorySecret), string(SeverityError)}

// FailOnBase in a fail-on set makes the base image's findings count too:
// without it they never fail CI. It names no category or severity of its
// own, so it never stands alone.
const FailOnBase = "base"

// FailOn is the set of categories and severities whose findings fail CI.
type FailOn struct {
	Set  []string
	From string
}

// Fails says whether a finding counts against the fail-on set: not
// ignored, not in a --baseline report, of a category or severity in the
// set, and not the base image's unless the set names base or it is a
// secret: a secret that ships is leaked whoever put it there.
func (fo FailOn) Fails(f Finding) bool {
	if f.Ignored != "" || f.InBaseline || (f.Base && f.Category != CategorySecret && !slices.Contains(fo.Set, FailOnBase)) {
		return false
	}
	return slices.Contains(fo.Set, string(f.Category)) || slices.Contains(fo.Set, string(f.Severity))
}

// DefaultWasteFloor is the judged waste below which the percent and
// efficiency rules do not judge: 4 B wasted is 25 % of a tiny build.
const DefaultWasteFloor = 1_000_000

// DefaultLimits are in force when neither a flag nor a config file sets a
// limit: dive's defaults, judged on figures that never count the kept copy.
func DefaultLimits() config.Limits {
	return config.Limits{
		MaxWastePercent: config.Limit{Value: 10, From: "default"},
		MinEfficiency:   config.Limit{Value: 0.9, From: "default"},
		WasteFloor:      config.Limit{Value: DefaultWasteFloor, From: "default"},
	}
}

// Ignore marks the findings a config suppresses, with the reason: they
// stay in the report and out of the verdict.
func (r *Report) Ignore(ignores []config.Ignore) {
	for i := range r.Findings {
		f := &r.Findings[i]
		for _, ig := range ignores {
			if (ig.Rule == "" || ig.Rule == f.Rule) && (ig.Category == "" || Category(ig.Category) == f.Category) &&
				(ig.Path == "" || slices.ContainsFunc(f.Paths, func(p string) bool { return pathMatch(ig.Path, p) })) {
				f.Ignored = ig.Reason
				break
			}
		}
	}
}

// pathMatch matches an ignore glob against a finding's path: "*" within a
// segment, and a trailing "/**" (or "/") for a directory and all under it.
func pathMatch(glob, p string) bool {
	glob = "/" + strings.TrimPrefix(glob, "/")
	if dir, ok := strings.CutSuffix(strings.TrimSuffix(glob, "**"), "/"); ok && dir != glob {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
		for d := p; d != "/" && d != "."; d = path.Dir(d) {
			if ok, _ := path.Match(dir, d); ok {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(glob, p)
	return ok
}

// Check judges the report against the limits and fail-on set in force, and
// sets r.CI.
func (r *Report) Check(l config.Limits, dive bool, failOn FailOn) {
	r.CI = CI{Pass: true, Rules: []Rule{}}
	add := func(name string, limit, value any, pass bool, from string) {
		r.CI.Rules = append(r.CI.Rules, Rule{Name: name, Limit: limit, Value: value, Pass: pass, From: from})
		r.CI.Pass = r.CI.Pass && pass
	}
	s := r.Summary
	// The waste rules judge wasted bytes less the unavoidable ones, unless
	// told to be strict; the figures in the summary stay exact.
	w := WasteRule{Judged: "avoidable", Bytes: max(s.WastedBytes-s.UnavoidableWastedBytes, 0)}
	if l.StrictWaste.Set() && l.StrictWaste.Value != 0 {
		w = WasteRule{Judged: "all", Bytes: s.WastedBytes}
	}
	if l.WasteFloor.Set() {
		w.Floor = int64(l.WasteFloor.Value)
	}
	percent, efficiency := s.WastePercent, s.Efficiency
	if w.Judged != "all" {
		if own := s.ContentBytes - s.baseBytes; own > 0 {
			percent = 100 * float64(w.Bytes) / float64(own)
		}
		if s.ContentBytes > 0 {
			efficiency = 1 - float64(w.Bytes)/float64(s.ContentBytes)
		}
	}
	// With a base known, the percent rule judges the build's waste over
	// what the build added (buildWastePercent), the base's waste aside.
	percentBytes := w.Bytes
	if s.BuildWastePercent != nil {
		w.Percent, percent, percentBytes = "buildWastePercent", *s.BuildWastePercent, *s.BuildWastedBytes
		if w.Judged != "all" {
			percentBytes = max(percentBytes-s.buildUnavoidable, 0)
			if s.buildBytes > 0 {
				percent = 100 * float64(percentBytes) / float64(s.buildBytes)
			}
		}
		w.BuildBytes = &percentBytes
	}
	r.CI.Waste = w
	belowFloor := w.Bytes < w.Floor
	floorNote := func(r *Rule, judged int64) {
		if judged < w.Floor {
			r.Note = "not judged: " + Size(judged) + " wasted is below the floor of " + Size(w.Floor)
		}
	}
	if l.MaxWaste.Set() {
		limit := int64(l.MaxWaste.Value)
		add(RuleMaxWaste, limit, w.Bytes, w.Bytes <= limit, l.MaxWaste.From)
	}
	if l.MaxWastePercent.Set() {
		add(RuleMaxWastePercent, l.MaxWastePercent.Value, percent, percentBytes < w.Floor || percent <= l.MaxWastePercent.Value, l.MaxWastePercent.From)
		floorNote(&r.CI.Rules[len(r.CI.Rules)-1], percentBytes)
	}
	if l.MinEfficiency.Set() {
		add(RuleMinEfficiency, l.MinEfficiency.Value, efficiency, belowFloor || efficiency >= l.MinEfficiency.Value, l.MinEfficiency.From)
		floorNote(&r.CI.Rules[len(r.CI.Rules)-1], w.Bytes)
	}
	if failOn.From != "" {
		failing := 0
		for _, f := range r.Findings {
			if failOn.Fails(f) {
				failing++
			}
		}
		limit := strings.Join(failOn.Set, ",")
		if limit == "" {
			limit = "none"
		}
		add(RuleFailOn, limit, failing, failing == 0, failOn.From)
	}
	if dive {
		r.CI.Notes = append(r.CI.Notes, "limits from dive's .dive-ci are judged on layerscope's figures, which never count the copy of a file that is kept")
	}
}
