package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/report"
)

// TestREADMECommands checks the commands the README's ready-to-paste
// sections use: every layerscope flag exists, takes the value it is given,
// and every format named is one layerscope writes.
func TestREADMECommands(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]int{"## Use": 0, "## GitHub Actions": 0, "## GitLab CI": 0, "## Its own image": 0}
	fs := newFlagSet(&options{})
	section, inCode := "", false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			section = line
			continue
		case strings.HasPrefix(line, "```"):
			inCode = !inCode
			continue
		}
		if _, ok := sections[section]; !ok {
			continue
		}
		words := strings.Fields(strings.NewReplacer("`", " ").Replace(line))
		for i, w := range words {
			// The command: the binary by name or path, or the image that
			// runs it in docker run.
			if !(w == "layerscope" || strings.HasSuffix(w, "/layerscope") || w == "$LAYERSCOPE_IMAGE") || i+1 >= len(words) {
				continue
			}
			if !inCode && !strings.HasPrefix(words[i+1], "--") {
				continue
			}
			args := words[i+1:]
			if len(args) > 0 && args[0] == "completion" {
				if len(args) < 2 || !slices.Contains([]string{"bash", "zsh", "fish"}, args[1]) {
					t.Errorf("%s: %q: completion for an unknown shell", section, line)
				}
				sections[section]++
				continue
			}
			if len(args) == 0 || !strings.HasPrefix(args[0], "--") {
				continue // prose, or "docker build -t layerscope ."
			}
			sections[section]++
			for j := 0; j < len(args); j++ {
				a := args[j]
				if a == "#" {
					break
				}
				if !strings.HasPrefix(a, "--") {
					continue
				}
				name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				f := fs.Lookup(name)
				if f == nil {
					t.Errorf("%s: %q: no flag --%s", section, line, name)
					continue
				}
				if isBoolFlag(f) {
					continue
				}
				if !hasValue {
					if j+1 >= len(args) {
						t.Errorf("%s: --%s has no value", section, name)
						continue
					}
					j++
					value = args[j]
				}
				switch name {
				case "format":
					if !slices.Contains(report.Formats, value) {
						t.Errorf("%s: --format %s is no format", section, value)
					}
				case "output":
					format, _, _ := strings.Cut(value, ":")
					if !slices.Contains(report.Formats, format) {
						t.Errorf("%s: --output %s names no format", section, value)
					}
				}
			}
		}
	}
	for s, n := range sections {
		if n == 0 {
			t.Errorf("README section %q runs no layerscope command", s)
		}
	}
}
