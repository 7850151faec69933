package secret

import (
	"regexp"
	"strconv"
	"strings"
)

// Instruction turns a history entry's created_by, as the image recorded it,
// into the instruction as the Dockerfile said it, with every secret hidden:
// "/bin/sh -c #(nop) " and " # buildkit" go, a shell form becomes "RUN …",
// and the build arguments that history recorded stay, with the values of
// secret-looking names redacted. It returns the text to show and what it
// hid.
//
// Docker records a RUN's build arguments unquoted, values and all: the
// legacy builder writes "|2 A=1 B=two words /bin/sh -c make", BuildKit
// "RUN |2 A=1 B=two words /bin/sh -c make # buildkit". The count says how
// many NAME=value pairs come before the command; a value ends where the
// next name or the shell starts. ENV and LABEL values are recorded
// unquoted too ("ENV A=two words B=1"): a value there runs to the next
// name. The legacy builder's COPY source hash is shortened to six digits.
func Instruction(raw string) (string, []Found) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	run := strings.HasPrefix(s, "RUN ")
	s = strings.TrimPrefix(s, "RUN ")

	var found []Found
	// redactCommand redacts a RUN's command on its own first: read after "RUN"
	// and the build arguments, its first word is the command's name
	// (curl -u …), not "RUN" or "|1".
	redactCommand := func(cmd string) string {
		script := cmd
		if m := shellStart.FindStringIndex(" " + cmd); m != nil && m[0] == 0 {
			script = strings.TrimLeft(cmd[m[1]-1:], " ")
		}
		red, more := Redact(script)
		found = append(found, more...)
		return cmd[:len(cmd)-len(script)] + red
	}
	if args, cmd, ok := buildArgs(s, &found); ok {
		s = "RUN " + args
		if cmd = strings.TrimPrefix(cmd, "/bin/sh -c "); cmd != "" {
			s += " " + redactCommand(cmd)
		}
	} else {
		switch {
		case strings.HasPrefix(s, "/bin/sh -c #(nop)"):
			s = strings.TrimSpace(strings.TrimPrefix(s, "/bin/sh -c #(nop)"))
		case strings.HasPrefix(s, "/bin/sh -c "):
			s = "RUN " + redactCommand(strings.TrimSpace(strings.TrimPrefix(s, "/bin/sh -c ")))
		case run:
			s = "RUN " + redactCommand(s)
		case shellAt0(s):
			// Another SHELL: /bin/bash -o pipefail -c ….
			s = redactCommand(s)
		}
		for _, kw := range []string{"ENV ", "LABEL ", "ARG "} {
			if strings.HasPrefix(s, kw) {
				s = kw + redactPairs(s[len(kw):], &found)
				break
			}
		}
	}
	s = legacyHash.ReplaceAllString(s, "$1$2…")
	s, more := Redact(s)
	return s, append(found, more...)
}

// legacyHash is the source the legacy builder records for a COPY or ADD:
// a content hash of what was copied ("COPY file:f39c79…64 hex… in /app").
// Shown whole it makes every COPY row of a layer list look the same: six
// hex digits tell them apart, and the destination stays.
var legacyHash = regexp.MustCompile(`^((?:COPY|ADD) (?:--\S+ )*(?:file|dir|multi):)([0-9a-f]{6})[0-9a-f]{58}\b`)

// shellStart matches where a RUN's command starts after its build
// arguments: a shell and its options up to -c (a SHELL instruction may
// name another shell than /bin/sh), or Windows' cmd /S /C and PowerShell's
// -Command.
var shellStart = regexp.MustCompile(` (?:(?:/[A-Za-z0-9_.-]+)*/(?:sh|bash|ash|dash|zsh|ksh|mksh)(?: -[A-Za-z]+| pipefail| errexit| nounset| xtrace)*? -[a-z]*c|(?i:cmd(?:\.exe)? /S /C|(?:powershell|pwsh)(?:\.exe)?(?: -[A-Za-z]+)*? -Command))\b`)

// shellAt0 reports whether s starts with a shell and its -c.
func shellAt0(s string) bool {
	m := shellStart.FindStringIndex(" " + s)
	return m != nil && m[0] == 0
}

// buildArgs splits s, "|N NAME=value … command", into "|N NAME=value …"
// with secret values redacted, and the command. ok is false when s does
// not start with a count.
//
// The last value ends where the shell starts. When a value holds the
// shell's words ("… /bin/sh -c …") or a space and a NAME= of its own, the
// text cannot say where it ends: then, if a secret-looking name stands
// before the last shell start, the pairs are cut there, and where the
// names do not number N, all from the first secret-looking name to the
// command is hidden. An exec-form RUN has no shell to find: a secret last
// value runs to the end (but one that holds a shell's words, "… /bin/sh
// -c …", reads as a shell form).
func buildArgs(s string, found *[]Found) (args, cmd string, ok bool) {
	if !strings.HasPrefix(s, "|") {
		return "", "", false
	}
	count, rest, _ := strings.Cut(s[1:], " ")
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || count[0] < '0' || count[0] > '9' {
		return "", "", false
	}
	prefix := "|" + count
	if n == 0 {
		return prefix, rest, true
	}
	names := nameStarts(rest)

	// The first shell start after the N-th name, and the last.
	end := -1
	if len(names) >= n {
		if m := shellStart.FindStringIndex(rest[names[n-1]:]); m != nil {
			end = names[n-1] + m[0]
		}
	}
	if end >= 0 {
		pairs, secret := splitPairs(rest, names, n, end)
		if last := lastShellStart(rest, end); last > end && (secret || secretName(rest, names, end, last)) {
			end = last
			pairs, _ = splitPairs(rest, names, n, end)
		}
		*found = append(*found, pairs.found...)
		return prefix + " " + pairs.text, rest[end+1:], true
	}

	// No shell: an exec form, or fewer names than N.
	end = len(rest)
	if len(names) == n && names[0] == 0 {
		if name := nameAt(rest, names[n-1]); !Name(name) {
			// Not a secret: its value ends at the first space, as it
			// most likely does.
			if sp := strings.IndexByte(rest[names[n-1]+len(name)+1:], ' '); sp >= 0 {
				end = names[n-1] + len(name) + 1 + sp
			}
		}
	}
	pairs, _ := splitPairs(rest, names, n, end)
	*found = append(*found, pairs.found...)
	if end == len(rest) {
		return prefix + " " + pairs.text, "", true
	}
	return prefix + " " + pairs.text, rest[end+1:], true
}

