package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// View draws the screen: the root alone returns a tea.View; components
// return strings.
func (m Model) View() tea.View {
	var body string
	switch m.state {
	case stateLoading:
		body = m.loadingView()
	case stateHelp:
		body = m.helpView()
	case stateFindings:
		body = m.findings.View(m.styles, m.keys, m.help)
	case stateWaste:
		body = m.waste.View(m.styles, m.keys, m.help)
	case stateViewer:
		body = m.viewer.View(m.styles, m.keys, m.help)
	default:
		body = m.mainView()
	}
	v := tea.NewView(body)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "layerscope"
	return v
}

func (m Model) loadingView() string {
	s := m.prog.Snapshot()
	var b strings.Builder
	b.WriteString(m.styles.Title.Render("layerscope") + "\n\n")
	b.WriteString("  " + s.Phase + "\n")
	read := report.Size(s.Read) + " read"
	if s.Total > 0 {
		read += " of about " + report.Size(s.Total)
	}
	fmt.Fprintf(&b, "  %s · %d layers parsed · %.1fs\n\n", read, s.Layers, s.Elapsed.Seconds())
	b.WriteString(m.styles.Dim.Render("  q to cancel"))
	return b.String()
}

// leftWidth is the layers pane's width: as wide as its rows want, up to
// two fifths of the screen (half on a wide one), then what < and > moved.
func (m Model) leftWidth() int {
	want := 30
	if m.rep != nil {
		for _, l := range m.rep.Layers {
			want = max(want, 15+ansi.StringWidth(l.Instruction()))
		}
	}
	share := m.width * 2 / 5
	if m.width >= 120 {
		share = m.width / 2
	}
	lw := min(want, max(share, 30)) + m.leftAdj
	return max(min(lw, m.width-24), min(16, m.width/2), 1)
}

// layerRows is how many layer rows the left pane shows.
func (m Model) layerRows() int {
	return max(min(len(m.rep.Layers), (m.height-4)/2), 1)
}

func (m Model) mainView() string {
	lw := m.leftWidth()
	rw := max(m.width-lw-1, 1)
	bodyH := max(m.height-3, 1)
	left := m.layersView(lw, bodyH)
	right := m.filesView(rw, bodyH)
	sep := m.styles.Border.Render(strings.TrimSuffix(strings.Repeat("│\n", bodyH), "\n"))
	body := lipgloss.JoinHorizontal(lipgloss.Top, left, sep, right)
	return m.titleLine() + "\n" + body + "\n" + m.statusLine() + "\n" + m.footer()
}

func (m Model) titleLine() string {
	r := m.rep
	s := r.Summary
	ref := r.Image.Ref
	if ref == "" {
		ref = shortDigest(r.Image.ID)
	}
	line := fmt.Sprintf("%s %s · %d layers · %s · efficiency %s · wasted %s",
		m.styles.Title.Render("layerscope"), report.Escape(ref), s.Layers, report.Size(s.ContentBytes),
		report.Percent(100*s.Efficiency), report.Size(s.WastedBytes))
	if n := len(r.Findings); n > 0 {
		line += " · " + m.styles.Badge.Render(plural(n, "finding"))
	}
	return fit(line, m.width)
}

