package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON. encoding/json escapes
// control characters, so untrusted names are safe in it.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
