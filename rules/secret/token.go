package secret

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// A shape is a token format that is a secret whatever the name around it:
// a fixed prefix, then a body of a known alphabet and length. A token
// stands on its own: the byte before it is not a letter, digit or "_", and
// its body runs exactly to the end of the alphabet, so a look-alike inside
// a longer word or of another length is not one.
type shape struct {
	kind     string
	prefix   string
	body     func(c byte) bool
	min, max int // body length
	check    func(body string) bool
	// published says the issuer makes the token to be shipped in web
	// pages' code, where anyone reads it: see HasUnpublishedToken.
	published bool
}

// The formats, as their issuers document them.
var shapes = []shape{
	// GitHub: ghp_ (classic personal), gho_ (OAuth), ghu_ (user-to-server),
	// ghs_ (server-to-server), ghr_ (refresh): 36 base62 characters; and
	// fine-grained personal tokens, github_pat_ and 82 of [A-Za-z0-9_].
	{kind: "a GitHub token", prefix: "ghp_", body: isAlnum, min: 36, max: 36},
	{kind: "a GitHub token", prefix: "gho_", body: isAlnum, min: 36, max: 36},
	{kind: "a GitHub token", prefix: "ghu_", body: isAlnum, min: 36, max: 36},
	{kind: "a GitHub token", prefix: "ghs_", body: isAlnum, min: 36, max: 36},
	{kind: "a GitHub token", prefix: "ghr_", body: isAlnum, min: 36, max: 36},
	{kind: "a GitHub token", prefix: "github_pat_", body: isWord, min: 82, max: 82},
	// GitLab personal access tokens: glpat- and 20 of [A-Za-z0-9_-].
	{kind: "a GitLab token", prefix: "glpat-", body: isURLSafe, min: 20, max: 20},
	// npm access tokens: npm_ and 36 base62 characters.
	{kind: "an npm token", prefix: "npm_", body: isAlnum, min: 36, max: 36},
	// AWS access key IDs: AKIA (long-term) or ASIA (temporary) and 16 of
	// base32 [A-Z2-7]. The ID alone grants nothing, but it travels with its
	// secret key and names the account.
	{kind: "an AWS access key ID", prefix: "AKIA", body: isBase32, min: 16, max: 16},
	{kind: "an AWS access key ID", prefix: "ASIA", body: isBase32, min: 16, max: 16},
	// Slack: xoxb- (bot), xoxp- (user), xoxa- (app), xoxr- (refresh): a
	// number, more dash-separated parts, and a long random last part.
	{kind: "a Slack token", prefix: "xoxb-", body: isSlack, min: 20, max: 255, check: slackBody},
	{kind: "a Slack token", prefix: "xoxp-", body: isSlack, min: 20, max: 255, check: slackBody},
	{kind: "a Slack token", prefix: "xoxa-", body: isSlack, min: 20, max: 255, check: slackBody},
	{kind: "a Slack token", prefix: "xoxr-", body: isSlack, min: 20, max: 255, check: slackBody},
	// Stripe live secret and restricted keys (sk_test_ and rk_test_ reach
	// no money).
	{kind: "a Stripe live key", prefix: "sk_live_", body: isAlnum, min: 24, max: 255},
	{kind: "a Stripe live key", prefix: "rk_live_", body: isAlnum, min: 24, max: 255},
	// Google API keys: AIza and 35 of [A-Za-z0-9_-].
	// Browser keys (Maps, Firebase) are published in every page that uses
	// them; Google restricts them by referrer, not by secrecy.
	{kind: "a Google API key", prefix: "AIza", body: isURLSafe, min: 35, max: 35, published: true},
}

// byFirst lists the shapes by the first byte of their prefix, and first
// says which bytes start one: the scan looks at one byte in most places.
var (
	byFirst [256][]int
	first   [256]bool
)

// anchors are the bytes HasToken looks for with bytes.IndexByte, which is
// many times faster than a loop over each byte: every prefix holds a "_"
// or a "-" (or starts with "A"), at one of the offsets listed.
var anchors = map[byte][]int{}

