package report

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain/name.txt", "plain/name.txt"},
		{"evil\x1b[2Jname", `evil\x1b[2Jname`},
		{"tab\there", `tab\there`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"c1\u0085next", `c1\u0085next`},
		{"bidi\u202etxt.exe", `bidi\u202etxt.exe`},
		{"isolate\u2066x\u2069", `isolate\u2066x\u2069`},
		{"line\u2028sep", `line\u2028sep`},
		{"para\u2029sep", `para\u2029sep`},
		{"mark\u200fx", `mark\u200fx`},
		{"ünïcödé 名前", "ünïcödé 名前"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestJSONEscapesUnsafeRunes: bidi controls and separators reach the JSON
// as \u escapes, and the document still decodes to the same text.
func TestJSONEscapesUnsafeRunes(t *testing.T) {
	names := []string{"del\x7fname", "bidi\u202etxt.exe", "iso\u2066late\u2069", "line\u2028para\u2029", "c1\u0085", "mark\u200e\u061c", "ünïcödé 名前"}
	r := &Report{Layers: []Layer{}, Waste: []Waste{}, Findings: []Finding{}, Warnings: []string{}}
	for _, n := range names {
		r.Waste = append(r.Waste, Waste{Path: n, Layers: []int{}})
	}
	var b strings.Builder
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, raw := range []string{"\x7f", "\u202e", "\u2066", "\u2069", "\u2028", "\u2029", "\u0085", "\u200e", "\u061c"} {
		if strings.Contains(out, raw) {
			t.Errorf("raw %U in the JSON:\n%s", []rune(raw)[0], out)
		}
	}
	for _, esc := range []string{`\u202e`, `\u2066`, `\u2028`, `\u2029`, `\u0085`, `\u061c`} {
		if !strings.Contains(out, esc) {
			t.Errorf("JSON lacks %s:\n%s", esc, out)
		}
	}
	if !strings.Contains(out, "ünïcödé 名前") {
		t.Errorf("ordinary text was escaped:\n%s", out)
	}
	var back struct{ Waste []Waste }
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if back.Waste[i].Path != n {
			t.Errorf("decoded %q, want %q", back.Waste[i].Path, n)
		}
	}
}
