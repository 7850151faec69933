// Package secret is layerscope's one policy for secrets in text: the names
// that look like they hold one, the values that are one, the token formats
// that are secrets by their shape, and how a secret is hidden before any
// text from an image is shown. History, config and file rules all ask here;
// nothing else decides what is a secret in text.
//
// Precision comes first: a setting (MYSQL_ALLOW_EMPTY_PASSWORD=yes), a
// reference ($NPM_TOKEN, $(cat /run/secrets/x)), a public key or a
// placeholder (ghp_xxxx…, AWS's documented example key) is not a secret.
// Redaction errs the other way: when it cannot tell where a secret value
// ends, it hides more.
package secret

import (
	"regexp"
	"strings"
)

// Redacted replaces a secret wherever layerscope shows text.
const Redacted = "<redacted>"

// A Found is one secret that redaction hid. It never holds the value.
type Found struct {
	// Name is the variable the secret was assigned to, or "" for a token
	// or key that stood on its own. It holds only [A-Za-z0-9_.-].
	Name string
	// Kind says what the secret is by its shape, with its article ("a
	// GitHub token", "a private key"), or "" when only its name says so.
	Kind string
}

// What says what f is, for a message, without its value: its kind, or
// "the value of NAME".
func (f Found) What() string {
	if f.Kind != "" {
		return f.Kind
	}
	return "the value of " + f.Name
}

// Name reports whether a variable name looks like it holds a secret: a
// token, password, API key, private key or credential. Public keys, key
// IDs and GPG_KEY (a fingerprint) do not.
func Name(name string) bool {
	words := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return r == '_' || r == '-' || r == '.'
	})
	has := func(w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	for _, w := range []string{"PUBLIC", "PUB", "GPG", "FINGERPRINT", "ALLOW"} {
		if has(w) {
			return false
		}
	}
	// The last word says what the value is: DB_PASSWORD_FILE is a path,
	// AWS_ACCESS_KEY_ID an identifier, POSTGRES_HOST_AUTH_METHOD a setting,
	// SSH_AUTH_SOCK a socket, TOKEN_EXPIRATION a duration.
	if len(words) > 0 {
		switch words[len(words)-1] {
		case "ID", "FILE", "PATH", "URL", "DIR", "METHOD", "MODE", "TYPE", "ENABLE", "ENABLED", "DISABLE", "DISABLED",
			"REQUIRE", "REQUIRED", "LENGTH", "MIN", "MAX", "POLICY", "TTL", "EXPIRY", "HEADER", "USER", "USERNAME",
			"HOST", "PORT", "NAME", "VERSION", "ALGORITHM", "HASH", "SIZE", "FORMAT", "ENDPOINT", "REGION", "PROVIDER",
			"SOCK", "SOCKET", "REALM", "ROLE", "BACKEND", "BACKENDS", "SERVER", "ISSUER", "AUDIENCE", "SCOPE", "SCOPES",
			"TIMEOUT", "EXPIRATION", "EXPIRES", "LIFETIME", "INTERVAL", "SECONDS":
			return false
		}
	}
	for _, w := range words {
		switch w {
		case "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "CREDENTIALS", "CREDENTIAL",
			"APIKEY", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY", "AUTH", "AUTHTOKEN", "PAT":
			return true
		}
		if strings.HasSuffix(w, "TOKEN") || strings.HasSuffix(w, "SECRET") || strings.HasSuffix(w, "PASSWORD") {
			return true
		}
	}
	return (has("API") || has("PRIVATE") || has("ACCESS") || has("SIGNING") || has("ENCRYPTION") || has("MASTER")) && has("KEY")
}

// Value reports whether NAME=value holds a secret: a secret-looking name
// with a literal value. A reference to something else ($VAR, ${VAR},
// $(cat /run/secrets/x)) is how a secret is meant to be passed, and a
// boolean or a method name (MYSQL_ALLOW_EMPTY_PASSWORD=yes,
// POSTGRES_HOST_AUTH_METHOD=trust) is a setting, not a secret. A token of
// a known format is a secret whatever its name: see Redact.
func Value(name, value string) bool {
	v := strings.Trim(value, `"'`)
	if v == "" || strings.HasPrefix(v, "$") || strings.HasPrefix(v, "`") || !Name(name) || secretMount(name, v) {
		return false
	}
	switch strings.ToLower(v) {
	case "yes", "no", "true", "false", "on", "off", "0", "1", "none", "null", "nil",
		"trust", "md5", "scram-sha-256", "password", "reject", "peer", "ident", "changeme", "xxx", "redacted", Redacted,
		// The JDK truststore's published default password: it guards public certificates.
		"changeit",
		// What kind of authentication (REGISTRY_AUTH=htpasswd), not a credential.
		"htpasswd", "basic", "bearer", "token", "ldap", "oauth", "oauth2", "oidc", "saml", "jwt", "kerberos":
		return false
	}
	return true
}

