package image

import (
	"regexp"
	"strconv"
	"strings"
)

// Redacted replaces a secret value wherever layerscope shows it.
const Redacted = "<redacted>"

// assignment matches NAME=value in an instruction: a build argument that
// history recorded, an ENV or ARG, or an inline shell assignment. A value
// may be quoted, or a command substitution $(…) or `…`.
var assignment = regexp.MustCompile(`(^|[\s;&|(])([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|\$\([^)]*\)|` + "`[^`]*`" + `|[^\s;&|)]*)`)

// CreatedBy turns a history entry's created_by into the instruction as the
// Dockerfile said it: "/bin/sh -c #(nop) " and " # buildkit" go, a shell
// form becomes "RUN …". Values of secret-looking names are redacted; their
// names are returned.
func CreatedBy(raw string) (string, []string) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	run := strings.HasPrefix(s, "RUN ")
	s = strings.TrimPrefix(s, "RUN ")

	// Build arguments that history recorded: "|2 A=1 B=2 /bin/sh -c …".
	args, s := buildArgs(s)
	switch {
	case strings.HasPrefix(s, "/bin/sh -c #(nop)"):
		s = strings.TrimSpace(strings.TrimPrefix(s, "/bin/sh -c #(nop)"))
	case strings.HasPrefix(s, "/bin/sh -c "):
		s = "RUN " + strings.TrimSpace(strings.TrimPrefix(s, "/bin/sh -c "))
		if args != "" {
			s = "RUN " + args + " " + strings.TrimPrefix(s, "RUN ")
		}
	case run:
		s = "RUN " + s
		if args != "" {
			s = "RUN " + args + " " + strings.TrimPrefix(s, "RUN ")
		}
	}
	return redact(s)
}

// buildArgs splits "|N A=1 … rest" into "|N A=1 …" and "rest".
func buildArgs(s string) (string, string) {
	if !strings.HasPrefix(s, "|") {
		return "", s
	}
	count, rest, ok := strings.Cut(s[1:], " ")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 0 {
		return "", s
	}
	for ; n > 0; n-- {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return s, ""
		}
		rest = rest[i:]
	}
	end := len(s) - len(rest)
	return s[:end], strings.TrimLeft(rest, " ")
}

// redact hides the values of secret-looking assignments in s.
func redact(s string) (string, []string) {
	var names []string
	out := assignment.ReplaceAllStringFunc(s, func(m string) string {
		sub := assignment.FindStringSubmatch(m)
		name, value := sub[2], sub[3]
		if !SecretValue(name, value) {
			return m
		}
		names = append(names, name)
		return sub[1] + name + "=" + Redacted
	})
	return out, names
}

// SecretName reports whether a variable name looks like it holds a secret:
// a token, password, API key, private key or credential. Public keys,
// key IDs and GPG_KEY (a fingerprint) do not.
func SecretName(name string) bool {
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
	// AWS_ACCESS_KEY_ID an identifier, POSTGRES_HOST_AUTH_METHOD a setting.
	if len(words) > 0 {
		switch words[len(words)-1] {
		case "ID", "FILE", "PATH", "URL", "DIR", "METHOD", "MODE", "TYPE", "ENABLE", "ENABLED", "DISABLE", "DISABLED",
			"REQUIRE", "REQUIRED", "LENGTH", "MIN", "MAX", "POLICY", "TTL", "EXPIRY", "HEADER", "USER", "USERNAME",
			"HOST", "PORT", "NAME", "VERSION", "ALGORITHM", "HASH", "SIZE", "FORMAT", "ENDPOINT", "REGION", "PROVIDER":
			return false
		}
	}
	for _, w := range words {
		switch w {
		case "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIALS", "CREDENTIAL",
			"APIKEY", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY", "AUTH", "AUTHTOKEN", "PAT":
			return true
		}
		if strings.HasSuffix(w, "TOKEN") || strings.HasSuffix(w, "SECRET") || strings.HasSuffix(w, "PASSWORD") {
			return true
		}
	}
	return (has("API") || has("PRIVATE") || has("ACCESS") || has("SIGNING") || has("ENCRYPTION") || has("MASTER")) && has("KEY")
}

// SecretValue reports whether NAME=value holds a secret: a secret-looking
// name with a literal value. A reference to something else ($VAR, ${VAR},
// $(cat /run/secrets/x)) is how a secret is meant to be passed, and a
// boolean or a method name (MYSQL_ALLOW_EMPTY_PASSWORD=yes,
// POSTGRES_HOST_AUTH_METHOD=trust) is a setting, not a secret.
func SecretValue(name, value string) bool {
	v := strings.Trim(value, `"'`)
	if v == "" || strings.HasPrefix(v, "$") || strings.HasPrefix(v, "`") || !SecretName(name) {
		return false
	}
	switch strings.ToLower(v) {
	case "yes", "no", "true", "false", "on", "off", "0", "1", "none", "null", "nil",
		"trust", "md5", "scram-sha-256", "password", "reject", "peer", "ident", "changeme", "xxx", "redacted", "<redacted>":
		return false
	}
	return true
}

// layerHistory maps history entries to layers: entries with empty_layer
// have none, the others take the layers in order. It returns one raw
// created_by per layer, and whether the counts agreed.
func layerHistory(h []History, layers int) ([]History, bool) {
	out := make([]History, layers)
	i := 0
	for _, e := range h {
		if e.EmptyLayer {
			continue
		}
		if i < layers {
			out[i] = e
		}
		i++
	}
	return out, i == layers
}
