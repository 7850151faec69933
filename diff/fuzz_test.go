package diff

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/layerscope/layerscope/report"
)

// FuzzWriteJSON: whatever a path holds, the JSON holds no control
// character or rune that reorders text raw, is valid, and decodes to the
// same path (invalid UTF-8 comes back valid: encoding/json
// writes U+FFFD for it).
func FuzzWriteJSON(f *testing.F) {
	for _, s := range []string{"/etc/passwd", "/\x1b[31mred", "/\u202eevil", "/😀", "/\xff\xfe", "/\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		d := &Diff{Paths: []Path{{Path: p}}}
		var buf bytes.Buffer
		if err := d.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		for _, r := range buf.String() {
			if (r < 0x20 && r != '\n') || r == 0x7f || report.UnsafeRune(r) {
				t.Fatalf("raw %U in %q", r, buf.String())
			}
		}
		var back Diff
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Paths) != 1 {
			t.Fatalf("round trip: %d paths", len(back.Paths))
		}
		got := back.Paths[0].Path
		if utf8.ValidString(p) && got != p || !utf8.ValidString(got) {
			t.Fatalf("round trip: %q, want %q", got, p)
		}
	})
}
