package rules

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/layerscope/layerscope/rules/secret"
	"github.com/layerscope/layerscope/tree"
)

// Flags a file's first bytes can earn: tree.HeadSize of them are seen,
// and CredentialsWindow of a credentials file.
const (
	FlagPrivateKey tree.Flags = 1 << iota // a PEM PRIVATE KEY block
	FlagCredential                        // a known credentials file with a secret in it
	FlagToken                             // a token of a known format (GitHub, npm, AWS, …)
)

// CredentialsWindow is how much of a credentials file (.npmrc, .netrc,
// .env, …) Sniff reads: all of any real one, so that a token on line 40
// is found. Every other file is read for its first tree.HeadSize bytes.
const CredentialsWindow = 64 << 10

// Flags is the type of the content signatures a rule asks for.
type Flags = tree.Flags

// Credential signatures. A value must be literal: a placeholder such as
// ${NPM_TOKEN} or $TOKEN is how a file is meant to be shipped. Values are
// read to the end of their line only.
var (
	pemPrivateKey = regexp.MustCompile(`(?m)^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[ \t]*\r?\n[A-Za-z0-9+/=:]`)
	dockerAuth    = regexp.MustCompile(`"(auth|identitytoken|registrytoken)"[ \t]*:[ \t]*"[^"$]+"`)
	npmToken      = regexp.MustCompile(`(?m)(_authToken|_auth|_password)[ \t]*=[ \t]*["']?[^\s$"']`)
	passwordLine  = regexp.MustCompile(`(?im)^[ \t]*password[ \t]*[=:][ \t]*[^\s$]`)
	netrcPassword = regexp.MustCompile(`(?m)\bpassword[ \t]+[^\s$]`)
	urlCreds      = regexp.MustCompile(`://[^:/\s@]+:[^@\s$]+@`)
	awsSecret     = regexp.MustCompile(`(?im)^[ \t]*aws_secret_access_key[ \t]*=[ \t]*[^\s$]`)
	envLine       = regexp.MustCompile(`(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*['"]?([^\s'"#]*)`)
)

// Sniff is the tree.Sniffer layerscope parses with: it looks at the first
// bytes of every regular file, once, as they stream past.
var Sniff tree.Sniffer = sniffer{}

type sniffer struct{}

// Window is CredentialsWindow for a credentials file, SystemWindow for
// the small system files whose names the rules read, else tree.HeadSize.
func (sniffer) Window(p string) int {
	switch {
	case credentialsFile(p):
		return CredentialsWindow
	case systemFile(p):
		return SystemWindow
	}
	return tree.HeadSize
}

func (sniffer) Sniff(p string, head []byte) tree.Flags {
	noteSystemFile(p, head) // the names in /etc/passwd and the like: see system.go
	var f tree.Flags
	// A PEM block starts a line and has a body: the header quoted in a
	// README is not a key.
	if bytes.Contains(head, []byte("PRIVATE KEY-----")) && pemPrivateKey.Match(head) {
		f |= FlagPrivateKey
	}
	switch {
	case credentialsFile(p):
		if credential(p, head) {
			f |= FlagCredential
		}
	case bytes.IndexByte(head, 0) < 0 && (webBundle(p) && secret.HasUnpublishedToken(head) || !webBundle(p) && secret.HasToken(head)):
		// Text (a NUL says binary) with a token of a known format. The
		// rule leaves out the trees of packaged libraries, whose tests
		// and docs hold token-shaped examples, and the Google API keys of
		// web bundles, which every browser that loads the page is sent.
		f |= FlagToken
	}
	return f
}

// servedRoots are the folders web servers serve files from as they are
// installed (nginx, Apache httpd, Caddy).
var servedRoots = []string{"usr/share/nginx/html/", "var/www/", "usr/share/httpd/", "srv/www/", "usr/share/caddy/"}

// servedDirs are the folders a frontend build or a web app serves files
// from (/app/static/js/main.1a2b.js, /app/.next/static/chunks/x.js,
// /app/public/app.js). dist and build are not among them: they are as
// often a server's compiled code (tsc, NestJS: /usr/src/app/dist/main.js).
var servedDirs = map[string]bool{"static": true, "public": true, "html": true, "htdocs": true, "www": true, "wwwroot": true, "webroot": true}

// webBundle reports a script or page that a browser loads: a page or a
// source map anywhere, a minified script (app.min.js), or a script under
// a web server's root or in a folder that is served.
func webBundle(p string) bool {
	base := tree.Base(p)
	switch ext := base[strings.LastIndexByte(base, '.')+1:]; ext {
	case "html", "htm", "map":
		return true
	case "js", "mjs", "cjs":
	default:
		return false
	}
	if strings.Contains(base, ".min.") {
		return true
	}
	rel := strings.TrimPrefix(p, "/")
	for _, root := range servedRoots {
		if strings.HasPrefix(rel, root) {
			return true
		}
	}
	for dir := range strings.SplitSeq(rel, "/") {
		if servedDirs[dir] {
			return true
		}
	}
	return false
}

// credentialsFile reports a file that the credentials-file rule names.
func credentialsFile(p string) bool {
	switch base := tree.Base(p); {
	case base == "credentials":
		return strings.HasSuffix(p, ".aws/credentials")
	case base == "config.json":
		return strings.HasSuffix(p, ".docker/config.json")
	case base == ".npmrc", base == ".pypirc", base == ".netrc", base == ".git-credentials", base == ".env":
		return true
	default:
		return strings.HasPrefix(base, ".env.")
	}
}

// credential reports a known credentials file that holds a secret: on
// the line its format keeps one, or a token of a known format anywhere.
func credential(p string, head []byte) bool {
	base := tree.Base(p)
	switch {
	case base == "credentials":
		if awsSecret.Match(head) {
			return true
		}
	case base == "config.json":
		if dockerAuth.Match(head) {
			return true
		}
	case base == ".npmrc":
		if npmToken.Match(head) {
			return true
		}
	case base == ".pypirc":
		if passwordLine.Match(head) {
			return true
		}
	case base == ".netrc":
		if netrcPassword.Match(head) {
			return true
		}
	case base == ".git-credentials":
		if urlCreds.Match(head) {
			return true
		}
	case isExample(base):
		return false // an example or a template: its values are samples
	default: // .env, .env.*
		for _, m := range envLine.FindAllSubmatch(head, -1) {
			if secret.Value(string(m[1]), string(m[2])) {
				return true
			}
		}
	}
	return secret.HasToken(head)
}

func isExample(base string) bool {
	for _, s := range []string{".example", ".sample", ".template", ".dist", ".defaults"} {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	return false
}
