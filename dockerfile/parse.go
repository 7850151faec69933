// Package dockerfile reads a Dockerfile's instruction and line structure
// and matches its final stage to an image's build history, so that a
// finding can name the line that made its layer.
//
// It is not a full Dockerfile frontend: it keeps what the matching needs
// (the keyword, the arguments with continuation lines joined, heredoc
// bodies, the first line, the stage) and expands no variables.
package dockerfile

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MaxBytes bounds the Dockerfile read: a real one is a few kB.
const MaxBytes = 1 << 20

// Instruction is one instruction of a Dockerfile.
type Instruction struct {
	Keyword  string   // upper case: RUN, COPY, FROM, …
	Args     string   // the rest, continuation lines joined with their whitespace
	Heredocs []string // the bodies of its heredocs, in order
	Line     int      // its first line, from 1
}

// Stage is a FROM and the instructions under it.
type Stage struct {
	From         Instruction
	Base         string // the image or stage it starts from
	Name         string // its AS name, lower case; "" when none
	Instructions []Instruction
}

// File is a parsed Dockerfile.
type File struct {
	Stages []Stage
}

// Final is the stage the image is: the last one.
func (f *File) Final() *Stage {
	if len(f.Stages) == 0 {
		return nil
	}
	return &f.Stages[len(f.Stages)-1]
}

var (
	directive = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`)
	// heredoc is a shell word that opens a heredoc, as BuildKit reads
	// one: an optional file descriptor, << or <<-, and a name, quoted or
	// not. A shift ($((1<<2))) or a here-string (<<<) is not one.
	heredoc = regexp.MustCompile(`^[0-9]*<<(-?)(?:"([A-Za-z_][A-Za-z0-9_]*)"|'([A-Za-z_][A-Za-z0-9_]*)'|([A-Za-z_][A-Za-z0-9_]*))$`)
)

// Parse reads a Dockerfile: parser directives (escape), comments, blank
// lines, continuation lines and heredocs. It reads at most MaxBytes.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxBytes)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	lines := strings.Split(text, "\n")
	escape := byte('\\')

	// Parser directives: comment lines at the very top.
	i := 0
	for ; i < len(lines); i++ {
		m := directive.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			break
		}
		if strings.EqualFold(m[1], "escape") {
			if m[2] != "`" && m[2] != `\` {
				return nil, fmt.Errorf("line %d: escape must be ` or \\", i+1)
			}
			escape = m[2][0]
		}
	}

	f := &File{}
	for i < len(lines) {
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' {
			i++
			continue
		}
		start := i
		// Join continuation lines: a line whose last non-space character
		// is the escape character goes on; comment and empty lines inside
		// are dropped, as the builders drop them.
		var b strings.Builder
		cur := strings.TrimLeft(lines[i], " \t")
		for {
			t := strings.TrimRight(cur, " \t")
			if len(t) == 0 || t[len(t)-1] != escape {
				b.WriteString(cur)
				i++
				break
			}
			b.WriteString(t[:len(t)-1])
			i++
			for i < len(lines) {
				if s := strings.TrimSpace(lines[i]); s != "" && s[0] != '#' {
					break
				}
				i++
			}
			if i >= len(lines) {
				break
			}
			cur = lines[i]
		}
		full := b.String()
		kw, args, _ := strings.Cut(strings.TrimSpace(full), " ")
		if tab := strings.IndexByte(kw, '\t'); tab >= 0 {
			kw, args = kw[:tab], kw[tab+1:]+" "+args
		}
		in := Instruction{Keyword: strings.ToUpper(kw), Args: strings.TrimSpace(args), Line: start + 1}
		if in.Keyword == "RUN" || in.Keyword == "COPY" || in.Keyword == "ADD" {
			for _, w := range strings.Fields(in.Args) {
				m := heredoc.FindStringSubmatch(w)
				if m == nil {
					continue
				}
				word := m[2] + m[3] + m[4]
				var body []string
				for {
					if i >= len(lines) {
						return nil, fmt.Errorf("line %d: heredoc %s is not closed", start+1, word)
					}
					l := lines[i]
					i++
					if m[1] == "-" {
						l = strings.TrimLeft(l, "\t")
					}
					if l == word {
						break
					}
					body = append(body, l)
				}
				in.Heredocs = append(in.Heredocs, strings.Join(body, "\n"))
			}
		}
		if in.Keyword == "FROM" {
			st := Stage{From: in}
			fields := strings.Fields(in.Args)
			for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
				fields = fields[1:]
			}
			if len(fields) == 0 {
				return nil, fmt.Errorf("line %d: FROM names no image", in.Line)
			}
			st.Base = fields[0]
			if len(fields) >= 3 && strings.EqualFold(fields[1], "AS") {
				st.Name = strings.ToLower(fields[2])
			}
			f.Stages = append(f.Stages, st)
			continue
		}
		if len(f.Stages) == 0 {
			if in.Keyword == "ARG" {
				continue // a global ARG, before the first FROM
			}
			return nil, fmt.Errorf("line %d: %s before the first FROM", in.Line, in.Keyword)
		}
		st := &f.Stages[len(f.Stages)-1]
		st.Instructions = append(st.Instructions, in)
	}
	if len(f.Stages) == 0 {
		return nil, errors.New("no FROM instruction")
	}
	return f, nil
}
