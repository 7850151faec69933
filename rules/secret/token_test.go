package secret_test

import (
	"strings"
	"testing"

	"github.com/layerscope/layerscope/rules/secret"
)

// TestTokenShapes: each format flags its real shape, and none of its
// look-alikes.
func TestTokenShapes(t *testing.T) {
	tests := []struct {
		name, text string
		kind       string // "" when it must not be flagged
	}{
		{"github classic", "ghp_" + body36, "a GitHub token"},
		{"github oauth", "gho_" + body36, "a GitHub token"},
		{"github server", "ghs_" + body36, "a GitHub token"},
		{"github user", "ghu_" + body36, "a GitHub token"},
		{"github refresh", "ghr_" + body36, "a GitHub token"},
		{"github in a URL", "https://x:ghp_" + body36 + "@github.com", "a GitHub token"},
		{"github one short", "ghp_" + body36[1:], ""},
		{"github one long", "ghp_" + body36 + "x", ""},
		{"github inside a word", "xghp_" + body36, ""},
		{"github followed by _", "ghp_" + body36 + "_x", ""},
		{"github other prefix", "ghx_" + body36, ""},
		{"github placeholder", "ghp_" + strings.Repeat("x", 36), ""},
		{"github counting placeholder", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", ""},
		{"github documented example", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", ""},
		{"github fine-grained", "github_pat_" + body82, "a GitHub token"},
		{"github fine-grained short", "github_pat_" + body82[2:], ""},
		{"gitlab", "glpat-" + body20, "a GitLab token"},
		{"gitlab long", "glpat-" + body20 + "a", ""},
		{"gitlab placeholder", "glpat-xxxxxxxxxxxxxxxxxxxx", ""},
		{"npm", "npm_" + body36b, "an npm token"},
		{"npm short", "npm_" + body36b[:30], ""},
		{"npm in a package name", "@scope/npm_" + body36b + "x", ""},
		{"aws", "AKIA" + body16, "an AWS access key ID"},
		{"aws temporary", "ASIA" + body16, "an AWS access key ID"},
		{"aws in an ini line", "aws_access_key_id = AKIA" + body16 + "\n", "an AWS access key ID"},
		{"aws documented example", "AKIAIOSFODNN7EXAMPLE", ""},
		{"aws lower case", "AKIA" + strings.ToLower(body16), ""},
		{"aws one long", "AKIA" + body16 + "Q", ""},
		{"aws followed by a digit", "AKIA" + body16 + "9", ""},
		{"aws inside base64", "QUJD" + "AKIA" + body16, ""},
		{"aws not base32", "AKIA" + body16[:15] + "8", ""},
		{"slack bot", "xoxb-17653672481-19874698323-" + body24, "a Slack token"},
		{"slack user", "xoxp-1234567890-1234567890-1234567890-6f5da2cec255404e4fb440034d660869", "a Slack token"},
		{"slack placeholder", "xoxb-your-bot-token-here", ""},
		{"slack documented example", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", ""},
		{"slack short", "xoxb-123-abc", ""},
		{"slack other", "xoxz-17653672481-19874698323-" + body24, ""},
		{"stripe live", "sk_live_" + body99, "a Stripe live key"},
		{"stripe restricted", "rk_live_" + body24, "a Stripe live key"},
		{"stripe test", "sk_test_" + body99, ""},
		{"stripe short", "sk_live_" + body24[:20], ""},
		{"google", "AIza" + body35, "a Google API key"},
		{"google short", "AIza" + body35[1:], ""},
		{"google long", "AIza" + body35 + "b", ""},
		{"prose", "the ghp_ prefix marks a GitHub token; AKIA starts a key ID", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fs := secret.Redact(tc.text)
			if secret.HasToken([]byte(tc.text)) != (tc.kind != "") {
				t.Errorf("HasToken(%q) = %v", tc.text, !(tc.kind != ""))
			}
			if tc.kind == "" {
				if got != tc.text || len(fs) > 0 {
					t.Errorf("a look-alike is flagged: %q -> %q %v", tc.text, got, fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Kind != tc.kind || !strings.Contains(got, secret.Redacted) {
				t.Fatalf("Redact(%q) = %q, %+v; want one %s", tc.text, got, fs, tc.kind)
			}
			if strings.Contains(got, tc.text[len(tc.text)-12:]) {
				t.Errorf("the token shows: %q", got)
			}
		})
	}
}

// TestHasUnpublishedToken: a web bundle may carry a Google API key, which
// browsers are sent by design, but no other token.
func TestHasUnpublishedToken(t *testing.T) {
	tests := []struct {
		name, text       string
		all, unpublished bool
	}{
		{"a Google key", `var k="AIza` + body35 + `"`, true, false},
		{"a GitHub token", `var k="ghp_` + body36 + `"`, true, true},
		{"both", `k="AIza` + body35 + `",t="ghp_` + body36 + `"`, true, true},
		{"none", "var k=1", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := secret.HasToken([]byte(tc.text)); got != tc.all {
				t.Errorf("HasToken = %v, want %v", got, tc.all)
			}
			if got := secret.HasUnpublishedToken([]byte(tc.text)); got != tc.unpublished {
				t.Errorf("HasUnpublishedToken = %v, want %v", got, tc.unpublished)
			}
		})
	}
}