// publishedKind holds the kinds of the published shapes.
var publishedKind = map[string]bool{}

func init() {
	for i, sh := range shapes {
		if sh.published {
			publishedKind[sh.kind] = true
		}
		c := sh.prefix[0]
		byFirst[c] = append(byFirst[c], i)
		first[c] = true
		at := strings.IndexAny(sh.prefix, "_-")
		if at < 0 {
			at = 0
		}
		a := sh.prefix[at]
		if !slices.Contains(anchors[a], at) {
			anchors[a] = append(anchors[a], at)
		}
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
func isWord(c byte) bool    { return isAlnum(c) || c == '_' }
func isURLSafe(c byte) bool { return isWord(c) || c == '-' }
func isBase32(c byte) bool  { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }
func isSlack(c byte) bool   { return isAlnum(c) || c == '-' }

// slackBody: digits, at least one more dash-separated part, and a last
// part of at least 16 letters and digits ("xoxb-your-token-here" is not).
func slackBody(b string) bool {
	parts := strings.Split(b, "-")
	if len(parts) < 2 || len(parts) > 6 || len(parts[len(parts)-1]) < 16 {
		return false
	}
	for _, c := range []byte(parts[0]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return parts[0] != ""
}

// findToken returns the first token of a known format in s at or after
// s[from]: its start, end and kind, or start -1.
func findToken[T string | []byte](s T, from int) (start, end int, kind string) {
	for i := from; i < len(s); i++ {
		if !first[s[i]] {
			continue
		}
		if e, k := tokenAt(s, i); e >= 0 {
			return i, e, k
		}
	}
	return -1, -1, ""
}

// tokenAt returns the end and kind of a token of a known format that
// starts at s[i], or end -1.
func tokenAt[T string | []byte](s T, i int) (end int, kind string) {
	if i >= len(s) || !first[s[i]] || (i > 0 && isWord(s[i-1])) {
		return -1, ""
	}
	for _, k := range byFirst[s[i]] {
		sh := &shapes[k]
		if len(s)-i < len(sh.prefix)+sh.min || string(s[i:i+len(sh.prefix)]) != sh.prefix {
			continue
		}
		b := i + len(sh.prefix)
		e := b
		for e < len(s) && e-b <= sh.max && sh.body(s[e]) {
			e++
		}
		if n := e - b; n < sh.min || n > sh.max || (e < len(s) && isWord(s[e])) {
			continue
		}
		body := string(s[b:e])
		if (sh.check != nil && !sh.check(body)) || placeholder(sh.prefix, body) {
			continue
		}
		return e, sh.kind
	}
	return -1, ""
}

// documented are the example tokens of the issuers' own documentation,
// copied into many READMEs and tests.
var documented = map[string]bool{
	"ghp_16C7e42F292c6912E7710c838347Ae178B4a":              true, // GitHub
	"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy": true, // Slack
}

// placeholder reports a token-shaped string that documentation and
// templates use, not a credential: a body of few distinct characters
// (ghp_xxxx…, AKIAXXXXXXXXXXXXXXXX), one that counts up (…abcdef0123…),
// one that says EXAMPLE (AWS's documented key ID AKIAIOSFODNN7EXAMPLE), or
// an issuer's documented example. A random body of these lengths does
// none of that but once in 10^8.
func placeholder(prefix, body string) bool {
	if strings.Contains(strings.ToUpper(prefix+body), "EXAMPLE") || documented[prefix+body] {
		return true
	}
	var seen [256]bool
	distinct, steps := 0, 0
	for i := 0; i < len(body); i++ {
		if !seen[body[i]] {
			seen[body[i]] = true
			distinct++
		}
		if i > 0 && body[i] == body[i-1]+1 {
			steps++
		}
	}
	return distinct < 6 || steps*2 >= len(body)
}

// HasToken reports whether b holds a token of a known format. It looks
// at the bytes every prefix holds, so it costs little more than a search
// for them: the sniffer asks it of the head of every text file.
func HasToken(b []byte) bool { return hasToken(b, false) }

// HasUnpublishedToken is HasToken less the tokens that web pages carry by
// design (Google API keys): what a web bundle's code may hold.
func HasUnpublishedToken(b []byte) bool { return hasToken(b, true) }

func hasToken(b []byte, unpublished bool) bool {
	for a, offsets := range anchors {
		for i := 0; i < len(b); {
			j := bytes.IndexByte(b[i:], a)
			if j < 0 {
				break
			}
			p := i + j
			for _, off := range offsets {
				// tokenAt's first test, here where it costs no call.
				if st := p - off; st >= 0 && first[b[st]] && (st == 0 || !isWord(b[st-1])) {
					if e, kind := tokenAt(b, st); e >= 0 && !(unpublished && publishedKind[kind]) {
						return true
					}
				}
			}
			i = p + 1
		}
	}
	return false
}

// redactTokens replaces every token of a known format in s.
func redactTokens(s string, found *[]Found) string {
	return redactSpans(s, found, func(from int) (int, int, Found) {
		i, e, kind := findToken(s, from)
		return i, e, Found{Kind: kind}
	})
}

// redactSplitTokens replaces the tokens of a known format that the shell
// would join from parts: gh"p_…", 'ghp_…'"…", ghp_…\<newline>…, ghp_\…. It
// reads s with the quotes and escaping backslashes taken out, and hides
// each token found there that spans one of them, quotes and all.
func redactSplitTokens(s string, found *[]Found) string {
	if !strings.ContainsAny(s, "\"'\\") {
		return s
	}
	norm := make([]byte, 0, len(s))
	at := make([]int, 0, len(s)) // at[k] is where norm[k] stands in s
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\'':
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '\n' {
				continue // a line continues
			}
			if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++
				continue
			}
			norm, at = append(norm, s[i]), append(at, i)
		default:
			norm, at = append(norm, c), append(at, i)
		}
	}
	from := 0
	return redactSpans(s, found, func(min int) (int, int, Found) {
		for {
			st, e, kind := findToken(norm, from)
			if st < 0 {
				return -1, 0, Found{}
			}
			from = e
			start, end := at[st], at[e-1]+1
			if end-start == e-st || start < min {
				continue // whole in s: redactTokens saw it
			}
			return start, end, Found{Kind: kind}
		}
	})
}

