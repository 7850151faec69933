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

var (
	pemBegin      = []byte("-----BEGIN ")
	pemPrivateKey = []byte("PRIVATE KEY-----")
	dockerAuth    = regexp.MustCompile(`"(auth|identitytoken|registrytoken)"\s*:\s*"[^"]+"`)
	npmToken      = regexp.MustCompile(`(_authToken|_auth|_password)\s*=\s*\S`)
	passwordLine  = regexp.MustCompile(`(?im)^\s*password\s*[=:]\s*\S`)
	netrcPassword = regexp.MustCompile(`(?m)\bpassword\s+\S`)
	urlCreds      = regexp.MustCompile(`://[^:/\s@]+:[^@\s]+@`)
	awsSecret     = regexp.MustCompile(`(?i)aws_secret_access_key\s*=\s*\S`)
	envLine       = regexp.MustCompile(`(?m)^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*['"]?([^\s'"#]+)`)
)

// Sniff is the tree.Sniffer layerscope parses with: it looks at the first
// bytes of every regular file, once, as they stream past.
func Sniff(p string, head []byte) tree.Flags {
	var f tree.Flags
	if bytes.Contains(head, pemPrivateKey) && bytes.Contains(head, pemBegin) {
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
			if image.SecretName(string(m[1])) && len(m[2]) > 0 {
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
