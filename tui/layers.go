package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/diff"
	"github.com/layerscope/layerscope/report"
)

// layerList is the layers pane: a row per layer, the selected layer's
// details and the image's summary below. It owns the selection and its
// scroll; the root shows the selected layer's files.
type layerList struct {
	c        *common
	rep      *report.Report
	perLayer map[int]int // findings (not ignored) per layer
	want     int         // the width its rows want
	blobs    bool        // the source knows some layer's compressed size
	// diff is layerscope diff's, NEW's layers being these: diffOn while
	// the difference shows, its shared layers dimmed and marked =.
	diff        *diff.Diff
	diffOn      bool
	newPerLayer map[int]int // the difference's new findings per layer
	sel, top    int
	// width and height are the pane's; the rows take half of it at most.
	width, height int
}

func newLayerList(c *common, rep *report.Report) layerList {
	l := layerList{c: c, rep: rep, perLayer: map[int]int{}, want: 30}
	for _, f := range rep.Findings {
		if f.Ignored == "" {
			l.perLayer[f.Layer]++
		}
	}
	for _, x := range rep.Layers {
		l.blobs = l.blobs || x.BlobBytes > 0
	}
	for _, x := range rep.Layers {
		l.want = max(l.want, l.prefixWidth(blobFull)+ansi.StringWidth(x.Instruction()))
	}
	l.sel = max(len(rep.Layers)-1, 0)
	return l
}

// How a row shows a layer's compressed size (its blob's, as a pull
// transfers it), when the source knows it: in full beside the size, in
// four characters ("1.1M") on a narrow pane, so that the command keeps
// its room.
const (
	blobNone    = iota
	blobCompact // " 1.1M"
	blobFull    // "  1.1 MB"
)

// minCommandWidth is the room a layer row keeps for its command before a
// compressed size may take any.
const minCommandWidth = 12

// prefixWidth is the columns before the command: the finding mark, the
// index, the size, the compressed size as form shows it, two spaces.
func (l layerList) prefixWidth(form int) int {
	w := 1 + 3 + 1 + 8 + 2
	if l.diffOn || l.baseOn() {
		w++ // =, a shared layer; B, a base layer
	}
	switch {
	case !l.blobs:
	case form == blobFull:
		w += 9
	case form == blobCompact:
		w += 5
	}
	return w
}

// blobForm is how the rows show compressed sizes at the pane's width.
func (l layerList) blobForm() int {
	switch {
	case !l.blobs:
		return blobNone
	case l.width-l.prefixWidth(blobFull) >= 2*minCommandWidth:
		return blobFull
	case l.width-l.prefixWidth(blobCompact) >= minCommandWidth:
		return blobCompact
	}
	return blobNone
}

// compactSize is a size in four characters at most: 999B, 12k, 1.1M.
func compactSize(n int64) string {
	units := "BkMGTPE"
	f := float64(n)
	u := 0
	for f >= 999.5 && u < len(units)-1 {
		f /= 1000
		u++
	}
	switch {
	case u == 0:
		return fmt.Sprintf("%d%c", n, units[u])
	case f < 9.95:
		return fmt.Sprintf("%.1f%c", f, units[u])
	}
	return fmt.Sprintf("%.0f%c", f, units[u])
}

func (l *layerList) SetSize(w, h int) {
	l.width, l.height = w, h
	l.scroll()
}

// rows is how many layer rows show.
func (l layerList) rows() int {
	return max(min(len(l.rep.Layers), (l.height-1)/2), 1)
}

// Select makes layer i the selected one, in view.
func (l *layerList) Select(i int) {
	l.sel = i
	l.scroll()
}

// scroll keeps the selected layer in the rows the pane shows.
func (l *layerList) scroll() {
	n := l.rows()
	l.top = min(l.top, l.sel)
	if l.sel >= l.top+n {
		l.top = l.sel - n + 1
	}
	l.top = max(min(l.top, len(l.rep.Layers)-n), 0)
}

// at is the layer on row (0 is the first under the title), if any.
func (l layerList) at(row int) (int, bool) {
	i := l.top + row
	return i, row >= 0 && row < l.rows() && i < len(l.rep.Layers)
}

// Update moves the selection; the root shows the layer it asks for.
func (l layerList) Update(msg tea.KeyPressMsg) (layerList, action) {
	k := l.c.keys
	n := len(l.rep.Layers)
	if n == 0 {
		return l, action{}
	}
	if sel, ok := move(&k, msg, l.sel, n-1, l.rows()); ok {
		return l, action{kind: actSelect, index: sel}
	}
	if key.Matches(msg, k.Jump) || key.Matches(msg, k.Expand) {
		return l, action{kind: actFiles}
	}
	return l, action{}
}

