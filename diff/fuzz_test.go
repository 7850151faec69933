package diff

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzWriteJSON: whatever a path holds, the JSON is ASCII, valid, and
// decodes to the same path (invalid UTF-8 comes back valid: encoding/json
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
		for _, b := range buf.Bytes() {
			if b >= utf8.RuneSelf {
				t.Fatalf("non-ASCII byte in %q", buf.String())
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
