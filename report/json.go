package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// WriteJSON writes the report as indented JSON. encoding/json escapes
// control characters; escapeJSON also escapes the runes that reorder or
// break text on screen, so untrusted names are safe in it wherever it is
// shown.
func (r *Report) WriteJSON(w io.Writer) error { return EncodeJSON(w, r) }

// EncodeJSON writes v as indented JSON that is safe to show: control
// characters (encoding/json's escapes) and the runes UnsafeRune names
// (escapeJSON) never appear raw. Every JSON document layerscope writes
// goes through it.
func EncodeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(buf.Bytes()))
	return err
}

// escapeJSON rewrites DEL and the runes UnsafeRune names as \uXXXX escapes. In
// JSON text they can stand only inside strings, where the escape means the
// same rune, so the document decodes to the same value.
func escapeJSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x7f }) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		if b[i] == 0x7f { // DEL: encoding/json leaves it raw
			out = append(out, `\u007f`...)
			i++
			continue
		}
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if UnsafeRune(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
