package rules

import (
	"fmt"
	"io"
	"strings"
)

// WriteTable prints the rule table: what --list-rules shows. Each rule is
// a row (id, category, severity, what it finds) followed by the paths it
// matches and its fix, each on a line of its own so that a long list or
// fix reads whole in a narrow terminal.
func WriteTable(w io.Writer) error {
	idW, catW := len("RULE"), len("CATEGORY")
	for _, r := range Table {
		idW, catW = max(idW, len(r.ID)), max(catW, len(r.Category))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %-*s  %-8s  %s\n", idW, "RULE", catW, "CATEGORY", "SEVERITY", "FINDS")
	for _, r := range Table {
		fmt.Fprintf(&b, "%-*s  %-*s  %-8s  %s\n", idW, r.ID, catW, r.Category, r.Severity, r.What)
		m := strings.Join(r.Paths, " ")
		switch {
		case m == "":
			m = "(computed from the layers and the history)"
		case r.Content != 0:
			m += " (when the content shows it)"
		}
		fmt.Fprintf(&b, "    matches: %s\n", m)
		fmt.Fprintf(&b, "    fix:     %s\n", r.Advice)
	}
	b.WriteString("\nA path belongs to the first rule that matches it, in this order. Switch a rule off with\n" +
		"'disable: [rule-id]' in .layerscope.yaml, add one under 'add:', or suppress one finding under 'ignore:'.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
