package tui

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// LayerOpener opens a layer's uncompressed tar again: what the viewer
// needs from a source that can be read twice (an archive file, an OCI
// layout). Layers count from 0, the base first.
type LayerOpener interface {
	OpenLayer(ctx context.Context, layer int) (io.ReadCloser, error)
}

// viewLimit is the most of a file the viewer reads.
const viewLimit = 1 << 20

// viewerMsg is a file's content, read off the key path.
type viewerMsg struct {
	seq  int
	data []byte
	more bool // the file goes on past viewLimit
	err  error
}

// readLayerFile reads up to limit bytes of name (a cleaned path, no
// leading /) from a layer's tar. The same path twice in one layer: the
// later copy is what the layer holds, so the whole tar is read.
func readLayerFile(ctx context.Context, open LayerOpener, layer int, name string, limit int64) ([]byte, bool, error) {
	rc, err := open.OpenLayer(ctx, layer)
	if err != nil {
		return nil, false, fmt.Errorf("opening layer %d: %w", layer, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var data []byte
	found, more := false, false
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading layer %d: %w", layer, err)
		}
		if cleanName(h.Name) != name || h.Typeflag != tar.TypeReg {
			continue
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(tr, limit))
		if err != nil {
			return nil, false, fmt.Errorf("reading /%s in layer %d: %w", name, layer, err)
		}
		data, found, more = buf.Bytes(), true, h.Size > n
	}
	if !found {
		return nil, false, fmt.Errorf("layer %d holds no regular file /%s", layer, name)
	}
	return data, more, nil
}

// cleanName is a tar entry's name as the tree names it.
func cleanName(n string) string {
	n = path.Clean("/" + n)
	return strings.TrimPrefix(n, "/")
}

// notAFile says why an entry that is not a regular file shows no content.
func notAFile(meta tree.Meta) string {
	switch meta.Kind {
	case tree.KindSymlink:
		return "a symbolic link to " + report.Escape(meta.Link) + ": it has no content of its own"
	case tree.KindHardlink:
		return "a hard link to /" + report.Escape(meta.Link) + ": open that path to see the content"
	}
	return "not a regular file: nothing to show"
}

// viewer shows one file's content, read-only: text with every control
// character escaped (tabs become spaces), anything else as a hex dump.
// Nothing is written anywhere, nothing is run.
type viewer struct {
	c             *common
	title         string
	note          string // why there is nothing to show, or how to get there
	raw           []byte
	more          bool
	lines         []string
	top           int
	seq           int
	stop          context.CancelFunc // ends the read under way, if any
	width, height int
}

// cancel ends the read under way, if any: its content is not wanted.
func (v *viewer) cancel() {
	if v.stop != nil {
		v.stop()
		v.stop = nil
	}
}

func (v *viewer) SetSize(w, h int) {
	v.width, v.height = w, h
	v.layout()
}

func (v *viewer) rows() int { return max(v.height-3, 1) }

// loaded takes the content a command read.
func (v viewer) loaded(msg viewerMsg) viewer {
	if msg.seq != v.seq {
		return v
	}
	v.cancel() // the read is over: release its context
	if msg.err != nil {
		v.note = "could not read it: " + report.Escape(msg.err.Error())
		return v
	}
	v.note, v.raw, v.more = "", msg.data, msg.more
	if v.raw == nil {
		v.raw = []byte{} // read, and empty
	}
	v.layout()
	return v
}

func (v *viewer) layout() {
	v.lines = nil
	if v.raw == nil {
		return
	}
	switch {
	case len(v.raw) == 0:
		v.note = "an empty file"
	case isBinary(v.raw):
		v.lines = hexDump(v.raw)
	default:
		// A final newline ends the last line; it does not start another.
		text := strings.TrimSuffix(string(v.raw), "\n")
		for _, l := range strings.Split(text, "\n") {
			l = report.Escape(expandTabs(l))
			v.lines = append(v.lines, strings.Split(ansi.Hardwrap(l, max(v.width, 10), true), "\n")...)
		}
	}
	if v.more {
		v.lines = append(v.lines, fmt.Sprintf("… the first %s only", report.Size(viewLimit)))
	}
	v.top = min(v.top, max(len(v.lines)-v.rows(), 0))
}

func (v viewer) Update(msg tea.KeyPressMsg) (viewer, action) {
	k := &v.c.keys
	if top, ok := move(k, msg, v.top, len(v.lines)-v.rows(), v.rows()); ok {
		v.top = top
		return v, action{}
	}
	switch {
	case key.Matches(msg, k.Quit):
		return v, action{kind: actQuit}
	case key.Matches(msg, k.Back), key.Matches(msg, k.Open), key.Matches(msg, k.Jump):
		v.seq++ // a read still under way is not wanted
		v.cancel()
		return v, action{kind: actClose}
	}
	return v, action{}
}

