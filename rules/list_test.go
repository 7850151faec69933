package rules

import (
	"strings"
	"testing"
)

// TestWriteTable: --list-rules gives every rule its fix, and reads as
// sentences (it once printed "… **/.env.* with a credentials file with a
// secret in it" and no fix at all).
func TestWriteTable(t *testing.T) {
	var b strings.Builder
	if err := WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "FINDS") {
		t.Errorf("no header:\n%s", out)
	}
	for _, r := range Table {
		t.Run(r.ID, func(t *testing.T) {
			if !strings.Contains(out, "fix:     "+r.Advice+"\n") {
				t.Errorf("the fix of %s is missing", r.ID)
			}
			if !strings.Contains(out, r.What+"\n") {
				t.Errorf("what %s finds is missing", r.ID)
			}
		})
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Count(line, " with ") > 1 || strings.Contains(line, "* with a") {
			t.Errorf("a garbled line: %q", line)
		}
	}
}