type pairs struct {
	text  string // the pairs with secret values redacted
	found []Found
}

// splitPairs reads the N build arguments in s[:end], and reports whether
// one of them holds a secret.
func splitPairs(s string, names []int, n, end int) (pairs, bool) {
	in := names
	for len(in) > 0 && in[len(in)-1] >= end {
		in = in[:len(in)-1]
	}
	region := s[:end]
	var p pairs
	if len(in) == n && in[0] == 0 {
		// As many names as the count says: each value runs to the next.
		var b strings.Builder
		for k, at := range in {
			name := nameAt(region, at)
			vEnd := end
			if k+1 < len(in) {
				vEnd = in[k+1] - 1
			}
			value := region[at+len(name)+1 : vEnd]
			b.WriteString(name + "=")
			if Value(name, value) {
				b.WriteString(Redacted)
				p.found = append(p.found, Found{Name: name})
			} else {
				b.WriteString(value)
			}
			if vEnd < end {
				b.WriteString(" ")
			}
		}
		p.text = b.String()
		return p, len(p.found) > 0
	}
	// The names do not number N: hide all from the first secret-looking
	// name with a literal value.
	for k, at := range in {
		name := nameAt(region, at)
		vEnd := end
		if k+1 < len(in) {
			vEnd = in[k+1] - 1
		}
		v := strings.TrimLeft(region[at+len(name)+1:vEnd], `"'`)
		if !Name(name) || v == "" || v[0] == '$' || v[0] == '`' {
			continue
		}
		p.text = region[:at+len(name)+1] + Redacted
		for _, later := range in[k:] {
			if name := nameAt(region, later); Name(name) {
				p.found = append(p.found, Found{Name: name})
			}
		}
		return p, true
	}
	p.text = region
	return p, false
}

// secretName reports a secret-looking name with a literal value among the
// names in s[from:to]: a value, maybe, that holds words of a shell.
func secretName(s string, names []int, from, to int) bool {
	for _, at := range names {
		if at <= from || at >= to {
			continue
		}
		name := nameAt(s, at)
		v := s[at+len(name)+1:]
		if sp := strings.IndexByte(v, ' '); sp >= 0 {
			v = v[:sp]
		}
		if v = strings.TrimLeft(v, `"'`); Name(name) && v != "" && v[0] != '$' && v[0] != '`' {
			return true
		}
	}
	return false
}

// lastShellStart returns where the last shell start after s[from] is.
func lastShellStart(s string, from int) int {
	last := from
	for {
		m := shellStart.FindStringIndex(s[last+1:])
		if m == nil {
			return last
		}
		last += 1 + m[0]
	}
}

// nameStarts returns where the NAME= of a build argument may start in s:
// at its start, or after a space.
func nameStarts(s string) []int {
	var out []int
	for i := 0; i < len(s); i++ {
		if (i == 0 || s[i-1] == ' ') && nameAt(s, i) != "" {
			out = append(out, i)
		}
	}
	return out
}

// nameAt returns the NAME of a NAME= at s[i], or "".
func nameAt(s string, i int) string {
	if i >= len(s) || !isNameStart(s[i]) {
		return ""
	}
	j := i + 1
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	if j == len(s) || s[j] != '=' {
		return ""
	}
	return s[i:j]
}

// redactPairs hides the secret values of ENV, LABEL or ARG pairs, which
// history records unquoted: a value runs to the next " NAME=". A secret
// value may itself hold " x=y" (ENV DB_PASSWORD="pa ss=word" is recorded
// as DB_PASSWORD=pa ss=word): after a secret, only a name as ENV and
// LABEL keys are written (PATH, HTTP_PROXY, http_proxy,
// org.example.version) starts another pair; any other is part of the
// secret.
func redactPairs(s string, found *[]Found) string {
	names := nameStarts(s)
	if len(names) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:names[0]])
	valueEnd := func(next int) int {
		if next < len(names) {
			return names[next] - 1
		}
		return len(s)
	}
	for k := 0; k < len(names); {
		at := names[k]
		name := nameAt(s, at)
		next := k + 1
		end := valueEnd(next)
		value := s[at+len(name)+1 : end]
		b.WriteString(name + "=")
		if Value(name, value) {
			for next < len(names) && !pairName(nameAt(s, names[next])) {
				next++
			}
			end = valueEnd(next)
			b.WriteString(Redacted)
			*found = append(*found, Found{Name: name})
		} else {
			b.WriteString(value)
		}
		if end < len(s) {
			b.WriteString(" ")
		}
		k = next
	}
	return b.String()
}

// pairName reports a name as ENV and LABEL keys are written: upper case
// (DB_HOST), a proxy setting (http_proxy) or a dotted label key
// (org.opencontainers.image.version).
func pairName(name string) bool {
	switch name {
	case "http_proxy", "https_proxy", "no_proxy", "ftp_proxy", "all_proxy":
		return true
	}
	if strings.Contains(name, ".") {
		return true
	}
	for _, c := range []byte(name) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
