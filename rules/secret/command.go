package secret

import (
	"slices"
	"strings"
)

// Secrets that a command takes as an argument of its own syntax, not as
// NAME=value or --password value: curl -u user:pw, mysql -ppw, openssl
// -passin pass:pw, sshpass -p pw, docker login -p pw, htpasswd -b file
// user pw, echo user:pw | chpasswd, aws configure set
// aws_secret_access_key pw, npm config set _auth pw. Each is known by its
// command, so that the same flag elsewhere (ssh -p 22, docker run -p
// 80:80, docker run -u 1000:1000) stays.

// cmdWord is one shell word of a command, s[start:end] as written.
type cmdWord struct{ start, end int }

// command is one simple command: its words, and the commands whose
// output is its standard input, cmds[from:to] (a | b, (a; b) | c).
type command struct {
	words    []cmdWord
	from, to int
}

// span is a part of s to hide.
type span struct{ start, end int }

// maxCommandDepth bounds how deep redactCommands reads quoted text as a
// command of its own (sh -c "…", su -c '…').
const maxCommandDepth = 3

// cmdLineKind is what a secret that a command takes is.
const cmdLineKind = "a secret on a command line"

// redactCommands hides the secrets that commands take as arguments, in
// shell text and in argument lists (argv.go). Where two spans overlap, all
// of both goes: the same secret read twice (sh -c "…" as a quoted word and
// as a script) is one.
func redactCommands(s string, found *[]Found) string {
	var spans []span
	commandSpans(s, 0, len(s), 0, &spans)
	hides := arraySpans(s)
	for _, sp := range spans {
		hides = append(hides, hide{sp, cmdLineKind})
	}
	if len(hides) == 0 {
		return s
	}
	slices.SortFunc(hides, func(a, b hide) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	merged := hides[:1]
	for _, h := range hides[1:] {
		if last := &merged[len(merged)-1]; h.start < last.end {
			last.end = max(last.end, h.end)
			continue
		}
		merged = append(merged, h)
	}
	return redactSpans(s, found, func(int) (int, int, Found) {
		if len(merged) == 0 {
			return -1, 0, Found{}
		}
		h := merged[0]
		merged = merged[1:]
		return h.start, h.end, Found{Kind: h.kind}
	})
}

// commandSpans splits s[from:to] into commands and adds the spans of the
// secrets they hold. The quoted part of a word with a space in it is read
// as commands too: it may be the script of sh -c "…" or su -c '…'.
func commandSpans(s string, from, to, depth int, spans *[]span) {
	t := s[:to]
	var cmds []command
	cur := command{}
	flush := func() {
		if len(cur.words) > 0 {
			cmds = append(cmds, cur)
		}
		cur = command{}
	}
	// A group, (…) or { …; }, feeds a pipe after it with all its
	// commands: (echo pw; echo pw) | passwd.
	var groups []int         // where each open group's commands start
	closed := [2]int{-1, -1} // the commands of the group that just closed
	open := func() {
		flush()
		groups = append(groups, len(cmds))
		closed = [2]int{-1, -1}
	}
	closeGroup := func() {
		flush()
		closed = [2]int{-1, -1}
		if n := len(groups); n > 0 {
			closed = [2]int{groups[n-1], len(cmds)}
			groups = groups[:n-1]
		}
	}
	for i := from; i < to; {
		switch c := t[i]; c {
		case ' ', '\t', '\r', '\v', '\f':
			i++
		case '(':
			open()
			i++
		case ')':
			closeGroup()
			i++
		case '\n', ';', '&':
			flush()
			closed = [2]int{-1, -1}
			i++
		case '|':
			if i+1 < to && (t[i+1] == '|' || t[i+1] == '&') {
				flush()
				closed = [2]int{-1, -1}
				i += 2
				continue
			}
			feed := closed
			if len(cur.words) > 0 {
				flush()
				feed = [2]int{len(cmds) - 1, len(cmds)}
			}
			if feed[0] >= 0 {
				cur.from, cur.to = feed[0], feed[1]
			}
			closed = [2]int{-1, -1}
			i++
		case '<', '>':
			if strings.HasPrefix(t[i:], Redacted) {
				e := shellWordEnd(t, i)
				cur.words = append(cur.words, cmdWord{i, e})
				i = e
				continue
			}
			j := i
			for j < to && (t[j] == '<' || t[j] == '>') {
				j++
			}
			cur.words = append(cur.words, cmdWord{i, j})
			i = j
		case '\\':
			if i+1 < to && t[i+1] == '\n' {
				i += 2 // a line continues
				continue
			}
			fallthrough
		default:
			e := max(shellWordEnd(t, i), i+1)
			switch w := t[i:e]; {
			case w == "{" && len(cur.words) == 0:
				open()
				i = e
				continue
			case w == "}" && len(cur.words) == 0:
				closeGroup()
				i = e
				continue
			}
			closed = [2]int{-1, -1}
			cur.words = append(cur.words, cmdWord{i, e})
			q := strings.IndexAny(t[i:e], `"'`)
			if q < 0 {
				q = e - i
			}
			if depth < maxCommandDepth {
				// $(…) and `…` before any quote are commands of their
				// own: TOKEN=$(curl -u …), -p `openssl passwd …`.
				substitutions(t, i, i+q, func(start, end int) { commandSpans(s, start, end, depth+1, spans) })
			}
			if i+q < e && depth < maxCommandDepth && strings.ContainsAny(t[i+q:e], " \t\n") {
				start, end := i+q+1, e
				if end-1 >= start && t[end-1] == t[i+q] {
					end--
				}
				commandSpans(s, start, end, depth+1, spans)
			}
			i = e
		}
	}
	flush()
	for k := range cmds {
		argSpans(t, &cmds[k], cmds[cmds[k].from:cmds[k].to], depth, spans)
	}
}

// substitutions calls fn with the text of each $(…) and `…` in s[from:to].
func substitutions(s string, from, to int, fn func(start, end int)) {
	for i := from; i < to; i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '`':
			end := min(closing(s[:to], i+1, '`'), to)
			fn(i+1, end)
			i = end
		case s[i] == '$' && i+1 < to && s[i+1] == '(':
			end := min(matching(s[:to], i+2, '(', ')'), to)
			fn(i+2, end)
			i = end
		}
	}
}

