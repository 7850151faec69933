package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/report"
)

// View draws the screen: the root alone returns a tea.View; components
// return strings.
func (m Model) View() tea.View {
	var body string
	switch m.state {
	case stateLoading:
		body = m.loadingView()
	case stateHelp:
		body = m.keyHelp.View()
	case stateFindings:
		body = m.findings.View()
	case stateWaste:
		body = m.waste.View()
	case stateViewer:
		body = m.viewer.View()
	default:
		body = m.mainView()
	}
	if n := max(m.height, 1); strings.Count(body, "\n") >= n {
		// A screen too small for the layout: its top, never more lines.
		body = strings.Join(strings.SplitN(body, "\n", n+1)[:n], "\n")
	}
	v := tea.NewView(body)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "layerscope"
	return v
}

func (m Model) loadingView() string {
	s := m.prog.Snapshot()
	st := &m.c.styles
	var b strings.Builder
	b.WriteString(st.Title.Render("layerscope") + "\n\n")
	b.WriteString("  " + s.Phase + "\n")
	read := report.Size(s.Read) + " read"
	if s.Total > 0 {
		read += " of about " + report.Size(s.Total)
	}
	fmt.Fprintf(&b, "  %s · %d layers parsed · %.1fs\n\n", read, s.Layers, s.Elapsed.Seconds())
	b.WriteString(st.Dim.Render("  q to cancel"))
	return b.String()
}

// leftWidth is the layers pane's width: as wide as its rows want, up to
// two fifths of the screen (half on a wide one), then what < and > moved.
func (m Model) leftWidth() int {
	want := max(30, m.layers.want)
	share := m.width * 2 / 5
	if m.width >= 120 {
		share = m.width / 2
	}
	lw := min(want, max(share, 30)) + m.leftAdj
	return max(min(lw, m.width-24), min(16, m.width/2), 1)
}

// mainView is the two panes side by side, under the title line and over
// the status line and the footer.
func (m Model) mainView() string {
	bodyH := max(m.height-3, 1)
	sep := m.c.styles.Border.Render(strings.TrimSuffix(strings.Repeat("│\n", bodyH), "\n"))
	body := lipgloss.JoinHorizontal(lipgloss.Top, m.layers.View(m.focus == layersPane), sep, m.files.View(m.focus == filesPane))
	return m.titleLine() + "\n" + body + "\n" + m.statusLine() + "\n" + m.footer()
}

func (m Model) titleLine() string {
	if m.diff.shown() {
		return m.diffTitle()
	}
	r := m.rep
	s := r.Summary
	st := &m.c.styles
	app := "layerscope"
	if m.diff.data != nil {
		app = "layerscope diff: NEW" // alone, until v
	}
	line := fmt.Sprintf("%s %s · %s · %s · efficiency %s · wasted %s",
		st.Title.Render(app), imageLabel(r), plural(s.Layers, "layer"), report.Size(s.ContentBytes),
		report.Percent(100*s.Efficiency), report.Size(s.WastedBytes))
	if n := len(r.Findings); n > 0 {
		line += " · " + st.Badge.Render(plural(n, "finding"))
	}
	if m.diff.data != nil {
		line += " · v: the difference"
	}
	return fit(line, m.width)
}

// statusLine is the filter prompt while it has the keys, else the last
// key's message, else what the focused pane says.
func (m Model) statusLine() string {
	switch {
	case m.state == stateFilter:
		return m.files.FilterView(m.width)
	case m.status != "":
		return fit(m.c.styles.Status.Render(m.status), m.width)
	}
	if m.focus == filesPane {
		if s, ok := m.files.Status(m.width); ok {
			return s
		}
	}
	return fit(m.layers.Status(), m.width)
}

// footer is the keys of whatever has the keyboard.
func (m Model) footer() string {
	var keys help.KeyMap = m.layers
	switch {
	case m.state == stateFilter:
		keys = filterHelp{&m.c.keys}
	case m.focus == filesPane:
		keys = m.files
	}
	return footer(m.c, keys, m.width)
}

// fit cuts a styled line to width and pads it.
func fit(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if pad := w - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

func fitLines(lines []string, w int) string {
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

// paneHeader is a pane's title, emphasized when the pane has the keys,
// with where the list stands (pos) on the right.
func paneHeader(st *Styles, title, pos string, focused bool, w int) string {
	ts := st.PaneIdle
	if focused {
		ts = st.PaneActive
	}
	t := ts.Render(" " + title + " ")
	if pos == "" {
		return fit(t, w)
	}
	pos = " " + pos
	room := w - lipgloss.Width(pos)
	if room < 12 {
		return fit(t, w)
	}
	return fit(t, room) + st.Dim.Render(pos)
}

// span says which rows of total show: "12–31 of 2,031".
func span(first, shown, total int) string {
	if total <= 0 {
		return ""
	}
	last := min(first+shown, total)
	return fmt.Sprintf("%s–%s of %s", humanize.Comma(int64(first+1)), humanize.Comma(int64(last)), humanize.Comma(int64(total)))
}

// imageLabel names an image in a title: its reference, else its short
// digest, escaped.
func imageLabel(r *report.Report) string {
	if r.Image.Ref != "" {
		return report.Escape(r.Image.Ref)
	}
	return report.Escape(shortDigest(r.Image.ID))
}