// A private key: a PEM header with a body after it. In history and config
// text its lines may be joined, or kept as "\n". A shell command may also
// write it with "\\n", a line continuation or a quote between them
// (printf '%s\n' '-----BEGIN … KEY-----' 'MIIE…'): then the body must start
// as a key's does (MII…, MHc…, MC4… for DER, b3Bl… for OpenSSH, Proc-Type: for
// an encrypted PEM), so that a file name after a quoted header in a grep
// is not one.
var (
	pemBegin = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:(?:\s|\\[nr])+[A-Za-z0-9+/=:]|(?:\s|\\+[nrt]?|["'])+(?:MI[A-Z]|MH[a-z]|MC4|b3Bl|Proc-Type:))`)
	pemEnd   = regexp.MustCompile(`-----END [A-Z0-9 ]*PRIVATE KEY-----`)
)

// redactKeys replaces private keys in s, from their header to their
// footer, or to the end of s when it has none.
func redactKeys(s string, found *[]Found) string {
	if !strings.Contains(s, "PRIVATE KEY-----") {
		return s
	}
	return redactSpans(s, found, func(from int) (int, int, Found) {
		m := pemBegin.FindStringIndex(s[from:])
		if m == nil {
			return -1, 0, Found{}
		}
		start := from + m[0]
		end := len(s)
		if f := pemEnd.FindStringIndex(s[start:]); f != nil {
			end = start + f[1]
		}
		return start, end, Found{Kind: "a private key"}
	})
}
