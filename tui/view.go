package tui

import (
	"fmt"
	"io/fs"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// View draws the screen: the root alone returns a tea.View.
func (m Model) View() tea.View {
	var body string
	switch {
	case m.rep == nil:
		body = m.loadingView()
	case m.showHelp:
		body = m.helpView()
	case m.showFindings:
		body = m.findingsView()
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

// leftWidth is the layers pane's width.
func (m Model) leftWidth() int {
	return min(max(m.width*2/5, 30), 70, max(m.width-30, 20))
}

// layerRows is how many layer rows the left pane shows.
func (m Model) layerRows() int {
	return max(min(len(m.rep.Layers), (m.height-4)/2), 1)
}

func (m Model) mainView() string {
	lw := m.leftWidth()
	rw := max(m.width-lw-1, 10)
	bodyH := max(m.height-3, 1)
	left := m.layersView(lw, bodyH)
	right := m.filesView(rw, bodyH)
	sepStyle := m.styles.Border
	sep := sepStyle.Render(strings.TrimSuffix(strings.Repeat("│\n", bodyH), "\n"))
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
		line += " · " + m.styles.Badge.Render(fmt.Sprintf("%d findings", n))
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

func (m Model) paneHeader(title string, focused bool, w int) string {
	st := m.styles.Bold
	if focused {
		st = m.styles.BorderFocus.Bold(true)
	}
	return fit(st.Render(title), w)
}

func (m Model) layersView(w, h int) string {
	r := m.rep
	lines := []string{m.paneHeader("Layers", m.focus == layersPane, w)}
	n, top := m.layerRows(), m.layerTop
	if len(r.Layers) == 0 {
		lines = append(lines, m.styles.Dim.Render("  (the image has no layers)"))
	}
	findingLayers := map[int]bool{}
	for _, f := range r.Findings {
		if f.Ignored == "" {
			findingLayers[f.Layer] = true
		}
	}
	for i := top; i < min(top+n, len(r.Layers)); i++ {
		l := r.Layers[i]
		mark := " "
		if findingLayers[i] {
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
	lines = lines[:h]
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

func (m Model) layerDetails(w int) []string {
	l := m.rep.Layers[m.layer]
	st := m.styles
	out := []string{st.Bold.Render(fmt.Sprintf("Layer %d", l.Index)) + "  " + st.Dim.Render(shortDigest(l.Digest))}
	out = append(out, fmt.Sprintf("%s %s %s · %s · wasted %s",
		st.Added.Render(fmt.Sprintf("+%d", l.Added)), st.Modified.Render(fmt.Sprintf("~%d", l.Modified)),
		st.Removed.Render(fmt.Sprintf("-%d", l.Removed)), report.Size(l.Bytes), report.Size(l.WastedBytes)))
	wrapped := lipgloss.NewStyle().Width(w).Render(l.Instruction())
	ls := strings.Split(wrapped, "\n")
	if len(ls) > 4 {
		ls = append(ls[:3], ls[3]+"…")
	}
	return append(out, ls...)
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
		flags = append(flags, fmt.Sprintf("filter %q: %d paths match", tv.matches.pattern, tv.matches.count))
	}
	if len(flags) > 0 {
		title += " · " + strings.Join(flags, " · ")
	}
	lines := []string{m.paneHeader(title, m.focus == filesPane, w)}
	p := m.top
	for row := 0; row < h-1 && p != nil; row++ {
		line := m.fileRow(p, w)
		if row == m.offset {
			st := m.styles.SelectedBlur
			if m.focus == filesPane {
				st = m.styles.Selected
			}
			line = st.Render(ansi.Strip(line))
		}
		lines = append(lines, line)
		p = tv.next(p)
	}
	if len(lines) == 1 {
		lines = append(lines, m.styles.Dim.Render("  (nothing to show: v toggles layer changes / whole image, esc clears the filter)"))
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines, "\n")
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
	switch meta.Kind {
	case tree.KindDir:
		if tv.expanded(n) {
			name = "▾ " + name + "/"
		} else {
			name = "▸ " + name + "/"
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
	if _, ok := m.findingFor(n); ok {
		badge = " " + m.styles.Badge.Render("●")
	}
	line := fmt.Sprintf("%s %s%8s %s%s", markers[ch], attrs, size, strings.Repeat("  ", len(p)-1), name)
	return st.Render(ansi.Truncate(line, w-2, "…")) + badge
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

func modeString(meta tree.Meta) string {
	mode := fs.FileMode(meta.Mode & 0o777)
	if meta.Mode&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if meta.Mode&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if meta.Mode&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch meta.Kind {
	case tree.KindDir:
		mode |= fs.ModeDir
	case tree.KindSymlink:
		mode |= fs.ModeSymlink
	case tree.KindChar:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case tree.KindBlock:
		mode |= fs.ModeDevice
	case tree.KindFIFO:
		mode |= fs.ModeNamedPipe
	}
	return mode.String()
}

func (m Model) statusLine() string {
	switch {
	case m.filtering:
		count := ""
		if m.tv.matches != nil {
			count = fmt.Sprintf("  %d paths match", m.tv.matches.count)
		}
		return fit(m.filter.View()+m.styles.Dim.Render(count), m.width)
	case m.status != "" && m.focus == layersPane:
		return fit(m.styles.Status.Render(m.status), m.width)
	}
	if m.focus == filesPane && m.cursor != nil {
		n := m.tv.node(m.cursor)
		if i, ok := m.findingFor(n); ok {
			f := m.rep.Findings[i]
			line := m.severity(f.Severity) + " " + report.Escape(f.Message) + m.styles.Dim.Render(" · fix: "+report.Escape(f.Advice))
			return fit(line, m.width)
		}
		return fit(m.styles.Dim.Render("/"+report.Escape(m.tv.t.Path(n))), m.width)
	}
	return fit(m.styles.Status.Render(m.status), m.width)
}

func (m Model) severity(s string) string {
	switch s {
	case "error":
		return m.styles.Error.Render(s)
	case "warning":
		return m.styles.Warning.Render(s)
	}
	return m.styles.Info.Render(s)
}

func (m Model) footer() string {
	bindings := m.keys.layersHelp()
	if m.focus == filesPane {
		bindings = m.keys.filesHelp()
	}
	h := m.help
	h.SetWidth(m.width)
	return fit(h.ShortHelpView(bindings), m.width)
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
			keys := strings.Join(b.Keys(), ", ")
			keys = strings.ReplaceAll(keys, "shift+tab", "⇧tab")
			*c = append(*c, fmt.Sprintf("%s %s", st.Key.Render(fmt.Sprintf("%-15s", keys)), b.Help().Desc))
		}
	}
	colW := max(m.width/2-1, 20)
	left := lipgloss.NewStyle().Width(colW).Render(strings.Join(cols[0], "\n"))
	right := lipgloss.NewStyle().Width(colW).Render(strings.Join(cols[1], "\n"))
	note := lipgloss.NewStyle().Width(max(m.width-2, 20)).Render(st.Dim.Render(
		"dive's keys work too (ctrl+a/r/u, space, ctrl+space, ctrl+f, ctrl+l, ctrl+o, ctrl+b); its ctrl+m is Enter in every terminal: use M. " +
			"Markers: + added, ~ modified, - removed, ● named by a finding (the status line gives it and the fix). Any other key closes this help."))
	return st.Title.Render("layerscope keys") + "\n" + lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right) + "\n\n" + note
}

func (m Model) findingsView() string {
	fs := m.rep.Findings
	h := max(m.height-4, 1)
	top := 0
	if m.findSel >= h {
		top = m.findSel - h + 1
	}
	lines := []string{m.styles.Title.Render(fmt.Sprintf("Findings (%d), most costly first", len(fs))) + m.styles.Dim.Render("  enter: go to it · esc or f: back · q: quit")}
	for i := top; i < min(top+h, len(fs)); i++ {
		f := fs[i]
		ign := ""
		if f.Ignored != "" {
			ign = " (ignored)"
		}
		line := fmt.Sprintf("%-7s %-13s %9s  layer %-3d %s%s", f.Severity, f.Category, report.Size(f.Bytes), f.Layer, report.Escape(f.Message), ign)
		line = ansi.Truncate(line, m.width, "…")
		if i == m.findSel {
			line = m.styles.Selected.Render(fit(ansi.Strip(line), m.width))
		}
		lines = append(lines, line)
	}
	lines = append(lines, "")
	if m.findSel < len(fs) {
		lines = append(lines, fit(m.styles.Dim.Render("fix: "+report.Escape(fs[m.findSel].Advice)), m.width))
	}
	return strings.Join(lines, "\n")
}
