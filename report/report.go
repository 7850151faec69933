// Package report turns an analysed image into the one value that feeds the
// JSON report, the text report and the exit code.
package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/rules/secret"
	"github.com/layerscope/layerscope/tree"
)

// SchemaVersion is the JSON report's version: names never change meaning.
const SchemaVersion = 1

// Report is everything layerscope says about an image.
type Report struct {
	SchemaVersion int        `json:"schemaVersion"`
	Image         ImageInfo  `json:"image"`
	Summary       Summary    `json:"summary"`
	Layers        []Layer    `json:"layers"`
	Waste         []Waste    `json:"waste"`
	Findings      []Finding  `json:"findings"`
	Warnings      []string   `json:"warnings"`
	CI            CI         `json:"ci"`
	Tree          *tree.Tree `json:"-"`
	// Compared, when set, makes the report the judged side of a
	// comparison (layerscope diff): the formats title and mark what they
	// write by it. Not in the JSON: the comparison's own JSON says it.
	Compared *Comparison `json:"-"`
}

// ImageInfo names the image and where it came from.
type ImageInfo struct {
	Ref          string `json:"ref"`
	ID           string `json:"id"`
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	User         string `json:"user"`
	Source       string `json:"source"`
	Location     string `json:"location"`
}

// Summary holds the image's figures, as SPEC.md defines them.
type Summary struct {
	Layers       int     `json:"layers"`
	Files        int     `json:"files"`
	RegularFiles int     `json:"regularFiles"`
	FinalBytes   int64   `json:"finalBytes"`
	ContentBytes int64   `json:"contentBytes"`
	WastedBytes  int64   `json:"wastedBytes"`
	WastePercent float64 `json:"wastePercent"`
	Efficiency   float64 `json:"efficiency"`
	// UnavoidableWastedBytes are the wasted bytes of package-database
	// rewrites (dpkg, debconf, apt state, ld.so.cache, alternatives, apk,
	// rpm): any package install on a base makes them. Part of WastedBytes.
	UnavoidableWastedBytes int64 `json:"unavoidableWastedBytes"`
	// CompressedBytes is what a pull of the image transfers: its layer
	// blobs as stored, each once. Only sources that hold every layer's
	// blob know it (a registry, containerd, OCI layouts); 0 otherwise.
	CompressedBytes int64 `json:"compressedBytes,omitempty"`
	// The base image, when one is known (SetBase): its layers are the
	// image's first BaseLayers, and the build is what lies above them.
	BaseLayers int        `json:"baseLayers,omitempty"`
	Base       *BaseImage `json:"base,omitempty"`
	// BuildWastePercent is 100 × BuildWastedBytes / (the bytes of the
	// layers above the base + BaseRemovedBytes): never above 100.
	BuildWastePercent *float64 `json:"buildWastePercent,omitempty"`
	// BuildWastedBytes are the wasted bytes that layers above the base
	// caused: the versions they hid or replaced, the base's included.
	BuildWastedBytes *int64 `json:"buildWastedBytes,omitempty"`
	// BaseRemovedBytes are the base's bytes that layers above it hid or
	// replaced: they still ship.
	BaseRemovedBytes *int64 `json:"baseRemovedBytes,omitempty"`
	// BaseBytes is layer 0's bytes: what waste percent leaves out.
	baseBytes int64
	// buildBytes is what buildWastePercent divides by; buildUnavoidable,
	// the part of BuildWastedBytes that package databases make.
	buildBytes, buildUnavoidable int64
}

// Layer is one layer's row: index counts from 0, the base first.
type Layer struct {
	Index       int    `json:"index"`
	Digest      string `json:"digest"`
	BlobDigest  string `json:"blobDigest,omitempty"`
	BlobBytes   int64  `json:"blobBytes,omitempty"`
	CreatedBy   string `json:"createdBy"`
	Comment     string `json:"comment,omitempty"`
	Created     string `json:"created,omitempty"`
	Bytes       int64  `json:"bytes"`
	WastedBytes int64  `json:"wastedBytes"`
	Added       int    `json:"added"`
	Modified    int    `json:"modified"`
	Removed     int    `json:"removed"`
	Base        bool   `json:"base,omitempty"` // the layer is the base image's
}

// Waste is one path's wasted bytes and the layers whose versions of it
// were hidden or replaced.
type Waste struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	Layers []int  `json:"layers"`
}

