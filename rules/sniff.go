package rules

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/tree"
)

// Flags a file's first bytes can earn (tree.HeadSize of them are seen).
const (
	FlagPrivateKey tree.Flags = 1 << iota // a PEM PRIVATE KEY block
	FlagCredential                        // a known credentials file with a secret in it
)

// Flags is the type of the content signatures a rule asks for.
type Flags = tree.Flags

// Credential signatures. A value must be literal: a placeholder such as
// ${NPM_TOKEN} or $TOKEN is how a file is meant to be shipped. Values are
// read to the end of their line only.
var (
	pemPrivateKey = regexp.MustCompile(`(?m)^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[ \t]*\r?\n[A-Za-z0-9+/=:]`)
	dockerAuth    = regexp.MustCompile(`"(auth|identitytoken|registrytoken)"[ \t]*:[ \t]*"[^"$]+"`)
	npmToken      = regexp.MustCompile(`(?m)(_authToken|_auth|_password)[ \t]*=[ \t]*[^\s$]`)
	passwordLine  = regexp.MustCompile(`(?im)^[ \t]*password[ \t]*[=:][ \t]*[^\s$]`)
	netrcPassword = regexp.MustCompile(`(?m)\bpassword[ \t]+[^\s$]`)
	urlCreds      = regexp.MustCompile(`://[^:/\s@]+:[^@\s$]+@`)
	awsSecret     = regexp.MustCompile(`(?im)^[ \t]*aws_secret_access_key[ \t]*=[ \t]*[^\s$]`)
	envLine       = regexp.MustCompile(`(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*['"]?([^\s'"#]*)`)
)

// Sniff is the tree.Sniffer layerscope parses with: it looks at the first
// bytes of every regular file, once, as they stream past.
func Sniff(p string, head []byte) tree.Flags {
	noteSystemFile(p, head) // the names in /etc/passwd and the like: see system.go
	var f tree.Flags
	// A PEM block starts a line and has a body: the header quoted in a
	// README is not a key.
	if bytes.Contains(head, []byte("PRIVATE KEY-----")) && pemPrivateKey.Match(head) {
		f |= FlagPrivateKey
	}
	if credential(p, head) {
		f |= FlagCredential
	}
	return f
}

// credential reports a known credentials file that holds a secret.
func credential(p string, head []byte) bool {
	base := tree.Base(p)
	switch {
	case base == "credentials" && strings.HasSuffix(p, ".aws/credentials"):
		return awsSecret.Match(head)
	case base == "config.json" && strings.HasSuffix(p, ".docker/config.json"):
		return dockerAuth.Match(head)
	case base == ".npmrc":
		return npmToken.Match(head)
	case base == ".pypirc":
		return passwordLine.Match(head)
	case base == ".netrc":
		return netrcPassword.Match(head)
	case base == ".git-credentials":
		return urlCreds.Match(head)
	case base == ".env" || (strings.HasPrefix(base, ".env.") && !isExample(base)):
		for _, m := range envLine.FindAllSubmatch(head, -1) {
			if image.SecretValue(string(m[1]), string(m[2])) {
				return true
			}
		}
	}
	return false
}

func isExample(base string) bool {
	for _, s := range []string{".example", ".sample", ".template", ".dist", ".defaults"} {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	return false
}