// secretMountKeys are the keys of a build secret's spec (docker build
// --secret id=npm,src=.npmrc; podman build --secret=id=npm,env=NPM_TOKEN).
var secretMountKeys = map[string]bool{"id": true, "src": true, "source": true, "env": true, "type": true,
	"target": true, "dst": true, "destination": true, "required": true, "mode": true, "uid": true, "gid": true}

// secretMount reports a --secret flag's value that names where a build
// secret comes from (a file, a variable), not the secret itself.
func secretMount(name, v string) bool {
	if !strings.EqualFold(strings.Trim(name, "-_"), "secret") {
		return false
	}
	named := false
	for kv := range strings.SplitSeq(v, ",") {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !secretMountKeys[k] {
			return false
		}
		named = named || k == "id" || k == "src" || k == "source" || k == "env"
	}
	return named
}

// Redact hides every secret in s: private keys, the values of
// secret-looking assignments wherever they stand (NAME=value, "NAME=value",
// --password=value, ?token=value), and tokens of a known format whatever
// surrounds them (also when quotes or a line continuation split them: the
// shell joins gh"p_…" into one word), the passwords of URLs
// (https://user:…@host), and the secrets that commands take as arguments
// (curl -u user:…, mysql -p…, echo user:… | chpasswd: see command.go),
// also in the scripts of sh -c and env -S and in argument lists
// (CMD ["curl" "-u" "user:…"]: see argv.go). Each becomes Redacted. It returns the text to show and what it hid. Redact is
// idempotent: Redact of its own output changes nothing.
func Redact(s string) (string, []Found) {
	var found []Found
	s = redactKeys(s, &found)
	s = redactAssignments(s, &found)
	s = redactTokens(s, &found)
	s = redactSplitTokens(s, &found)
	s = redactURLPasswords(s, &found)
	s = redactCredentialWords(s, &found)
	s = redactCommands(s, &found)
	return s, found
}

// credentialWords are secrets passed as words rather than assignments: a
// command-line flag and its value (mysql --password hunter2, --token x),
// an HTTP Authorization header (curl -H "Authorization: Bearer …"), and a
// netrc line written by printf or echo (machine h login u password p).
// Group 1 names what the value is; group 2 is the value.
var credentialWords = []*credentialWord{
	{regexp.MustCompile(`(?:^|[\s;&|(])--` + secretFlagName + `[ \t]+([^\s'"\-;&|)][^\s'";&|)]*)`), "", "a secret on a command line"},
	{regexp.MustCompile(`(?i)\b(authorization):[ \t]*(?:bearer|basic|token)[ \t]+([^\s'"\\]+)`), "TOKEN", "an Authorization header"},
	{regexp.MustCompile(`\bmachine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+(password)[ \t]+([^\s'"\\]+)`), "PASSWORD", "a netrc password"},
}

type credentialWord struct {
	re   *regexp.Regexp
	name string // the name Value judges the value under
	kind string
}

// template reports a format verb or a template where a value goes
// (printf '… password %s', {{ .Token }}, <token>).
func template(v string) bool {
	return strings.HasPrefix(v, "%") || strings.HasPrefix(v, "{{") || strings.HasPrefix(v, "<")
}

// switchFlag reports a flag that switches something on or off rather than
// taking the secret (gh's --with-token reads it from standard input).
func switchFlag(name string) bool {
	first, _, _ := strings.Cut(name, "_")
	switch first {
	case "with", "no", "skip", "ask", "prompt", "use", "require", "allow", "reset", "generate", "random", "show",
		"disabled", "disable", "empty", "lock", "locked", "expire", "change", "stdin":
		return true
	}
	return false
}

