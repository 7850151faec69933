package rules

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFailOn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items []string
		want  []string
		err   string
	}{
		{"categories and severities", []string{"secret", "error"}, []string{"secret", "error"}, ""},
		{"none empties the set", []string{"none"}, []string{}, ""},
		{"base beside a category", []string{"base", "secret"}, []string{"base", "secret"}, ""},
		{"repeats count once", []string{"secret", "secret"}, []string{"secret"}, ""},
		{"none does not mix", []string{"none", "secret"}, nil, "none stands alone"},
		{"none twice is an error too", []string{"none", "none"}, nil, "none stands alone"},
		{"base alone judges nothing", []string{"base"}, nil, "base makes the base image's findings count too"},
		{"empty is an error, not the default", []string{}, nil, "fail-on is empty"},
		{"nil is an error too", nil, nil, "fail-on is empty"},
		{"unknown", []string{"bogus"}, nil, `"bogus" is not a category`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFailOn(tc.items, "flag")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got.Set, tc.want) || got.Set == nil || got.From != "flag" {
				t.Fatalf("got %#v, %v; want %q", got, err, tc.want)
			}
		})
	}
}