// ShortHelp and FullHelp make the pane a help.KeyMap: its footer, the
// keys that matter most first (footer drops what does not fit).
func (l layerList) ShortHelp() []key.Binding {
	k := l.c.keys
	return []key.Binding{k.SwitchPane, k.DiffView, k.Up, k.Down, k.LayerMode, k.Findings, k.Wasted, k.NextFinding, k.Narrower, k.Wider, k.Help, k.Quit}
}

func (l layerList) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }

func (l layerList) View(focused bool) string {
	r, st, w := l.rep, &l.c.styles, l.width
	n, top := l.rows(), l.top
	pos := ""
	if n < len(r.Layers) {
		pos = span(top, n, len(r.Layers))
	}
	title := "Layers"
	form := l.blobForm()
	switch {
	case l.diffOn:
		title = fmt.Sprintf("Layers of NEW · = %d shared", l.diff.SharedLayers)
	case l.baseOn():
		title = "Layers · B from the base image"
	case form != blobNone:
		title = "Layers · size, compressed"
	}
	lines := []string{paneHeader(st, title, pos, focused, w)}
	if len(r.Layers) == 0 {
		lines = append(lines, st.Dim.Render("  (the image has no layers)"))
	}
	for i := top; i < min(top+n, len(r.Layers)); i++ {
		x := r.Layers[i]
		mark := " "
		if l.perLayer[i] > 0 && !l.diffOn || l.diffOn && l.newPerLayer[i] > 0 {
			mark = st.Badge.Render("●") // the difference: a new finding
		}
		blob := ""
		switch {
		case form == blobFull && x.BlobBytes > 0:
			blob = fmt.Sprintf(" %8s", report.Size(x.BlobBytes))
		case form == blobFull:
			blob = strings.Repeat(" ", 9)
		case form == blobCompact && x.BlobBytes > 0:
			blob = fmt.Sprintf(" %4s", compactSize(x.BlobBytes))
		case form == blobCompact:
			blob = strings.Repeat(" ", 5)
		}
		shared := ""
		switch {
		case l.diffOn && i < l.diff.SharedLayers:
			shared = "="
		case l.diffOn:
			shared = " "
		case l.baseOn() && x.Base:
			shared = "B"
		case l.baseOn():
			shared = " "
		}
		row := fmt.Sprintf("%s%s%3d %8s%s  %s", mark, shared, x.Index, report.Size(x.Bytes), blob, x.Instruction())
		row = ansi.Truncate(row, w, "…")
		if (shared == "=" || shared == "B") && i != l.sel {
			row = st.Dim.Render(ansi.Strip(row))
		}
		if i == l.sel {
			sel := st.SelectedBlur
			if focused {
				sel = st.Selected
			}
			row = sel.Render(fit(ansi.Strip(row), w))
		}
		lines = append(lines, fit(row, w))
	}
	lines = append(lines, "")
	if len(r.Layers) > 0 {
		lines = append(lines, l.details()...)
	}
	lines = append(lines, "")
	lines = append(lines, l.summary()...)
	for len(lines) < l.height {
		lines = append(lines, "")
	}
	return fitLines(lines[:l.height], w)
}

// baseOn says the report knows the image's base: its layers are marked B
// and dimmed.
func (l layerList) baseOn() bool { return !l.diffOn && l.rep.Summary.BaseLayers > 0 }

// details is the selected layer: its digest, counts, and its whole
// instruction, wrapped.
func (l layerList) details() []string {
	x := l.rep.Layers[l.sel]
	st := &l.c.styles
	out := []string{st.Bold.Render(fmt.Sprintf("Layer %d", x.Index)) + "  " + st.Dim.Render(shortDigest(x.Digest))}
	out = append(out, fmt.Sprintf("%s %s %s · %s · wasted %s",
		st.Added.Render(fmt.Sprintf("+%d", x.Added)), st.Modified.Render(fmt.Sprintf("~%d", x.Modified)),
		st.Removed.Render(fmt.Sprintf("-%d", x.Removed)), report.Size(x.Bytes), report.Size(x.WastedBytes)))
	if x.BlobBytes > 0 {
		out = append(out, report.Size(x.BlobBytes)+" compressed")
	}
	if l.diffOn && l.sel < l.diff.SharedLayers {
		out = append(out, st.Dim.Render("= shared with OLD"))
	}
	if !l.diffOn && x.Base && l.rep.Summary.Base != nil {
		out = append(out, st.Dim.Render("B from the base image "+report.Escape(l.rep.Summary.Base.Name)))
	}
	return append(out, strings.Split(ansi.Wrap(x.Instruction(), max(l.width, 10), " /"), "\n")...)
}