// redactCredentialWords hides the values credentialWords find, unless
// they are references or placeholders, as Value judges them.
func redactCredentialWords(s string, found *[]Found) string {
	for _, cw := range credentialWords {
		if !cw.re.MatchString(s) {
			continue
		}
		ms := cw.re.FindAllStringSubmatchIndex(s, -1)
		s = redactSpans(s, found, func(int) (int, int, Found) {
			for ; len(ms) > 0; ms = ms[1:] {
				if m := ms[0]; cw.secret(s, m) {
					ms = ms[1:]
					return m[4], m[5], Found{Kind: cw.kind}
				}
			}
			return -1, 0, Found{}
		})
	}
	return s
}

// credentialWordSpans calls fn with each value that credentialWords find
// in s and that is a secret, and what it is.
func credentialWordSpans(s string, fn func(sp span, kind string)) {
	for _, cw := range credentialWords {
		for _, m := range cw.re.FindAllStringSubmatchIndex(s, -1) {
			if cw.secret(s, m) {
				fn(span{m[4], m[5]}, cw.kind)
			}
		}
	}
}

// secretFlagName is the name of a flag that takes a secret, after its
// "--": password, db-password, api-key, token.
const secretFlagName = `((?:[a-z]+-)*(?:password|passwd|passphrase|token|secret|api-?key))`

// secret reports whether the value of match m of cw in s is a secret,
// not a reference, a template or a switch.
func (cw *credentialWord) secret(s string, m []int) bool {
	if cw.name == "" {
		return flagSecret(s[m[2]:m[3]], s[m[4]:m[5]])
	}
	v := s[m[4]:m[5]]
	return Value(cw.name, v) && !template(v)
}

// flagSecret reports whether v, the value of the flag --flag, is a
// secret: not another flag, a reference, a template, or the value of a
// switch (--with-token reads the token from standard input).
func flagSecret(flag, v string) bool {
	name := strings.ReplaceAll(flag, "-", "_")
	return v != "" && v[0] != '-' && Value(name, v) && !template(v) && !switchFlag(name)
}

// urlPassword is the password of a URL's user info: scheme://user:pw@.
// A password holds no "/" (that is a port and a path before an "@") and
// no "$" (a reference, ${GH_TOKEN}, is how one is meant to be passed).
var urlPassword = regexp.MustCompile("://[^:/\\s@\"'`]+:([^@\\s/$\"'`]+)@")

// redactURLPasswords hides the passwords of URLs (git clone
// https://oauth2:…@host, postgres://app:…@db); a placeholder stays.
func redactURLPasswords(s string, found *[]Found) string {
	if !strings.Contains(s, "://") {
		return s
	}
	ms := urlPassword.FindAllStringSubmatchIndex(s, -1)
	return redactSpans(s, found, func(int) (int, int, Found) {
		for ; len(ms) > 0; ms = ms[1:] {
			m := ms[0]
			switch strings.ToLower(s[m[2]:m[3]]) {
			case strings.ToLower(Redacted), "password", "pass", "changeme", "xxx", "secret", "token":
				continue
			}
			ms = ms[1:]
			return m[2], m[3], Found{Kind: "a password in a URL"}
		}
		return -1, 0, Found{}
	})
}