func (v viewer) View() string {
	st := &v.c.styles
	pos := ""
	if len(v.lines) > 0 {
		pos = st.Dim.Render(fmt.Sprintf(" lines %d–%d of %d", v.top+1, min(v.top+v.rows(), len(v.lines)), len(v.lines)))
	}
	lines := []string{fit(st.Title.Render(v.title)+pos, v.width)}
	if v.note != "" {
		for _, l := range strings.Split(ansi.Wrap(v.note, max(v.width-2, 10), " "), "\n") {
			lines = append(lines, "  "+l)
		}
	}
	for i := v.top; i < min(v.top+v.rows(), len(v.lines)); i++ {
		lines = append(lines, v.lines[i])
	}
	for len(lines) < v.height-1 {
		lines = append(lines, "")
	}
	return fitLines(lines[:max(v.height-1, 1)], v.width) + "\n" + footer(v.c, v, v.width)
}

// ShortHelp and FullHelp make the viewer a help.KeyMap: its footer.
func (v viewer) ShortHelp() []key.Binding {
	k := &v.c.keys
	return []key.Binding{k.Up, k.Down, k.PageDown, k.Home, k.End, k.Back, k.Quit}
}

func (v viewer) FullHelp() [][]key.Binding { return [][]key.Binding{v.ShortHelp()} }

// isBinary: a NUL byte, or bytes that are not UTF-8 (a cut at the end of
// what was read aside).
func isBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 && len(b)-i >= utf8.UTFMax {
			return true
		}
		i += n
	}
	return false
}

func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// hexDump is hexdump -C's layout: offset, 16 bytes, their printable form.
func hexDump(b []byte) []string {
	var out []string
	for off := 0; off < len(b); off += 16 {
		chunk := b[off:min(off+16, len(b))]
		var hx, asc strings.Builder
		for i := range 16 {
			if i == 8 {
				hx.WriteByte(' ')
			}
			if i < len(chunk) {
				fmt.Fprintf(&hx, "%02x ", chunk[i])
				if c := chunk[i]; c >= 0x20 && c < 0x7f {
					asc.WriteByte(c)
				} else {
					asc.WriteByte('.')
				}
			} else {
				hx.WriteString("   ")
			}
		}
		out = append(out, fmt.Sprintf("%08x  %s |%s|", off, hx.String(), asc.String()))
	}
	return out
}

// openViewer shows node n's content as the selected layer has it: read
// again from the source in a command, or, when the source cannot be read
// twice, how to get there.
func (m Model) openViewer(n tree.NodeID) (Model, tea.Cmd) {
	if m.diff.shown() {
		return m.openDiffViewer(n)
	}
	tv := m.files.tv
	meta, ch, _ := tv.state(n)
	name := tv.t.Path(n)
	v := &m.viewer
	v.seq++
	v.cancel() // the last file's read, if it still runs
	v.raw, v.lines, v.top, v.more = nil, nil, 0, false
	v.title = "/" + report.Escape(name)
	m.state = stateViewer
	// The layer whose version shows: a removed entry shows the one below.
	at := m.layers.sel
	if ch == tree.Removed {
		at--
	}
	from := -1
	tv.t.Versions(n, func(l int, vm tree.Meta) {
		if from < 0 && l <= at && vm.Kind != tree.KindNone {
			from = l
		}
	})
	switch {
	case meta.Kind != tree.KindFile:
		v.note = notAFile(meta)
		return m, nil
	case from < 0:
		v.note = "no layer at or below this one holds it"
		return m, nil
	case m.source == nil:
		v.note = noContent(m.rep.Image)
		return m, nil
	}
	v.title += fmt.Sprintf(" · layer %d · %s", from, report.Size(meta.Size))
	v.note = fmt.Sprintf("reading layer %d…", from)
	ctx, stop := context.WithCancel(m.ctx)
	v.stop = stop
	open, seq := m.source, v.seq
	return m, func() tea.Msg {
		data, more, err := readLayerFile(ctx, open, from, name, viewLimit)
		return viewerMsg{seq: seq, data: data, more: more, err: err}
	}
}

// noContent says why a file's content cannot be shown, and how to get
// there: a saved archive can be read again.
func noContent(img report.ImageInfo) string {
	const how = "Save the image to a file and open that: docker save IMAGE -o img.tar, then layerscope img.tar"
	switch {
	case img.Source == "docker":
		return "this image was read from the Docker daemon, which sends it once: its files cannot be read again. " + how
	case img.Location == "-" || img.Location == "" || img.Location == "standard input":
		return "this image was read from a stream, which cannot be read twice. " + how
	}
	return "this explorer cannot read " + report.Escape(img.Location) + " again to show a file"
}