// summary is the image: files, bytes, waste, findings by category, CI;
// or, while a difference shows, the difference.
func (l layerList) summary() []string {
	if l.diffOn {
		return l.diffSummary()
	}
	r := l.rep
	s := r.Summary
	st := &l.c.styles
	out := []string{st.Bold.Render("Image")}
	out = append(out, fmt.Sprintf("%s files · %s final · %s in layers", humanize.Comma(int64(s.Files)), report.Size(s.FinalBytes), report.Size(s.ContentBytes)))
	if s.CompressedBytes > 0 {
		out = append(out, fmt.Sprintf("pull size %s compressed", report.Size(s.CompressedBytes)))
	}
	if s.Base != nil && s.BuildWastePercent != nil {
		out = append(out, fmt.Sprintf("base image %s: %s", report.Escape(s.Base.Name), s.BaseLayerRange()))
		out = append(out, fmt.Sprintf("wasted %s (%s of the build above the base) · efficiency %s", report.Size(s.WastedBytes), report.Percent(*s.BuildWastePercent), report.Percent(100*s.Efficiency)))
	} else {
		out = append(out, fmt.Sprintf("wasted %s (%s of the build) · efficiency %s", report.Size(s.WastedBytes), report.Percent(s.WastePercent), report.Percent(100*s.Efficiency)))
	}
	byCat := map[report.Category]int{}
	var cats []report.Category
	for _, f := range r.Findings {
		if f.Ignored != "" {
			continue
		}
		if byCat[f.Category] == 0 {
			cats = append(cats, f.Category)
		}
		byCat[f.Category]++
	}
	if len(cats) > 0 {
		var parts []string
		for _, c := range cats {
			parts = append(parts, fmt.Sprintf("%s %d", c, byCat[c]))
		}
		out = append(out, st.Badge.Render("findings: ")+strings.Join(parts, ", "))
	}
	verdict := st.Pass.Render("CI: pass")
	if !r.CI.Pass {
		verdict = st.Fail.Render("CI: fail")
	}
	return append(out, verdict)
}

// diffSummary is the difference: counts, figures OLD → NEW, findings,
// the growth rules' verdict.
func (l layerList) diffSummary() []string {
	d, st := l.diff, &l.c.styles
	o, n := d.Old.Summary, d.New.Summary
	out := []string{st.Bold.Render("Difference"), d.Headline()}
	out = append(out, fmt.Sprintf("shipped %s → %s · final %s → %s", report.Size(o.ContentBytes), report.Size(n.ContentBytes), report.Size(o.FinalBytes), report.Size(n.FinalBytes)))
	out = append(out, fmt.Sprintf("wasted %s → %s (%s)", report.Size(o.WastedBytes), report.Size(n.WastedBytes), signedSize(d.Summary.WastedBytesDelta)))
	out = append(out, fmt.Sprintf("findings: %d new, %d fixed", len(d.Findings.New), len(d.Findings.Fixed)))
	verdict := st.Pass.Render("CI: pass")
	if !d.CI.Pass {
		verdict = st.Fail.Render("CI: fail")
	}
	return append(out, verdict)
}

// Status is the pane's status line: the selected layer's findings.
func (l layerList) Status() string {
	st := &l.c.styles
	var parts []string
	fs := l.rep.Findings
	if l.diffOn {
		fs = l.diff.Findings.New
	}
	for _, f := range fs {
		if f.Layer == l.sel && f.Ignored == "" {
			parts = append(parts, severityStyle(st, f.Severity)+" "+string(f.Category))
		}
	}
	if l.diffOn && l.sel < l.diff.SharedLayers {
		return st.Dim.Render(fmt.Sprintf("layer %d: shared with OLD; the difference is of the whole images: tab goes to it", l.sel))
	}
	what := "finding"
	if l.diffOn {
		what = "new finding"
	}
	if len(parts) == 0 {
		return st.Dim.Render(fmt.Sprintf("layer %d: no %ss", l.sel, what))
	}
	return st.Badge.Render("● ") + fmt.Sprintf("layer %d: %s: ", l.sel, plural(len(parts), what)) + strings.Join(parts, ", ") + st.Dim.Render(" · f lists them")
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
