package rules_test

import (
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// Token-shaped test values, random, built from parts so that no line of
// this file is a token itself.
const (
	ghToken  = "ghp" + "_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
	npmTok   = "npm" + "_KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR"
	awsID    = "AK" + "IA3R2WYOJFLJOOA7LQ"
	glToken  = "glpat" + "-c7Tvo-hBKqFYY-kv5ZJr"
	stripeSK = "sk_live" + "_Oq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kw"
)

// lines makes a file of n lines of filler before its last line.
func lines(filler string, n int, last string) string {
	return strings.Repeat(filler+"\n", n) + last + "\n"
}

// TestTokenFiles: tokens of a known format in files. A credentials file
// is read for CredentialsWindow bytes (a token on line 40 of an .npmrc is
// found), any other text file for its first 512; packaged libraries,
// binaries and examples draw nothing.
func TestTokenFiles(t *testing.T) {
	npmrcFiller := "; registry settings, one of many lines of comments in a long .npmrc"
	tests := []struct {
		name  string
		files []it.File
		want  string
	}{
		{"npmrc token on line 40", []it.File{it.Reg("root/.npmrc", lines(npmrcFiller, 39, "//registry.npmjs.org/:_authToken="+npmTok))}, "credentials-file@0 /root/.npmrc"},
		{"npmrc token by shape on line 40", []it.File{it.Reg("root/.npmrc", lines(npmrcFiller, 39, "; the old one: "+npmTok))}, "credentials-file@0 /root/.npmrc"},
		{"netrc past 512 bytes", []it.File{it.Reg("root/.netrc", lines("machine a.example login me", 30, "machine b.example login me password "+glToken))}, "credentials-file@0 /root/.netrc"},
		{"dotenv token under a plain name", []it.File{it.Reg("app/.env", lines("PORT=8080", 80, "GH="+ghToken))}, "credentials-file@0 /app/.env"},
		{"docker config past 512 bytes", []it.File{it.Reg("root/.docker/config.json", `{"credHelpers":{`+strings.Repeat(`"r.example":"x",`, 60)+`"z":"y"},"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}`)}, "credentials-file@0 /root/.docker/config.json"},
		{"aws key ID in credentials", []it.File{it.Reg("root/.aws/credentials", "[default]\naws_access_key_id = "+awsID+"\n")}, "credentials-file@0 /root/.aws/credentials"},
		{"a token in a config file", []it.File{it.Reg("app/settings.yml", "stripe:\n  key: "+stripeSK+"\n")}, "known-token@0 /app/settings.yml"},
		{"a token in a script", []it.File{it.Reg("usr/local/bin/deploy.sh", "#!/bin/sh\ncurl -H 'PRIVATE-TOKEN: "+glToken+"' https://gitlab.example/api\n")}, "known-token@0 /usr/local/bin/deploy.sh"},
		{"a token in git config", []it.File{it.Reg("src/.git/config", "[remote \"origin\"]\n\turl = https://x:"+ghToken+"@github.com/o/r\n")}, "known-token@0 /src/.git/config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{Layers: [][]byte{it.Layer(tc.files...)}, User: "app"}
			if got := strings.Join(brief(analyse(t, img, nil).Findings), "|"); got != tc.want {
				t.Errorf("findings %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNoTokenFalseAlarms: each of these fails a pipeline if flagged.
func TestNoTokenFalseAlarms(t *testing.T) {
	tests := []struct {
		name string
		file it.File
	}{
		{"a test fixture in node_modules", it.Reg("app/node_modules/@octokit/auth-token/test/fixtures.js", "module.exports = {token: '"+ghToken+"'}\n")},
		{"a gem's test", it.Reg("usr/local/bundle/gems/aws-sdk-core-3.0/spec/creds.rb", "ID = '"+awsID+"'\n")},
		{"docs", it.Reg("usr/share/doc/tool/README", "export TOKEN="+npmTok+"\n")},
		{"past the first 512 bytes of a plain file", it.Reg("app/notes.md", lines("Some long notes about the project and how it is deployed.", 20, ghToken))},
		{"a binary", it.Reg("app/server", "\x7fELF\x02\x01\x01\x00\x00"+ghToken)},
		{"an example env file", it.Reg("app/.env.example", "GITHUB_TOKEN="+ghToken+"\n")},
		{"placeholders", it.Reg("app/README.md", "Set GH=ghp_"+strings.Repeat("x", 36)+" and AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE; test keys are sk_test_"+strings.Repeat("a1", 20)+"\n")},
		{"a look-alike in a longer word", it.Reg("app/ids.txt", "build_"+ghToken+"\nx"+awsID+"9\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{Layers: [][]byte{it.Layer(tc.file)}, User: "app"}
			if got := analyse(t, img, nil).Findings; len(got) > 0 {
				t.Errorf("false alarm %v", brief(got))
			}
		})
	}
}
