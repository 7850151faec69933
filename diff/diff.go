// Package diff compares two analysed images: what NEW added, removed and
// changed against OLD, path by path, the layers they share, the figures'
// deltas, and the findings NEW brought in or fixed. README.md's "The
// figures of layerscope diff OLD NEW" defines every figure.
package diff

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// Kind is the JSON report's kind for a comparison.
const Kind = "diff"

// Change names what happened to a path.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Diff is everything layerscope diff says: the value behind the text
// report, the JSON and the exit code.
type Diff struct {
	SchemaVersion int       `json:"schemaVersion"`
	Kind          string    `json:"kind"`
	Old           Side      `json:"old"`
	New           Side      `json:"new"`
	SharedLayers  int       `json:"sharedLayers"`
	Summary       Summary   `json:"summary"`
	Paths         []Path    `json:"paths"`
	Findings      Findings  `json:"findings"`
	CI            report.CI `json:"ci"`

	// OldLayers and NewLayers are the images' layer rows, for the text
	// report's side-by-side list.
	OldLayers []report.Layer `json:"-"`
	NewLayers []report.Layer `json:"-"`
}

// Side is one image's identity and figures, as in its own report.
type Side struct {
	Image   report.ImageInfo `json:"image"`
	Summary report.Summary   `json:"summary"`
}

// Summary counts the changes and the deltas of the figures (NEW − OLD).
type Summary struct {
	Added             int   `json:"added"`
	Removed           int   `json:"removed"`
	Changed           int   `json:"changed"`
	ContentBytesDelta int64 `json:"contentBytesDelta"`
	FinalBytesDelta   int64 `json:"finalBytesDelta"`
	WastedBytesDelta  int64 `json:"wastedBytesDelta"`
}

// Path is one path's change.
type Path struct {
	Path     string `json:"path"`
	Change   string `json:"change"`
	OldBytes int64  `json:"oldBytes"`
	NewBytes int64  `json:"newBytes"`
	// Layer is the layer of NEW that set the path: for a removed path, the
	// one whose whiteout hid it, or -1 when NEW never named it.
	Layer int `json:"layer"`
}

// Delta is the path's change in bytes, NEW − OLD.
func (p Path) Delta() int64 { return p.NewBytes - p.OldBytes }

// Findings are the findings NEW has and OLD has not (New), and the reverse
// (Fixed), each as in the image report.
type Findings struct {
	New   []report.Finding `json:"new"`
	Fixed []report.Finding `json:"fixed"`
}