// redactSpans replaces with Redacted each span that next finds, left to
// right, and notes each in found. next is asked for the first span at or
// after from, and returns a start below 0 when there is none; the spans
// it gives must not overlap.
func redactSpans(s string, found *[]Found, next func(from int) (start, end int, f Found)) string {
	var b strings.Builder
	last := 0
	for {
		start, end, f := next(last)
		if start < 0 {
			break
		}
		b.WriteString(s[last:start])
		b.WriteString(Redacted)
		last = end
		*found = append(*found, f)
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactAssignments hides the values of secret-looking assignments, and
// the tokens that start the values of the others. It follows quotes as a shell
// does: inside a quoted part ("NPM_TOKEN=…" > .npmrc) a value runs to the
// closing quote, spaces and all; elsewhere it is one shell word. The value
// of an assignment that is not a secret is read on, for the assignments
// inside it.
func redactAssignments(s string, found *[]Found) string {
	var b strings.Builder
	last := 0        // s[:last] is in b
	quote := byte(0) // the quote of the part the scan is in
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quote != '\'':
			i++
			continue
		case quote == 0 && (c == '"' || c == '\'' || c == '`'):
			quote = c
			continue
		case quote != 0 && c == quote:
			quote = 0
			continue
		case c != '=':
			continue
		}
		name, ok := nameBefore(s, i)
		if !ok {
			continue
		}
		end, secret := valueOf(s, i+1, quote, name)
		if secret {
			*found = append(*found, Found{Name: name})
		} else {
			// A token of a known format where the value starts: the
			// name says where it was.
			var kind string
			if end, kind = tokenAt(s, i+1); end < 0 {
				continue
			}
			*found = append(*found, Found{Name: name, Kind: kind})
		}
		b.WriteString(s[last : i+1])
		b.WriteString(Redacted)
		// The scan goes on after the value. A word's quotes are closed
		// within it (or run to the end), and a quoted part's value ends
		// at its closing quote, so the quote state is as it was.
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueOf returns whether the value of name that starts at s[i] is a
// secret and, when it is, where it ends (-1 when it is not). A value runs
// to the closing quote inside a quoted part, else it is one shell word. It
// reads at most a few bytes of a value that is not a secret, so that a
// long quoted text of many assignments costs no more than its length.
func valueOf(s string, i int, quote byte, name string) (int, bool) {
	if !Name(name) {
		return -1, false
	}
	end := func(s string) int {
		if quote == 0 {
			return wordEnd(s, i)
		}
		return closing(s, i, quote)
	}
	// Long enough for any setting Value knows; a longer literal is a
	// secret unless it is a reference.
	lim := min(len(s), i+64)
	if e := end(s[:lim]); e < lim || lim == len(s) {
		if !Value(name, s[i:e]) {
			return -1, false
		}
		return e, true
	}
	v := strings.TrimLeft(s[i:lim], `"'`)
	if strings.HasPrefix(v, "$") || strings.HasPrefix(v, "`") {
		return -1, false
	}
	return end(s), true
}

// nameBefore returns the name of an assignment whose "=" is at s[eq]: the
// name characters before it, less the dashes of an option (--password=). A
// name starts with a letter or "_" and follows the start of s, a space, a
// shell operator, a bracket, a comma, a quote, the "?" of a URL query or
// a ":" (npm's //registry/:_authToken=): "s/PASSWORD=x/" is a sed
// expression, not an assignment.
func nameBefore(s string, eq int) (string, bool) {
	st := eq
	for st > 0 && isNameByte(s[st-1]) {
		st--
	}
	// An option inside another value (JAVA_OPTS=-Dapp.password=x,
	// OPTS=--password=x) follows that value's "=".
	option := st < eq && s[st] == '-' && st > 0 && s[st-1] == '='
	if st > 0 && !isNameBoundary(s[st-1]) && !option {
		return "", false
	}
	ns := st
	for ns < eq && ns-st < 2 && s[ns] == '-' {
		ns++
	}
	if ns == eq || !isNameStart(s[ns]) {
		return "", false
	}
	return s[ns:eq], true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func isNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isNameBoundary(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', ';', '&', '|', '(', '{', '[', ',', '"', '\'', '`', '?', ':':
		return true
	}
	return false
}

// wordEnd returns where the shell word that starts at s[i] ends: at a
// space or a shell operator outside quotes. A quoted part, $(…), ${…} or
// `…` inside it is part of it; an unclosed one runs to the end (when in
// doubt, hide more).
func wordEnd(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f', ';', '&', '|', ')', '<', '>':
			return i
		case '"', '\'', '`':
			i = closing(s, i+1, c) + 1
		case '\\':
			i += 2
		case '$':
			switch {
			case i+1 < len(s) && s[i+1] == '(':
				i = matching(s, i+2, '(', ')') + 1
			case i+1 < len(s) && s[i+1] == '{':
				i = matching(s, i+2, '{', '}') + 1
			default:
				i++
			}
		default:
			i++
		}
	}
	return len(s)
}

// closing returns the index of the quote q that closes a quoted part whose
// text starts at s[i], or len(s). Inside double quotes and backquotes a
// backslash escapes the next byte.
func closing(s string, i int, q byte) int {
	for i < len(s) {
		switch s[i] {
		case q:
			return i
		case '\\':
			if q != '\'' {
				i++
			}
		}
		i++
	}
	return len(s)
}

// matching returns the index of the close that ends a bracket whose text
// starts at s[i], counting nested brackets, or len(s).
func matching(s string, i int, open, close byte) int {
	depth := 1
	for ; i < len(s); i++ {
		switch s[i] {
		case open:
			depth++
		case close:
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return len(s)
}