// fit cuts a styled line to width and pads it.
func fit(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if pad := w - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// paneHeader is a pane's title, emphasized when the pane has the keys,
// with where the list stands (pos) on the right.
func (m Model) paneHeader(title, pos string, focused bool, w int) string {
	st := m.styles.PaneIdle
	if focused {
		st = m.styles.PaneActive
	}
	t := st.Render(" " + title + " ")
	if pos == "" {
		return fit(t, w)
	}
	pos = " " + pos
	room := w - lipgloss.Width(pos)
	if room < 12 {
		return fit(t, w)
	}
	return fit(t, room) + m.styles.Dim.Render(pos)
}

// span says which rows of total show: "12–31 of 2,031".
func span(first, shown, total int) string {
	if total <= 0 {
		return ""
	}
	last := min(first+shown, total)
	return fmt.Sprintf("%s–%s of %s", humanize.Comma(int64(first+1)), humanize.Comma(int64(last)), humanize.Comma(int64(total)))
}

func (m Model) layersView(w, h int) string {
	r := m.rep
	n, top := m.layerRows(), m.layerTop
	pos := ""
	if n < len(r.Layers) {
		pos = span(top, n, len(r.Layers))
	}
	lines := []string{m.paneHeader("Layers", pos, m.focus == layersPane, w)}
	if len(r.Layers) == 0 {
		lines = append(lines, m.styles.Dim.Render("  (the image has no layers)"))
	}
	findingLayers := m.findingLayers()
	for i := top; i < min(top+n, len(r.Layers)); i++ {
		l := r.Layers[i]
		mark := " "
		if findingLayers[i] > 0 {
			mark = m.styles.Badge.Render("●")
		}
		row := fmt.Sprintf("%s%3d %8s  %s", mark, l.Index, report.Size(l.Bytes), l.Instruction())
		row = ansi.Truncate(row, w, "…")
		if i == m.layer {
			st := m.styles.SelectedBlur
			if m.focus == layersPane {
				st = m.styles.Selected
			}
			row = st.Render(fit(ansi.Strip(row), w))
		}
		lines = append(lines, fit(row, w))
	}
	lines = append(lines, "")
	if len(r.Layers) > 0 {
		lines = append(lines, m.layerDetails(w)...)
	}
	lines = append(lines, "")
	lines = append(lines, m.imageSummary(w)...)
	for len(lines) < h {
		lines = append(lines, "")
	}
	return fitLines(lines[:h], w)
}

// findingLayers counts the findings (not ignored) per layer.
func (m Model) findingLayers() map[int]int {
	out := map[int]int{}
	for _, f := range m.rep.Findings {
		if f.Ignored == "" {
			out[f.Layer]++
		}
	}
	return out
}

// layerDetails is the selected layer: its digest, counts, and its whole
// instruction, wrapped.
func (m Model) layerDetails(w int) []string {
	l := m.rep.Layers[m.layer]
	st := m.styles
	out := []string{st.Bold.Render(fmt.Sprintf("Layer %d", l.Index)) + "  " + st.Dim.Render(shortDigest(l.Digest))}
	out = append(out, fmt.Sprintf("%s %s %s · %s · wasted %s",
		st.Added.Render(fmt.Sprintf("+%d", l.Added)), st.Modified.Render(fmt.Sprintf("~%d", l.Modified)),
		st.Removed.Render(fmt.Sprintf("-%d", l.Removed)), report.Size(l.Bytes), report.Size(l.WastedBytes)))
	return append(out, strings.Split(ansi.Wrap(l.Instruction(), max(w, 10), " /"), "\n")...)
}

func (m Model) imageSummary(w int) []string {
	r := m.rep
	s := r.Summary
	st := m.styles
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

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func (m Model) filesView(w, h int) string {
	tv := m.tv
	title := fmt.Sprintf("Files after layer %d", m.layer)
	if len(m.rep.Layers) == 0 {
		title = "Files"
	}
	if !tv.whole {
		title = fmt.Sprintf("Changes in layer %d", m.layer)
	}
	var flags []string
	if tv.bySize {
		flags = append(flags, "by size")
	}
	for c, name := range []string{"unchanged", "added", "modified", "removed"} {
		if tv.hide[c] {
			flags = append(flags, "no "+name)
		}
	}
	if tv.matches != nil {
		flags = append(flags, fmt.Sprintf("/%s/: %s", report.Escape(tv.matches.pattern), plural(tv.matches.count, "match")))
	}
	if len(flags) > 0 {
		title += " · " + strings.Join(flags, " · ")
	}
	pos := ""
	if m.rowTotal > h-1 && m.rowIdx >= 0 {
		pos = span(m.rowIdx-m.offset, h-1, m.rowTotal)
	}
	lines := []string{m.paneHeader(title, pos, m.focus == filesPane, w)}
	p := m.top
	for row := 0; row < h-1 && p != nil; row++ {
		line := m.fileRow(p, w)
		if row == m.offset {
			st := m.styles.SelectedBlur
			if m.focus == filesPane {
				st = m.styles.Selected
			}
			line = st.Render(fit(ansi.Strip(line), w))
		}
		lines = append(lines, line)
		p = tv.next(p)
	}
	if len(lines) == 1 {
		lines = append(lines, m.emptyHint(w)...)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return fitLines(lines, w)
}

// emptyHint says what hides everything, and the keys that bring it back.
func (m Model) emptyHint(w int) []string {
	var why []string
	if !m.tv.whole {
		why = append(why, "v shows the whole image, not only this layer's changes")
	}
	for c, k := range []string{"U", "A", "M", "R"} {
		if m.tv.hide[c] {
			why = append(why, fmt.Sprintf("%s shows %s entries", k, []string{"unchanged", "added", "modified", "removed"}[c]))
		}
	}
	if m.tv.matches != nil {
		why = append(why, "esc clears the filter")
	}
	text := "nothing to show"
	if len(why) > 0 {
		text += ": " + strings.Join(why, "; ")
	}
	var out []string
	for _, l := range strings.Split(ansi.Wrap(text, max(w-2, 10), " "), "\n") {
		out = append(out, "  "+m.styles.Dim.Render(l))
	}
	return out
}

var markers = [...]string{" ", "+", "~", "-"}

func (m Model) fileRow(p pos, w int) string {
	tv := m.tv
	n := tv.node(p)
	meta, ch, _ := tv.state(n)
	st := [...]lipgloss.Style{m.styles.Unchanged, m.styles.Added, m.styles.Modified, m.styles.Removed}[ch]
	size := "…"
	if s := tv.size(n); s >= 0 {
		size = report.Size(s)
	}
	name := report.Escape(tv.t.Name(n))
	inside := "" // what a collapsed directory hides
	switch meta.Kind {
	case tree.KindDir:
		if tv.expanded(n) {
			name = "▾ " + name + "/"
		} else {
			name = "▸ " + name + "/"
			inside = m.collapsedSummary(n)
		}
	case tree.KindSymlink:
		name = "  " + name + " → " + report.Escape(meta.Link)
	case tree.KindHardlink:
		name = "  " + name + " ⇒ /" + report.Escape(meta.Link)
	default:
		name = "  " + name
	}
	attrs := ""
	if m.attrs {
		attrs = fmt.Sprintf("%s %5d:%-5d ", modeString(meta), meta.UID, meta.GID)
	}
	badge := ""
	if _, ok := m.findingFor(n); ok || (inside != "" || !tv.expanded(n)) && meta.Kind == tree.KindDir && m.badgeBelow[n] {
		badge = " " + m.styles.Badge.Render("●")
	}
	line := fmt.Sprintf("%s %s%8s %s%s", markers[ch], attrs, size, strings.Repeat("  ", len(p)-1), name)
	if inside != "" {
		inside = " " + m.styles.Dim.Render(inside)
	}
	room := w - lipgloss.Width(badge)
	if lipgloss.Width(line)+lipgloss.Width(inside) > room {
		inside = ""
	}
	return st.Render(ansi.Truncate(line, room, "…")) + inside + badge
}

// collapsedSummary is what a collapsed directory holds that the layer
// changed: the kinds of change (+ ~ -) and the bytes added or modified.
func (m Model) collapsedSummary(n tree.NodeID) string {
	a := m.tv.aggregates()
	if a == nil {
		return ""
	}
	k := a.kindsBelow(n)
	var marks string
	for c := tree.Added; c <= tree.Removed; c++ {
		if k&(1<<c) != 0 {
			marks += markers[c]
		}
	}
	if marks == "" {
		return ""
	}
	if b := a.changedBelow(n); b > 0 {
		return fmt.Sprintf("[%s %s]", marks, report.Size(b))
	}
	return "[" + marks + "]"
}

// findingFor returns the finding that names n or a directory above it.
func (m Model) findingFor(n tree.NodeID) (int, bool) {
	for a := n; a != 0; a = m.tv.t.Parent(a) {
		if fs, ok := m.badges[a]; ok {
			return fs[0], true
		}
	}
	return 0, false
}

// modeString is the mode as ls -l shows it: lrwxrwxrwx for a symlink
// (Linux ignores a link's own mode), s/S and t/T for setuid, setgid and
// sticky.
func modeString(meta tree.Meta) string {
	typ := byte('-')
	switch meta.Kind {
	case tree.KindDir:
		typ = 'd'
	case tree.KindSymlink:
		return "lrwxrwxrwx"
	case tree.KindChar:
		typ = 'c'
	case tree.KindBlock:
		typ = 'b'
	case tree.KindFIFO:
		typ = 'p'
	}
	b := []byte{typ}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if meta.Mode&(1<<(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	special := func(bit uint32, at int, set, unset byte) {
		if meta.Mode&bit == 0 {
			return
		}
		if b[at] == '-' {
			b[at] = unset
		} else {
			b[at] = set
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}

func (m Model) statusLine() string {
	switch {
	case m.state == stateFilter:
		note := ""
		switch {
		case m.filterErr != "":
			note = "  " + m.styles.Error.Render(m.filterErr) + m.styles.Dim.Render(": the last result stays")
		case m.tv.matches != nil:
			note = m.styles.Dim.Render("  " + plural(m.tv.matches.count, "path") + " match")
		}
		return fit(m.filter.View()+note, m.width)
	case m.status != "":
		return fit(m.styles.Status.Render(m.status), m.width)
	}
	if m.focus == filesPane && m.cursor != nil {
		n := m.tv.node(m.cursor)
		if i, ok := m.findingFor(n); ok {
			f := m.rep.Findings[i]
			line := m.styles.Badge.Render("● ") + severityStyle(m.styles, f.Severity) + " " + report.Escape(f.Message) + m.styles.Dim.Render(" · f: the finding whole, with its fix")
			return fit(line, m.width)
		}
		return fit(m.styles.Dim.Render("/"+report.Escape(m.tv.t.Path(n))), m.width)
	}
	return fit(m.layerFindings(), m.width)
}

// layerFindings is the layers pane's status: the selected layer's findings.
func (m Model) layerFindings() string {
	var parts []string
	for _, f := range m.rep.Findings {
		if f.Layer == m.layer && f.Ignored == "" {
			parts = append(parts, severityStyle(m.styles, f.Severity)+" "+f.Category)
		}
	}
	if len(parts) == 0 {
		return m.styles.Dim.Render(fmt.Sprintf("layer %d: no findings", m.layer))
	}
	return m.styles.Badge.Render("● ") + fmt.Sprintf("layer %d: %s: ", m.layer, plural(len(parts), "finding")) + strings.Join(parts, ", ") + m.styles.Dim.Render(" · f lists them")
}

func (m Model) footer() string {
	keys := m.keys.layersKeys()
	switch {
	case m.state == stateFilter:
		keys = m.keys.filterKeys()
	case m.focus == filesPane:
		keys = m.keys.filesKeys()
	}
	h := m.help
	h.SetWidth(m.width)
	return fit(h.ShortHelpView(keys.ShortHelp()), m.width)
}

func (m Model) helpView() string {
	st := m.styles
	var cols [2][]string
	for i, g := range m.keys.helpGroups() {
		c := &cols[min(i/2, 1)]
		if len(*c) > 0 {
			*c = append(*c, "")
		}
		*c = append(*c, st.Bold.Render(g.title))
		for _, b := range g.bindings {
			keys := strings.Join(bindingKeys(b), ", ")
			*c = append(*c, fmt.Sprintf("%s %s", st.Key.Render(fmt.Sprintf("%-15s", keys)), b.Help().Desc))
		}
	}
	colW := max(m.width/2-1, 20)
	left := lipgloss.NewStyle().Width(colW).Render(strings.Join(cols[0], "\n"))
	right := lipgloss.NewStyle().Width(colW).Render(strings.Join(cols[1], "\n"))
	note := lipgloss.NewStyle().Width(max(m.width-2, 20)).Render(st.Dim.Render(
		"dive's ctrl+m is Enter in every terminal: use M. The filter is a regular expression, case folded. " +
			"Markers: + added, ~ modified, - removed, ● named by a finding; a collapsed folder shows [+~- bytes] changed below it. Any other key closes this help."))
	return st.Title.Render("layerscope keys") + "\n" + lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right) + "\n\n" + note
}
