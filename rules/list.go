package rules

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the rule table: what --list-rules shows.
func WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCATEGORY\tSEVERITY\tMATCHES")
	for _, r := range Table {
		m := strings.Join(r.Paths, " ")
		if m == "" {
			m = "(computed) " + r.What
		} else if r.Content != 0 {
			m += " with " + r.What
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Category, r.Severity, m)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nA path belongs to the first rule that matches it, in this order. Switch a rule off with\n"+
		"'disable: [rule-id]' in .layerscope.yaml, add one under 'add:', or suppress one finding under 'ignore:'.\n")
	return err
}