// Compare compares two analysed images. Both reports must hold their
// merged trees.
func Compare(ctx context.Context, old, new *report.Report) (*Diff, error) {
	if old.Tree == nil || new.Tree == nil {
		return nil, errNoTree
	}
	d := Baseline(old, new)
	w := walker{ctx: ctx, old: old.Tree, new: new.Tree, d: d}
	if err := w.walk(0, 0); err != nil {
		return nil, err
	}
	slices.SortFunc(d.Paths, comparePaths)
	return d, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoTree = constError("diff: a report without its tree")

// SharedLayers counts the leading layers with the same diff IDs.
func SharedLayers(old, new []report.Layer) int {
	n := 0
	for n < len(old) && n < len(new) && old[n].Digest == new[n].Digest {
		n++
	}
	return n
}

func comparePaths(a, b Path) int {
	abs := func(n int64) int64 { return max(n, -n) }
	if c := cmp.Compare(abs(b.Delta()), abs(a.Delta())); c != 0 {
		return c
	}
	if c := cmp.Compare(max(b.OldBytes, b.NewBytes), max(a.OldBytes, a.NewBytes)); c != 0 {
		return c
	}
	return strings.Compare(a.Path, b.Path)
}

// walker walks both trees at once, children in name order.
type walker struct {
	ctx      context.Context
	old, new *tree.Tree
	d        *Diff
	steps    int
}

// none marks a side that has no node for a path.
const none tree.NodeID = -1

// walk compares the children of on (in OLD) and nn (in NEW); either may be
// none. A node that a tree holds but its final image does not (a removed
// path) is absent.
func (w *walker) walk(on, nn tree.NodeID) error {
	var ok, nk []tree.NodeID
	if on != none {
		ok = w.old.Children(on)
	}
	if nn != none {
		nk = w.new.Children(nn)
	}
	return pair(w.ctx, &w.steps, w.old, w.new, ok, nk, func(o, n tree.NodeID) error {
		w.compare(o, n)
		return w.walk(o, n)
	})
}

// pair calls fn on the children of two directories in name order: each
// name once, with none for the side that lacks it. It stops at fn's first
// error, and checks ctx every 1,024 steps (counted in *steps).
func pair(ctx context.Context, steps *int, old, new *tree.Tree, ok, nk []tree.NodeID, fn func(o, n tree.NodeID) error) error {
	i, j := 0, 0
	for i < len(ok) || j < len(nk) {
		if *steps++; *steps&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		o, n := none, none
		switch {
		case j >= len(nk):
			o = ok[i]
			i++
		case i >= len(ok):
			n = nk[j]
			j++
		default:
			switch c := strings.Compare(old.Name(ok[i]), new.Name(nk[j])); {
			case c < 0:
				o = ok[i]
				i++
			case c > 0:
				n = nk[j]
				j++
			default:
				o, n = ok[i], nk[j]
				i++
				j++
			}
		}
		if err := fn(o, n); err != nil {
			return err
		}
	}
	return nil
}

// compare records the change, if any, of one path.
func (w *walker) compare(o, n tree.NodeID) {
	var om, nm tree.Meta
	oOK, nOK := false, false
	layer := -1
	if o != none {
		om, _, oOK = w.old.Final(o)
	}
	if n != none {
		var l int
		if nm, l, nOK = w.new.Final(n); nOK {
			layer = l
		} else {
			// A removal: the newest version of NEW's node is its whiteout.
			w.new.Versions(n, func(v int, m tree.Meta) {
				if layer < 0 && m.Kind == tree.KindNone {
					layer = v
				}
			})
		}
	}
	var change string
	switch {
	case oOK && nOK:
		if !Differ(&om, &nm) {
			return
		}
		change = Changed
		w.d.Summary.Changed++
	case nOK:
		change = Added
		w.d.Summary.Added++
	case oOK:
		change = Removed
		w.d.Summary.Removed++
	default:
		return
	}
	tr, id := w.new, n
	if n == none {
		tr, id = w.old, o
	}
	w.d.Paths = append(w.d.Paths, Path{Path: "/" + tr.Path(id), Change: change, OldBytes: sizeOf(&om, oOK), NewBytes: sizeOf(&nm, nOK), Layer: layer})
}

func sizeOf(m *tree.Meta, ok bool) int64 {
	if !ok || m.Kind != tree.KindFile {
		return 0
	}
	return m.Size
}

// Differ reports whether two versions of a path that both exist differ:
// kind, content, mode, uid, gid or link target; for two directories, mode,
// uid and gid only.
func Differ(a, b *tree.Meta) bool {
	if a.Kind != b.Kind || a.Mode != b.Mode || a.UID != b.UID || a.GID != b.GID {
		return true
	}
	if a.Kind == tree.KindDir {
		return false
	}
	return a.Link != b.Link || a.Size != b.Size || a.Hash != b.Hash
}

// key is what makes two findings the same: rule, category, main path; for
// a finding without a path (a secret in the config or history, the user),
// its message with the layer numbers left out, as it names the subject
// (the secret's name or kind).
type key struct {
	rule     string
	category report.Category
	path     string
	subject  string
}

// layerNumbers are the layer numbers in a finding's message, which a
// rebuild changes.
var layerNumbers = regexp.MustCompile(`\blayers? [0-9]+(?:(?:, | and |-)[0-9]+)*`)

func keyOf(f *report.Finding) key {
	k := key{rule: f.Rule, category: f.Category}
	if len(f.Paths) > 0 {
		k.path = f.Paths[0]
	} else {
		k.subject = layerNumbers.ReplaceAllString(f.Message, "layer")
	}
	return k
}

// missing lists the findings of a that b has not.
func missing(a, b []report.Finding) []report.Finding {
	have := make(map[key]bool, len(b))
	for i := range b {
		have[keyOf(&b[i])] = true
	}
	out := []report.Finding{}
	for i := range a {
		if !have[keyOf(&a[i])] {
			out = append(out, a[i])
		}
	}
	return out
}

// MarkBaseline sets InBaseline on each of findings that base has too.
func MarkBaseline(findings, base []report.Finding) {
	have := make(map[key]bool, len(base))
	for i := range base {
		have[keyOf(&base[i])] = true
	}
	for i := range findings {
		findings[i].InBaseline = have[keyOf(&findings[i])]
	}
}

// Baseline compares an image's report with the JSON report of an earlier
// run: the figures' deltas and the new and fixed findings. A saved report
// holds no tree, so Paths stays empty and SharedLayers counts the saved
// layer digests.
func Baseline(old, new *report.Report) *Diff {
	return &Diff{
		SchemaVersion: report.SchemaVersion, Kind: Kind,
		Old:          Side{Image: old.Image, Summary: old.Summary},
		New:          Side{Image: new.Image, Summary: new.Summary},
		SharedLayers: SharedLayers(old.Layers, new.Layers),
		Summary: Summary{
			ContentBytesDelta: new.Summary.ContentBytes - old.Summary.ContentBytes,
			FinalBytesDelta:   new.Summary.FinalBytes - old.Summary.FinalBytes,
			WastedBytesDelta:  new.Summary.WastedBytes - old.Summary.WastedBytes,
		},
		Paths:     []Path{},
		Findings:  Findings{New: missing(new.Findings, old.Findings), Fixed: missing(old.Findings, new.Findings)},
		OldLayers: old.Layers, NewLayers: new.Layers,
		CI: report.CI{Pass: true, Rules: []report.Rule{}},
	}
}
