package secret

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Commands recorded as argument lists rather than shell text. Docker
// writes a CMD, an ENTRYPOINT and a HEALTHCHECK into history as Go-quoted
// lists (CMD ["curl" "-u" "user:pw"], HEALTHCHECK &{["CMD-SHELL" "…"] …});
// buildah and podman write an exec-form RUN as the Dockerfile said it
// (/bin/sh -c ["curl","-u","user:pw"]), and the legacy builder an ONBUILD
// the same way. Each element is one argument, already unquoted: it is
// decoded, quoted back as a shell would need it, and the command read as
// any other (command.go), so the same rules apply; what they find is
// mapped back onto the text as written.

// mapped is text decoded from a part of s: for each of its bytes, the
// part of s that it stands for, s[lo[k]:hi[k]].
type mapped struct {
	text   []byte
	lo, hi []int
}

func (m *mapped) add(c byte, lo, hi int) {
	m.text = append(m.text, c)
	m.lo = append(m.lo, lo)
	m.hi = append(m.hi, hi)
}

// back maps a span of m.text onto s; ok is false for an empty span.
func (m *mapped) back(sp span) (span, bool) {
	if sp.start >= sp.end || sp.end > len(m.text) {
		return span{}, false
	}
	return span{m.lo[sp.start], m.hi[sp.end-1]}, true
}

// A hide is a span of s to hide and what it holds.
type hide struct {
	span
	kind string
}

// arraySpans returns what the argument lists in s hold: the secrets that
// their commands take (command.go) and the secret flags among their
// arguments (--password PW, which credentialWords finds in shell text;
// in a list the value is one element, spaces and all).
//
// Each "[" may start a list. After a list the scan goes on at its end;
// after a "[" that starts none, at the next "[", which may stand inside
// one of the strings just read (echo '["' && /bin/sh -c ["curl", …]).
// That costs no more than the length of s, as no opening quote is read
// twice, and the strings of two readings never overlap: a quote inside a
// string is escaped, preceded by a backslash, and a reading opens a
// string only at a quote that follows "[", a space, a comma or the quote
// that closed the string before. So the string before an opening quote,
// and the "[" of the list, are the same in every reading that comes to
// it, and two readings that came to it would be one.
func arraySpans(s string) []hide {
	var out []hide
	var syn mapped
	var elems []argvElem
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '[')
		if j < 0 {
			break
		}
		at := i + j
		syn.text, syn.lo, syn.hi = syn.text[:0], syn.lo[:0], syn.hi[:0]
		elems = elems[:0]
		end, ok := argvScript(s, at, &syn, &elems)
		if !ok || len(syn.text) == 0 {
			i = at + 1
			continue
		}
		i = end
		text := string(syn.text)
		var spans []span
		commandSpans(text, 0, len(text), 1, &spans)
		for _, sp := range spans {
			if r, ok := syn.back(sp); ok {
				out = append(out, hide{r, cmdLineKind})
			}
		}
		credentialWordSpans(text, func(sp span, kind string) {
			if r, ok := syn.back(sp); ok {
				out = append(out, hide{r, kind})
			}
		})
		for k := 0; k+1 < len(elems); k++ {
			if m := secretFlag.FindStringSubmatch(elems[k].text); m != nil && flagSecret(m[1], elems[k+1].text) {
				out = append(out, hide{span{elems[k+1].open + 1, elems[k+1].close}, credentialWords[0].kind})
			}
		}
	}
	return out
}

// secretFlag is a flag that takes a secret (--password, --api-key): the
// next element of a list is its value.
var secretFlag = regexp.MustCompile(`^--` + secretFlagName + `$`)

// argvElem is an element of a list: its text, decoded, and where its
// quotes stand.
type argvElem struct {
	text        string
	open, close int
}

