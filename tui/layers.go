package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

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
	sel, top int
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
		l.want = max(l.want, 15+ansi.StringWidth(x.Instruction()))
	}
	l.sel = max(len(rep.Layers)-1, 0)
	return l
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
	return []key.Binding{k.SwitchPane, k.Up, k.Down, k.LayerMode, k.Findings, k.Wasted, k.NextFinding, k.Narrower, k.Wider, k.Help, k.Quit}
}

func (l layerList) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }

func (l layerList) View(focused bool) string {
	r, st, w := l.rep, &l.c.styles, l.width
	n, top := l.rows(), l.top
	pos := ""
	if n < len(r.Layers) {
		pos = span(top, n, len(r.Layers))
	}
	lines := []string{paneHeader(st, "Layers", pos, focused, w)}
	if len(r.Layers) == 0 {
		lines = append(lines, st.Dim.Render("  (the image has no layers)"))
	}
	for i := top; i < min(top+n, len(r.Layers)); i++ {
		x := r.Layers[i]
		mark := " "
		if l.perLayer[i] > 0 {
			mark = st.Badge.Render("●")
		}
		row := fmt.Sprintf("%s%3d %8s  %s", mark, x.Index, report.Size(x.Bytes), x.Instruction())
		row = ansi.Truncate(row, w, "…")
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

// details is the selected layer: its digest, counts, and its whole
// instruction, wrapped.
func (l layerList) details() []string {
	x := l.rep.Layers[l.sel]
	st := &l.c.styles
	out := []string{st.Bold.Render(fmt.Sprintf("Layer %d", x.Index)) + "  " + st.Dim.Render(shortDigest(x.Digest))}
	out = append(out, fmt.Sprintf("%s %s %s · %s · wasted %s",
		st.Added.Render(fmt.Sprintf("+%d", x.Added)), st.Modified.Render(fmt.Sprintf("~%d", x.Modified)),
		st.Removed.Render(fmt.Sprintf("-%d", x.Removed)), report.Size(x.Bytes), report.Size(x.WastedBytes)))
	return append(out, strings.Split(ansi.Wrap(x.Instruction(), max(l.width, 10), " /"), "\n")...)
}

// summary is the image: files, bytes, waste, findings by category, CI.
func (l layerList) summary() []string {
	r := l.rep
	s := r.Summary
	st := &l.c.styles
	out := []string{st.Bold.Render("Image")}
	out = append(out, fmt.Sprintf("%s files · %s final · %s in layers", humanize.Comma(int64(s.Files)), report.Size(s.FinalBytes), report.Size(s.ContentBytes)))
	out = append(out, fmt.Sprintf("wasted %s (%s of the build) · efficiency %s", report.Size(s.WastedBytes), report.Percent(s.WastePercent), report.Percent(100*s.Efficiency)))
	byCat := map[string]int{}
	var cats []string
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

// Status is the pane's status line: the selected layer's findings.
func (l layerList) Status() string {
	st := &l.c.styles
	var parts []string
	for _, f := range l.rep.Findings {
		if f.Layer == l.sel && f.Ignored == "" {
			parts = append(parts, severityStyle(st, f.Severity)+" "+f.Category)
		}
	}
	if len(parts) == 0 {
		return st.Dim.Render(fmt.Sprintf("layer %d: no findings", l.sel))
	}
	return st.Badge.Render("● ") + fmt.Sprintf("layer %d: %s: ", l.sel, plural(len(parts), "finding")) + strings.Join(parts, ", ") + st.Dim.Render(" · f lists them")
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