// shellWordEnd is wordEnd, but a Redacted inside a word is part of it.
func shellWordEnd(s string, i int) int {
	for {
		if strings.HasPrefix(s[i:], Redacted) {
			i += len(Redacted)
			continue
		}
		e := wordEnd(s, i)
		if e < len(s) && strings.HasPrefix(s[e:], Redacted) {
			i = e + len(Redacted)
			continue
		}
		return e
	}
}

// unquote is a word as the shell passes it, near enough: quotes and
// escaping backslashes go.
func unquote(w string) string {
	if !strings.ContainsAny(w, `"'\`) {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '"', '\'':
		case '\\':
			if i+1 < len(w) {
				i++
				b.WriteByte(w[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// literal reports whether a value given on a command line is a secret:
// a literal, not a reference ($PW, $(cat /run/secrets/pw)), a template or
// a placeholder.
func literal(v string) bool {
	v = unquote(v)
	return v != "" && v[0] != '$' && v[0] != '`' && !template(v) && Value("PASSWORD", v)
}

// A wrapper runs the command after it: sudo -u app curl …, timeout 10
// curl …. valued are its flags that take the next word; skip is how many
// words that are not flags come before the command (timeout's duration,
// chroot's directory).
type wrapper struct {
	valued []string
	skip   int
}

var wrappers = map[string]wrapper{
	"sudo": {valued: []string{"-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D", "-T", "--user", "--group"}},
	"doas": {valued: []string{"-u", "-C"}}, "env": {valued: []string{"-u", "-C", "--unset", "--chdir"}},
	"exec": {valued: []string{"-a"}}, "command": {}, "builtin": {}, "nohup": {}, "setsid": {}, "unbuffer": {},
	"time": {valued: []string{"-f", "-o", "--format", "--output"}}, "nice": {valued: []string{"-n", "--adjustment"}},
	"ionice":  {valued: []string{"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}},
	"stdbuf":  {valued: []string{"-i", "-o", "-e"}},
	"timeout": {valued: []string{"-s", "-k", "--signal", "--kill-after"}, skip: 1},
	"xargs":   {valued: []string{"-I", "-n", "-L", "-P", "-d", "-E", "-s", "-a", "--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-lines", "--max-chars"}},
	"chroot":  {valued: []string{"--userspec", "--groups"}, skip: 1},
	// busybox sh -c …, busybox wget ….
	"busybox": {},
	// The shell's keywords: the command follows them.
	"if": {}, "then": {}, "else": {}, "elif": {}, "do": {}, "while": {}, "until": {}, "!": {},
}

// name returns the index of the command's name among its words, past
// assignments (A=b cmd), keywords (if, then, do) and wrappers (sudo -E
// cmd, timeout 10 cmd), and that name without its directory.
//
// env -S (--split-string) runs the command its value spells: the name is
// then "env -S", at the word of the flag.
func (c *command) name(s string) (int, string) {
	var wrap *wrapper
	env := false
	skip := 0
	for k := 0; k < len(c.words); k++ {
		w := unquote(s[c.words[k].start:c.words[k].end])
		switch {
		case w == "":
			continue
		case nameAt(w, 0) != "":
			continue // an assignment
		case env && splitString(w) >= 0:
			return k, "env -S"
		case wrap != nil && w[0] == '-' && len(w) > 1:
			if slices.Contains(wrap.valued, w) {
				k++ // sudo -u user
			}
			continue
		case skip > 0:
			skip--
			continue
		}
		base := w[strings.LastIndexByte(w, '/')+1:]
		if wr, ok := wrappers[base]; ok {
			wrap, skip = &wr, wr.skip
			env = base == "env"
			continue
		}
		return k, base
	}
	return -1, ""
}

// mysqlClients take a password as -pPW (attached: -p alone prompts, and
// the word after it is the database).
var mysqlClients = map[string]bool{
	"mysql": true, "mysqladmin": true, "mysqldump": true, "mysqlimport": true, "mysqlshow": true, "mysqlcheck": true,
	"mysqlpump": true, "mysqlslap": true, "mysqlbinlog": true, "mariadb": true, "mariadb-dump": true, "mariadb-admin": true,
	"mariadb-import": true, "mariadb-show": true, "mariadb-check": true,
}

// registryClients log in to a registry with -p PW (docker login -p).
var registryClients = map[string]bool{"docker": true, "podman": true, "nerdctl": true, "buildah": true, "skopeo": true, "helm": true, "oras": true}

// argSpans adds the spans of the secrets that cmd holds in its arguments,
// and, for a command that reads a password from its input (chpasswd), of
// what prev writes into it.
func argSpans(s string, cmd *command, prevs []command, depth int, spans *[]span) {
	at, name := cmd.name(s)
	if at < 0 {
		return
	}
	args := cmd.words[at+1:]
	raw := func(w cmdWord) string { return s[w.start:w.end] }
	plain := func(w cmdWord) string { return unquote(raw(w)) }
	// whole hides a word that is a secret.
	whole := func(w cmdWord) {
		if literal(raw(w)) {
			*spans = append(*spans, inner(s, w))
		}
	}
	// after hides what follows prefix in a word (-pPW, pass:PW).
	after := func(w cmdWord, prefix string) {
		if sp, ok := valueAfter(s, w, prefix); ok && literal(s[sp.start:sp.end]) {
			*spans = append(*spans, sp)
		}
	}
	// userPass hides the password of a user:password word.
	userPass := func(sp span) {
		if sp.start > 0 && sp.end < len(s) && (s[sp.start-1] == '"' || s[sp.start-1] == '\'') && s[sp.end] == s[sp.start-1] {
			sp = span{sp.start - 1, sp.end + 1} // the quotes back: passwordOf reads them
		}
		if pw, ok := passwordOf(s, sp); ok && literal(s[pw.start:pw.end]) {
			*spans = append(*spans, pw)
		}
	}
	// flagValue calls fn with the value of a flag among flags: the next
	// word (-u V, --user V), the rest of the word (-uV, only when short
	// is true) or after "=" (--user=V).
	flagValue := func(flags []string, short bool, fn func(span)) {
		for k, w := range args {
			p := plain(w)
			for _, f := range flags {
				switch {
				case p == f && k+1 < len(args):
					fn(inner(s, args[k+1]))
				case strings.HasPrefix(f, "--") && strings.HasPrefix(p, f+"="):
					if sp, ok := valueAfter(s, w, f+"="); ok {
						fn(sp)
					}
				case short && len(f) == 2 && len(p) > 2 && strings.HasPrefix(p, f) && p[1] != '-':
					if sp, ok := valueAfter(s, w, f); ok {
						fn(sp)
					}
				}
			}
		}
	}
	secretSpan := func(sp span) {
		if literal(s[sp.start:sp.end]) {
			*spans = append(*spans, sp)
		}
	}

	switch {
	case shells[name]:
		if k := scriptFlag(args, plain); k >= 0 {
			scriptSpans(s, args[k], args[k+1:], false, depth, spans)
		}
	case name == "env -S":
		// The value of -S, attached (-S'…', --split-string=…) or the next word.
		w := cmd.words[at]
		if n := splitString(raw(w)); n > 0 && n < w.end-w.start {
			scriptSpans(s, cmdWord{w.start + n, w.end}, args, true, depth, spans)
		} else if len(args) > 0 {
			scriptSpans(s, args[0], args[1:], true, depth, spans)
		}
	case name == "find":
		// find … -exec cmd {} \; runs cmd.
		for k := 0; k < len(args); k++ {
			if p := plain(args[k]); p != "-exec" && p != "-execdir" && p != "-ok" && p != "-okdir" {
				continue
			}
			end := k + 1
			for end < len(args) && plain(args[end]) != ";" && plain(args[end]) != "+" {
				end++
			}
			// Not a find in a find: each word is read once.
			if sub := (command{words: args[k+1 : end]}); len(sub.words) > 0 {
				if _, n := sub.name(s); n != "find" {
					argSpans(s, &sub, nil, depth, spans)
				}
			}
			k = end
		}
	case name == "curl":
		flagValue([]string{"-u", "--user", "-U", "--proxy-user"}, true, userPass)
		// -u last in a cluster of short flags: curl -fsSLu user:pw.
		for k, w := range args {
			if p := plain(w); k+1 < len(args) && len(p) > 2 && p[0] == '-' && p[len(p)-1] == 'u' && letters(p[1:]) {
				userPass(inner(s, args[k+1]))
			}
		}
	case mysqlClients[name]:
		for k, w := range args {
			p := plain(w)
			if len(p) > 2 && strings.HasPrefix(p, "-p") {
				after(w, "-p")
			}
			// mysqladmin -u root password PW sets it.
			if (name == "mysqladmin" || name == "mariadb-admin") && p == "password" && k+1 < len(args) &&
				(k == 0 || !slices.Contains([]string{"-u", "--user", "-h", "--host", "-S", "--socket"}, plain(args[k-1]))) {
				whole(args[k+1])
			}
		}
	case name == "sshpass":
		flagValue([]string{"-p"}, true, secretSpan)
	case name == "redis-cli":
		flagValue([]string{"-a", "--pass"}, false, secretSpan)
	case name == "openssl":
		for _, w := range args {
			if strings.HasPrefix(plain(w), "pass:") {
				after(w, "pass:")
			}
		}
		flagValue([]string{"-k", "-K"}, false, secretSpan)
		// openssl passwd -6 PW hashes the password it is given.
		if positional(args, plain) == "passwd" {
			for k := 0; k < len(args); k++ {
				switch p := plain(args[k]); {
				case p == "-salt" || p == "-in":
					k++
				case p != Redacted && (strings.HasPrefix(p, "<") || strings.HasPrefix(p, ">")):
					k++ // a redirection and its file
				case args[k].end < len(s) && (s[args[k].end] == '<' || s[args[k].end] == '>'):
					// 2>/dev/null: the descriptor
				case p != "passwd" && p != "" && p[0] != '-':
					whole(args[k])
				}
			}
		}
	case registryClients[name]:
		if sub := positional(args, plain); sub == "login" || sub == "registry login" {
			flagValue([]string{"-p"}, false, secretSpan)
			for _, w := range args {
				if strings.HasPrefix(plain(w), "-p=") {
					after(w, "-p=") // docker login -p=PW
				}
			}
		}
		flagValue([]string{"--creds", "--src-creds", "--dest-creds"}, false, userPass)
	case name == "htpasswd":
		htpasswdSpans(s, args, whole)
	case name == "chpasswd" || name == "passwd":
		// A here-string: chpasswd <<< 'user:pw'.
		for k, w := range args {
			if raw(w) == "<<<" && k+1 < len(args) {
				hidden(name, inner(s, args[k+1]), userPass, secretSpan)
			}
		}
		for k := range prevs {
			prev := &prevs[k]
			if pa, from := prev.name(s); from == "echo" || from == "printf" {
				for _, w := range prev.words[pa+1:] {
					if p := plain(w); p != "" && p[0] != '-' {
						hidden(name, inner(s, w), userPass, secretSpan)
					}
				}
			}
		}
	case name == "aws" || name == "npm" || name == "pnpm" || name == "yarn":
		configSet(s, args, plain, secretSpan)
	}
}

// shells run the script that follows -c.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true, "yash": true}

// splitString returns the length of env's split-string flag at the start
// of the word w (-S, -vS, --split-string, --split-string=), or -1. Its
// value follows in the same word, or is the next.
func splitString(w string) int {
	const long = "--split-string"
	switch {
	case w == long:
		return len(w)
	case strings.HasPrefix(w, long+"="):
		return len(long) + 1
	case len(w) < 2 || w[0] != '-' || w[1] == '-':
		return -1
	}
	for i := 1; i < len(w) && letters(w[i:i+1]); i++ {
		if w[i] == 'S' {
			return i + 1
		}
	}
	return -1
}

// scriptFlag returns the index of the script among a shell's arguments:
// the word after -c, or after a cluster with c in it (-ec, -xc), past
// -o OPTION; -1 when the shell runs a file or its input.
func scriptFlag(args []cmdWord, plain func(cmdWord) string) int {
	for k := 0; k < len(args); k++ {
		p := plain(args[k])
		switch {
		case p == "-o" || p == "+o":
			k++ // -o pipefail
		case strings.HasPrefix(p, "--"):
			// --norc, --login
		case len(p) > 1 && (p[0] == '-' || p[0] == '+') && letters(p[1:]):
			if strings.IndexByte(p, 'c') >= 0 {
				if k+1 < len(args) {
					return k + 1
				}
				return -1
			}
			if p[len(p)-1] == 'o' {
				k++ // -euxo pipefail
			}
		default:
			return -1
		}
	}
	return -1
}

// scriptSpans adds the spans of the secrets in a script that a command
// runs: w is its word, rest the words after it; split is true for env -S,
// whose value is split into words that come before rest. A word with
// quotes or backslashes is read as the shell passes it (sh -c "curl …",
// env -S curl\ -u\ …); a plain word with more after it is the first of a
// script that history recorded with its spaces and without its quotes:
// Docker writes RUN ["sh", "-c", "curl -u …"] as sh -c curl -u …, and
// RUN ["sh", "-c", "'curl' -u …"] as sh -c 'curl' -u …, so a quoted word
// without a space in it, with more after it, is read with what follows.
//
// A script that names its arguments runs them: the words after it are
// $0, $1, …, and sh -c '"$0" "$@"' curl -u … runs curl from $0, sh -c
// 'exec "$@"' -- curl -u … from $1.
func scriptSpans(s string, w cmdWord, rest []cmdWord, split bool, depth int, spans *[]span) {
	if depth >= maxCommandDepth {
		return
	}
	end := w.end
	if len(rest) > 0 {
		end = rest[len(rest)-1].end
	}
	if !strings.ContainsAny(s[w.start:w.end], `"'\`) {
		commandSpans(s, w.start, end, depth+1, spans)
		return
	}
	m := unquoteMapped(s, w.start, w.end)
	zero, after := false, false
	if !split {
		zero, after = scriptArgs(m.text)
	}
	if len(rest) > 0 && (split || !zero && !after && !slices.ContainsFunc(m.text, isSpace)) {
		for i := w.end; i < end; i++ {
			m.add(s[i], i, i+1)
		}
	}
	text := string(m.text)
	var local []span
	commandSpans(text, 0, len(text), depth+1, &local)
	for _, sp := range local {
		if r, ok := m.back(sp); ok {
			*spans = append(*spans, r)
		}
	}
	if zero && len(rest) > 0 {
		commandSpans(s, rest[0].start, end, depth+1, spans)
	}
	if after && len(rest) > 1 {
		commandSpans(s, rest[1].start, end, depth+1, spans)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// scriptArgs reports whether a script runs its arguments from $0 ("$0",
// ${0}) and from $1 ("$@", "$*", "$1").
func scriptArgs(script []byte) (zero, after bool) {
	for i := 0; i+1 < len(script); i++ {
		if script[i] != '$' {
			continue
		}
		c := script[i+1]
		if c == '{' && i+2 < len(script) {
			c = script[i+2]
		}
		switch c {
		case '0':
			zero = true
		case '@', '*', '1':
			after = true
		}
	}
	return zero, after
}

// globalFlags are the flags of docker and its kin that take the next
// word, before the subcommand.
var globalFlags = []string{"-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert", "--tlscert",
	"--tlskey", "--url", "--connection", "--root", "--runroot", "--storage-driver"}

// positional returns the first argument that is not a flag, and the
// second after it when the first is "registry" (helm registry login).
func positional(args []cmdWord, plain func(cmdWord) string) string {
	var out []string
	for k := 0; k < len(args); k++ {
		w := args[k]
		if slices.Contains(globalFlags, plain(w)) {
			k++ // docker -H tcp://h login
			continue
		}
		if p := plain(w); p != "" && p[0] != '-' {
			out = append(out, p)
			if len(out) == 2 || p != "registry" {
				break
			}
		}
	}
	return strings.Join(out, " ")
}

func letters(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// hidden hides what is written into chpasswd (user:password lines: all
// after the first colon) or passwd (the password itself).
func hidden(name string, sp span, userPass, secretSpan func(span)) {
	if name == "chpasswd" {
		userPass(sp)
	} else {
		secretSpan(sp)
	}
}

// htpasswdSpans hides the password of htpasswd -b (batch): the third
// argument (htpasswd -b file user pw), or the second with -n, which
// writes to standard output (htpasswd -nb user pw).
func htpasswdSpans(s string, args []cmdWord, whole func(cmdWord)) {
	batch, stdout := false, false
	var pos []cmdWord
	for k := 0; k < len(args); k++ {
		p := unquote(s[args[k].start:args[k].end])
		switch {
		case len(p) > 1 && p[0] == '-':
			batch = batch || strings.Contains(p[1:], "b")
			stdout = stdout || strings.Contains(p[1:], "n")
			if p == "-C" || p == "-r" {
				k++ // the cost, the rounds
			}
		case p != Redacted && (strings.HasPrefix(p, "<") || strings.HasPrefix(p, ">")):
			k++ // a redirection and its file
		default:
			pos = append(pos, args[k])
		}
	}
	if !batch {
		return
	}
	at := 2
	if stdout {
		at = 1
	}
	if at < len(pos) {
		whole(pos[at])
	}
}

// configSet hides a secret that a tool's config set stores: aws
// configure set aws_secret_access_key V, npm config set _auth V, npm
// config set //registry/:_authToken V, yarn config set npmAuthToken V.
// The key's last part is judged as a name: aws_access_key_id is an
// identifier, not a secret (its AKIA… shape hides it, as everywhere).
func configSet(s string, args []cmdWord, plain func(cmdWord) string, secretSpan func(span)) {
	var rest []cmdWord
	for _, w := range args {
		if p := plain(w); p != "" && p[0] != '-' {
			rest = append(rest, w)
		}
	}
	for k := 0; k+2 < len(rest); k++ {
		if plain(rest[k]) != "set" || (k > 0 && plain(rest[k-1]) != "config" && plain(rest[k-1]) != "configure") {
			continue
		}
		key := plain(rest[k+1])
		key = key[strings.LastIndexAny(key, ":/.")+1:]
		if Name(key) {
			secretSpan(inner(s, rest[k+2]))
		}
		return
	}
}

// passwordOf returns the password of a user:password word in s[sp]: all
// after the first colon outside ${…}, $(…) and `…` (${USER:?}:${PW:?}),
// less the quotes that close the word or wrap the password ('u':'pw').
func passwordOf(s string, sp span) (span, bool) {
	v := s[sp.start:sp.end]
	colon := -1
	for i := 0; i < len(v) && colon < 0; i++ {
		switch v[i] {
		case ':':
			colon = i
		case '`':
			i = closing(v, i+1, '`')
		case '$':
			if i+1 < len(v) && (v[i+1] == '{' || v[i+1] == '(') {
				open, close := v[i+1], byte('}')
				if open == '(' {
					close = ')'
				}
				i = matching(v, i+2, open, close)
			}
		}
	}
	if colon < 0 {
		return span{}, false
	}
	pw := span{sp.start + colon + 1, sp.end}
	p := s[pw.start:pw.end]
	switch {
	case len(p) >= 2 && (p[0] == '"' || p[0] == '\'') && p[len(p)-1] == p[0] && !strings.ContainsAny(p[1:len(p)-1], `"'`):
		pw = span{pw.start + 1, pw.end - 1}
	case len(p) >= 1 && (v[0] == '"' || v[0] == '\'') && p[len(p)-1] == v[0] && strings.Count(v, v[:1]) == 2:
		pw.end-- // the word's closing quote: "u:pw"
	}
	return pw, pw.start < pw.end
}

// inner is a word without the quotes around it.
func inner(s string, w cmdWord) span {
	st, e := w.start, w.end
	if e-st >= 2 && (s[st] == '"' || s[st] == '\'') && s[e-1] == s[st] {
		return span{st + 1, e - 1}
	}
	return span{st, e}
}

// valueAfter returns the span of what follows prefix in the word w, less
// the quotes around the word or around the value. When quotes or escapes
// stand elsewhere in the word, it is the rest of the word (when in doubt,
// hide more).
func valueAfter(s string, w cmdWord, prefix string) (span, bool) {
	in := inner(s, w)
	raw := s[in.start:in.end]
	if !strings.HasPrefix(raw, prefix) {
		// Quotes inside the flag (-"p"pw): hide the whole word.
		return in, unquote(raw) != prefix
	}
	v := span{in.start + len(prefix), in.end}
	if v.start == v.end {
		return v, false
	}
	if rest := s[v.start:v.end]; len(rest) >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[len(rest)-1] == rest[0] &&
		!strings.ContainsAny(rest[1:len(rest)-1], `"'\`) {
		v = span{v.start + 1, v.end - 1}
	}
	return v, v.start < v.end
}