// argvScript reads the list that starts at s[at] ("[", then strings in
// double quotes, separated by commas or spaces, then "]") and writes into
// syn the shell command that runs it: each element a word, quoted where
// the shell would need it, and into elems its elements. A HEALTHCHECK's
// "CMD" goes, and its "CMD-SHELL" becomes "sh -c". It returns where the
// list ends (or where it stopped being one), and whether it was one.
func argvScript(s string, at int, syn *mapped, elems *[]argvElem) (int, bool) {
	i := at + 1
	var dec mapped
	for n := 0; ; n++ {
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ']' && n > 0 {
			return i + 1, true
		}
		if i >= len(s) || s[i] != '"' {
			return i, false
		}
		open := i
		dec.text, dec.lo, dec.hi = dec.text[:0], dec.lo[:0], dec.hi[:0]
		var ok bool
		if i, ok = decodeString(s, i+1, &dec); !ok {
			return i, false
		}
		close := i
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ',' {
			i++
		}
		word := string(dec.text)
		*elems = append(*elems, argvElem{word, open, close})
		switch {
		case n == 0 && word == "CMD":
			continue
		case n == 0 && word == "CMD-SHELL":
			for _, c := range []byte("sh -c") {
				syn.add(c, open, close+1)
			}
			continue
		}
		if len(syn.text) > 0 {
			syn.add(' ', open, open+1)
		}
		shellWord(&dec, open, close, syn)
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// decodeString decodes a JSON or Go string whose text starts at s[i] into
// dec, and returns the index of its closing quote, or where it stopped
// being one. An escape it does not know stands for the byte after the
// backslash.
func decodeString(s string, i int, dec *mapped) (int, bool) {
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i, true
		case c != '\\':
			dec.add(c, i, i+1)
			i++
			continue
		case i+1 >= len(s):
			return len(s), false
		}
		e := s[i+1]
		n, r := 2, rune(-1) // the escape's length, and the rune it stands for
		switch e {
		case 'n':
			r = '\n'
		case 't':
			r = '\t'
		case 'r':
			r = '\r'
		case 'a':
			r = '\a'
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'v':
			r = '\v'
		case 'x', 'u', 'U':
			digits := 2
			switch e {
			case 'u':
				digits = 4
			case 'U':
				digits = 8
			}
			if i+2+digits <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+digits], 16, 32); err == nil {
					n, r = 2+digits, rune(v)
					if e == 'x' {
						dec.add(byte(v), i, i+n)
						i += n
						continue
					}
				}
			}
		}
		if r < 0 {
			dec.add(e, i, i+2)
			i += 2
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			dec.add(b, i, i+n)
		}
		i += n
	}
	return len(s), false
}

// shellWord writes the argument dec, whose quotes stand at s[open] and
// s[close], into syn as one shell word: as it is when the shell would
// pass it so, else in single quotes, or in double quotes with "\\", "\"",
// "$" and "`" escaped when it holds a single quote.
func shellWord(dec *mapped, open, close int, syn *mapped) {
	plain := len(dec.text) > 0
	single := false
	for _, c := range dec.text {
		plain = plain && (isNameByte(c) || strings.IndexByte("@%+=:,./", c) >= 0)
		single = single || c == '\''
	}
	switch {
	case plain:
		for k, c := range dec.text {
			syn.add(c, dec.lo[k], dec.hi[k])
		}
	case !single:
		syn.add('\'', open, open+1)
		for k, c := range dec.text {
			syn.add(c, dec.lo[k], dec.hi[k])
		}
		syn.add('\'', close, close+1)
	default:
		syn.add('"', open, open+1)
		for k, c := range dec.text {
			if c == '"' || c == '\\' || c == '$' || c == '`' {
				syn.add('\\', dec.lo[k], dec.hi[k])
			}
			syn.add(c, dec.lo[k], dec.hi[k])
		}
		syn.add('"', close, close+1)
	}
}

// unquoteMapped is the shell word s[from:to] as the shell passes it, each
// byte mapped to where it stands in s: quotes go, and a backslash escapes
// the next byte (in double quotes only "$", "`", "\"", "\\" and a newline).
// A line continuation goes. An unclosed quote runs to the end.
func unquoteMapped(s string, from, to int) mapped {
	var m mapped
	quote := byte(0)
	for i := from; i < to; i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case c == '\\' && quote != '\'' && i+1 < to &&
			(quote == 0 || strings.IndexByte("$`\"\\\n", s[i+1]) >= 0):
			if s[i+1] != '\n' {
				m.add(s[i+1], i, i+2)
			}
			i++
		default:
			m.add(c, i, i+1)
		}
	}
	return m
}
