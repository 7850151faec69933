package report

import (
	"fmt"
	"slices"
)

// How a report's base image was found.
const (
	BaseFromFlag       = "flag"       // --base IMAGE
	BaseFromAnnotation = "annotation" // org.opencontainers.image.base.name/.digest on the manifest
	BaseFromDaemon     = "daemon"     // the daemon's image whose chain is the longest prefix
)

// BaseImage names the base image and how it was found.
type BaseImage struct {
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
	From string `json:"from"` // BaseFromFlag, BaseFromAnnotation or BaseFromDaemon
	// History is how many history entries the base's config holds, 0 when
	// not known: the image's first History entries are the base's, and an
	// entry after them that makes no layer (ENV, LABEL, ARG) is the
	// build's. Not in the JSON: the rules read it as they run.
	History int `json:"-"`
}

// SetBase marks the first layers as the base image's and fills in the
// build's figures: BuildWastedBytes are the bytes of the versions that
// layers above the base hid or replaced (the base's included),
// BaseRemovedBytes the base's part of them, and BuildWastePercent is
// 100 × BuildWastedBytes / (the bytes of the layers above the base +
// BaseRemovedBytes). unavoidable reports a package-database path (as the
// tree names it, no leading slash), for the waste rules.
func (r *Report) SetBase(b BaseImage, layers int, unavoidable func(path string) bool) {
	if layers <= 0 || layers > len(r.Layers) || r.Tree == nil {
		return
	}
	s := &r.Summary
	s.Base, s.BaseLayers = &b, layers
	var above, wasted, removed, pkg int64
	for i := range r.Layers {
		if i < layers {
			r.Layers[i].Base = true
		} else {
			above += r.Layers[i].Bytes
		}
	}
	for _, w := range r.Tree.Waste() {
		isPkg := unavoidable != nil && unavoidable(w.Path)
		for _, ev := range w.Events {
			if ev.By < layers {
				continue // the base's own waste
			}
			wasted += ev.Bytes
			if ev.Layer < layers {
				removed += ev.Bytes
			}
			if isPkg {
				pkg += ev.Bytes
			}
		}
	}
	s.buildBytes, s.buildUnavoidable = above+removed, pkg
	s.BuildWastedBytes, s.BaseRemovedBytes = &wasted, &removed
	percent := 0.0
	if s.buildBytes > 0 {
		percent = 100 * float64(wasted) / float64(s.buildBytes)
	}
	s.BuildWastePercent = &percent
}

// MarkBaseFindings sets Base on the findings that the base image's layers
// hold, but for those that are the build's (Build). A waste finding is
// about a copy that something hid or replaced: it is the base's only when
// base layers did all of that (a base file the build deleted is the
// build's waste).
func (r *Report) MarkBaseFindings() {
	n := r.Summary.BaseLayers
	if n <= 0 {
		return
	}
	var byPath map[string][]int // the layers that hid or replaced a path's copies, per shipping layer
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Layer < 0 || f.Layer >= n || f.Build {
			continue
		}
		if f.Category == CategoryWaste && r.Tree != nil {
			if byPath == nil {
				byPath = map[string][]int{}
				for _, w := range r.Tree.Waste() {
					for _, ev := range w.Events {
						if ev.By >= n {
							byPath["/"+w.Path] = append(byPath["/"+w.Path], ev.Layer)
						}
					}
				}
			}
			if slices.ContainsFunc(f.Paths, func(p string) bool { return slices.Contains(byPath[p], f.Layer) }) {
				continue
			}
		}
		f.Base = true
	}
}

// BaseLayerRange says which layers are the base's: "layer 0" or
// "layers 0-3".
func (s Summary) BaseLayerRange() string {
	if s.BaseLayers <= 1 {
		return "layer 0"
	}
	return fmt.Sprintf("layers 0-%d", s.BaseLayers-1)
}

// foundBy says in words how the base was found.
func (b BaseImage) foundBy() string {
	switch b.From {
	case BaseFromFlag:
		return "named by --base"
	case BaseFromAnnotation:
		return "named by the image's annotations (org.opencontainers.image.base.*)"
	case BaseFromDaemon:
		return "the daemon's image whose layers begin this one's"
	}
	return b.From
}

// BaseAdvice is what the reports tell of the base image's findings as a
// whole: they are not the build's to fix.
const BaseAdvice = "choose a slimmer base or a distroless one"

// baseFailNote says which base findings fail CI, for the reports that
// list them apart while fail-on does not name base.
const baseFailNote = "the base image's findings fail CI only when --fail-on names base, but for secrets, which fail whoever shipped them: --fail-on base,secret,error"

// splitBase parts the findings into the build's own and the base image's
// (Finding.Base), each in the report's order.
func (r *Report) splitBase() (own, base []Finding) {
	for _, f := range r.Findings {
		if f.Base {
			base = append(base, f)
		} else {
			own = append(own, f)
		}
	}
	return own, base
}

// theBase names the base image in a sentence, unescaped: "the base image
// NAME", or "the base image" when the report does not name it.
func (r *Report) theBase() string {
	if b := r.Summary.Base; b != nil && b.Name != "" {
		return "the base image " + b.Name
	}
	return "the base image"
}

// baseExcused says whether a finding is the base image's and counts
// against no fail-on set the report can have: not a secret, and fail-on
// does not name base. The formats that rank findings (SARIF's level,
// Code Quality's severity) rank it lowest.
func (r *Report) baseExcused(f Finding) bool {
	return f.Base && f.Category != CategorySecret && !r.FailsAnyBase()
}