// Finding is a leftover: what a later stage should have dropped.
type Finding struct {
	Rule      string   `json:"rule"`
	Category  Category `json:"category"`
	Severity  Severity `json:"severity"`
	Layer     int      `json:"layer"`
	CreatedBy string   `json:"createdBy"`
	Paths     []string `json:"paths"`
	Bytes     int64    `json:"bytes"`
	Message   string   `json:"message"`
	Advice    string   `json:"advice"`
	Ignored   string   `json:"ignored,omitempty"` // the reason, when suppressed
	// InBaseline says the --baseline report had the finding already, so
	// it counts against no rule.
	InBaseline bool `json:"inBaseline,omitempty"`
	// Base says the finding is the base image's: it fails CI only when
	// fail-on names base, or when it is a secret (FailOn.Fails).
	Base bool `json:"base,omitempty"`
	// Build says the finding is the build's whatever its layer (a history
	// entry after the base image's own, the final config): MarkBaseFindings
	// never marks it. Not in the JSON: Base says it there.
	Build bool `json:"-"`
	// File and Line name the Dockerfile instruction that made the layer,
	// when --dockerfile (or ./Dockerfile) matched the image's history.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// CI is the verdict: every rule, and whether all passed.
type CI struct {
	Pass  bool      `json:"pass"`
	Rules []Rule    `json:"rules"`
	Waste WasteRule `json:"waste"`
	Notes []string  `json:"notes,omitempty"`
}

// WasteRule says which wasted bytes the waste rules judged.
type WasteRule struct {
	// Judged is "avoidable" (wasted bytes less the unavoidable ones, the
	// default) or "all" (--strict-waste).
	Judged string `json:"judged"`
	Bytes  int64  `json:"bytes"` // the bytes judged
	// Floor is the judged bytes below which the percent and efficiency
	// rules do not judge (0: always).
	Floor int64 `json:"floor"`
	// Percent names the figure max-waste-percent judged: "wastePercent"
	// (no base image known) or "buildWastePercent" (a base known).
	Percent string `json:"percent,omitempty"`
	// BuildBytes, with a base known, are the build's wasted bytes that
	// max-waste-percent judged (less its package-database rewrites unless
	// strict); the other waste rules judge Bytes.
	BuildBytes *int64 `json:"buildBytes,omitempty"`
}

// Rule is one check: its limit, the image's value, and where the limit
// came from ("flag", "default", or the config file's name).
type Rule struct {
	Name  string `json:"name"`
	Limit any    `json:"limit"`
	Value any    `json:"value"`
	Pass  bool   `json:"pass"`
	From  string `json:"from"`
	Note  string `json:"note,omitempty"` // why it passed without judging
}

// Build fills in every figure of an image: its tree as Load merged it
// (image.Options.Merge), or else its layers merged here, in order.
func Build(ctx context.Context, img *image.Image) (*Report, error) {
	t := img.Tree
	if t == nil {
		b := tree.NewBuilder()
		for i := range img.Layers {
			if _, err := b.Apply(ctx, img.Layers[i].Changes); err != nil {
				return nil, fmt.Errorf("merging layer %d: %w", i, err)
			}
			img.Layers[i].Changes = nil // merged: its entries live on in the tree
		}
		t = b.Finish()
	}
	st := t.Stats()
	r := &Report{
		SchemaVersion: SchemaVersion,
		Image: ImageInfo{
			Ref: img.Ref, ID: img.ID, Source: img.Source, Location: img.Location,
			OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant, User: img.Config.User,
		},
		Summary: Summary{
			Layers: len(img.Layers), Files: st.Files, RegularFiles: st.RegularFiles, FinalBytes: st.FinalBytes,
			ContentBytes: st.ContentBytes, WastedBytes: st.WastedBytes, WastePercent: st.WastePercent(), Efficiency: st.Efficiency(),
			baseBytes: st.BaseBytes,
		},
		Layers:   []Layer{},
		Waste:    []Waste{},
		Findings: []Finding{},
		Warnings: append(append([]string{}, img.Warnings...), t.Warnings()...),
		Tree:     t,
	}
	for i, ls := range t.Layers() {
		l := img.Layers[i]
		// History is shown only redacted: the rules report what was hidden.
		createdBy, _ := secret.Instruction(l.History.CreatedBy)
		comment, _ := secret.Redact(strings.TrimSpace(l.History.Comment))
		r.Layers = append(r.Layers, Layer{
			Index: i, Digest: l.Digest, BlobDigest: l.BlobDigest, BlobBytes: l.BlobBytes,
			CreatedBy: createdBy, Comment: comment, Created: l.History.Created,
			Bytes: ls.Bytes, WastedBytes: ls.WastedBytes, Added: ls.Added, Modified: ls.Modified, Removed: ls.Removed,
		})
	}
	r.Summary.CompressedBytes = compressedBytes(img.Layers)
	for _, w := range t.Waste() {
		r.Waste = append(r.Waste, Waste{Path: "/" + w.Path, Bytes: w.Bytes, Layers: w.Layers})
	}
	return r, nil
}

// compressedBytes sums the layers' blobs, each once, when every layer
// has one.
func compressedBytes(layers []image.Layer) int64 {
	var n int64
	seen := map[string]bool{}
	for _, l := range layers {
		if l.BlobDigest == "" {
			return 0
		}
		if !seen[l.BlobDigest] {
			seen[l.BlobDigest] = true
			n += l.BlobBytes
		}
	}
	return n
}
