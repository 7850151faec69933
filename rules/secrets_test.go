package rules_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/dockerfile"
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
	googleK  = "AI" + "zaKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWt"
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
		{"npmrc quoted literal", []it.File{it.Reg("root/.npmrc", "//registry.npmjs.org/:_authToken=\"s3cr3t-literal\"\n")}, "credentials-file@0 /root/.npmrc"},
		{"npmrc token by shape on line 40", []it.File{it.Reg("root/.npmrc", lines(npmrcFiller, 39, "; the old one: "+npmTok))}, "credentials-file@0 /root/.npmrc"},
		{"netrc past 512 bytes", []it.File{it.Reg("root/.netrc", lines("machine a.example login me", 30, "machine b.example login me password "+glToken))}, "credentials-file@0 /root/.netrc"},
		{"dotenv token under a plain name", []it.File{it.Reg("app/.env", lines("PORT=8080", 80, "GH="+ghToken))}, "credentials-file@0 /app/.env"},
		{"docker config past 512 bytes", []it.File{it.Reg("root/.docker/config.json", `{"credHelpers":{`+strings.Repeat(`"r.example":"x",`, 60)+`"z":"y"},"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}`)}, "credentials-file@0 /root/.docker/config.json"},
		{"aws key ID in credentials", []it.File{it.Reg("root/.aws/credentials", "[default]\naws_access_key_id = "+awsID+"\n")}, "credentials-file@0 /root/.aws/credentials"},
		{"a token in a config file", []it.File{it.Reg("app/settings.yml", "stripe:\n  key: "+stripeSK+"\n")}, "known-token@0 /app/settings.yml"},
		{"a token in a script", []it.File{it.Reg("usr/local/bin/deploy.sh", "#!/bin/sh\ncurl -H 'PRIVATE-TOKEN: "+glToken+"' https://gitlab.example/api\n")}, "known-token@0 /usr/local/bin/deploy.sh"},
		{"a Google key in server code", []it.File{it.Reg("app/server.js", "const maps = new Client({key: '"+googleK+"'})\n")}, "known-token@0 /app/server.js"},
		{"a Google key in a settings file", []it.File{it.Reg("app/config/settings.json", `{"mapsKey": "`+googleK+`"}`)}, "known-token@0 /app/config/settings.json"},
		// dist/ and build/ hold a server's compiled code as often as a
		// frontend's: only a served root or folder exempts a Google key.
		{"a Google key in NestJS dist", []it.File{it.Reg("usr/src/app/dist/main.js", "const GEMINI_API_KEY = \""+googleK+"\";\n")}, "known-token@0 /usr/src/app/dist/main.js"},
		{"a Google key in tsc build", []it.File{it.Reg("app/build/services/ai.js", "exports.key = '"+googleK+"';\n")}, "known-token@0 /app/build/services/ai.js"},
		{"a Google key in a server's js folder", []it.File{it.Reg("app/js/worker.js", "const k = '"+googleK+"';\n")}, "known-token@0 /app/js/worker.js"},
		{"a Google key in a server chunk", []it.File{it.Reg("app/dist/server/42.chunk.js", "k:\""+googleK+"\"\n")}, "known-token@0 /app/dist/server/42.chunk.js"},
		{"a GitHub token in a web bundle", []it.File{it.Reg("app/static/js/main.1a2b3c4d.js", "fetch(u,{headers:{authorization:'token "+ghToken+"'}})\n")}, "known-token@0 /app/static/js/main.1a2b3c4d.js"},
		{"a token in git config", []it.File{it.Reg("src/.git/config", "[remote \"origin\"]\n\turl = https://x:"+ghToken+"@github.com/o/r\n")}, "known-token@0 /src/.git/config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{Layers: [][]byte{it.Layer(tc.files...)}, User: "10001"}
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
		// Google API keys are sent to every browser that loads the page.
		{"a Google key in a React bundle", it.Reg("app/static/js/main.1a2b3c4d.js", "!function(){var e={apiKey:\""+googleK+"\",authDomain:\"x.firebaseapp.com\"}}();\n")},
		{"a Google key in nginx's html", it.Reg("usr/share/nginx/html/assets/index-4f3a.js", "const k=\""+googleK+"\";\n")},
		{"a Google key in a page", it.Reg("srv/www/index.html", "<script src=\"https://maps.googleapis.com/maps/api/js?key="+googleK+"\"></script>\n")},
		{"a Google key in a minified script", it.Reg("opt/app/web/app.min.js", "var k='"+googleK+"';\n")},
		{"a Google key in dist under nginx's root", it.Reg("usr/share/nginx/html/dist/main.js", "const k=\""+googleK+"\";\n")},
		{"a Google key in var/www build", it.Reg("var/www/app/build/main.js", "const k=\""+googleK+"\";\n")},
		{"a Google key in httpd's root", it.Reg("usr/share/httpd/app.js", "const k=\""+googleK+"\";\n")},
		{"a Google key in a public folder of dist", it.Reg("app/dist/public/main.js", "const k=\""+googleK+"\";\n")},
		{"a Google key in a source map in dist", it.Reg("app/dist/main.js.map", "{\"sourcesContent\":[\"k='"+googleK+"'\"]}\n")},
		{"a Google key in a Next.js chunk", it.Reg("app/.next/static/chunks/pages/_app-8f1e.js", "k:\""+googleK+"\"\n")},
		{"an npmrc that quotes a reference", it.Reg("app/.npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=\"${NPM_TOKEN}\"\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{Layers: [][]byte{it.Layer(tc.file)}, User: "10001"}
			if got := analyse(t, img, nil).Findings; len(got) > 0 {
				t.Errorf("false alarm %v", brief(got))
			}
		})
	}
}

// TestSecretsNeverShown: secrets in history (build arguments with spaces,
// quoted assignments, comments, tokens), in Env and in labels are each
// reported, and no value shows in the text or the JSON report.
func TestSecretsNeverShown(t *testing.T) {
	img := it.Image{
		Layers: [][]byte{it.Layer(it.Reg("bin/sh", "sh")), it.Layer(it.Reg("app/x", "x")), it.Layer(it.Reg("app/y", "y")), it.Layer(it.Reg("app/z", "z"))},
		History: []it.History{
			{CreatedBy: "ADD rootfs.tar / # buildkit"},
			{CreatedBy: "|1 DB_PASSWORD=battery staple words /bin/sh -c make"},
			{CreatedBy: `RUN /bin/sh -c echo "NPM_TOKEN=quoted-npm-secret" > .npmrc && git clone https://` + ghToken + `@github.com/o/r # buildkit`, Comment: "pushed with " + glToken},
			{CreatedBy: "ENV DEPLOY=" + stripeSK + " # buildkit", EmptyLayer: true},
			{CreatedBy: "RUN |2 API_TOKEN=correct horse VERSION=1.2 /bin/sh -c ./build # buildkit", Comment: "built with SIGNING_KEY=comment-signing-secret"},
		},
		Env:    []string{"DEPLOY=" + stripeSK, "AWS_KEY=" + awsID, "PATH=/usr/bin"},
		Labels: map[string]string{"org.example.ci-token": npmTok, "org.opencontainers.image.version": "1.2"},
		User:   "10001",
	}
	r := analyse(t, img, nil)
	want := []string{
		"secret-env@1 DB_PASSWORD is recorded in the build history with its value",
		"secret-env@2 NPM_TOKEN is recorded in the build history with its value",
		"secret-env@2 a GitHub token is recorded in the build history",
		"secret-env@2 a GitLab token is recorded in a history comment",
		"secret-env@2 DEPLOY holds a Stripe live key, recorded in the build history",
		"secret-env@3 API_TOKEN is recorded in the build history with its value",
		"secret-env@3 the value of SIGNING_KEY is recorded in a history comment",
		"secret-env@3 ENV AWS_KEY holds an AWS access key ID, set for anyone who pulls the image",
		"secret-env@3 label \"org.example.ci-token\" holds an npm token",
	}
	var got []string
	for _, f := range r.Findings {
		_, msg, _ := strings.Cut(f.Message, ": ")
		got = append(got, f.Rule+"@"+string(rune('0'+f.Layer))+" "+msg)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantLayers := []string{
		"ADD rootfs.tar /",
		"RUN |1 DB_PASSWORD=<redacted> make",
		`RUN echo "NPM_TOKEN=<redacted>" > .npmrc && git clone https://<redacted>@github.com/o/r`,
		"RUN |2 API_TOKEN=<redacted> VERSION=1.2 ./build",
	}
	for i, l := range r.Layers {
		if l.CreatedBy != wantLayers[i] {
			t.Errorf("layer %d: %q, want %q", i, l.CreatedBy, wantLayers[i])
		}
	}
	if r.Layers[2].Comment != "pushed with <redacted>" || r.Layers[3].Comment != "built with SIGNING_KEY=<redacted>" {
		t.Errorf("comments %q, %q", r.Layers[2].Comment, r.Layers[3].Comment)
	}

	var text, js bytes.Buffer
	if err := r.WriteText(&text, 200); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"battery", "staple", "words", "quoted-npm-secret", "correct", "horse", "comment-signing-secret",
		ghToken[4:], npmTok[4:], awsID[4:], glToken[6:], stripeSK[8:]} {
		for form, out := range map[string]string{"text": text.String(), "JSON": js.String()} {
			if strings.Contains(out, v) {
				t.Errorf("the %s report shows a secret: %q", form, v)
			}
		}
	}
}

// TestArgSecretLine: a secret in an ARG (a history entry that makes no
// layer) names the Dockerfile line of the RUN that recorded it, not the
// line of the layer before the ARG.
func TestArgSecretLine(t *testing.T) {
	const dockerfileText = `FROM scratch
COPY app /app
RUN ./build
ARG DB_PASSWORD=hunter2
COPY conf /conf
RUN ./install
ARG API_TOKEN=s3cr3t-unused
CMD ["/app"]
`
	layers := [][]byte{it.Layer(it.Reg("app", "a")), it.Layer(it.Reg("b", "b")), it.Layer(it.Reg("conf", "c")), it.Layer(it.Reg("i", "i"))}
	tests := []struct {
		name    string
		history []it.History
	}{
		{"buildkit", []it.History{
			{CreatedBy: "COPY app /app # buildkit"},
			{CreatedBy: "RUN /bin/sh -c ./build # buildkit"},
			{CreatedBy: "ARG DB_PASSWORD=hunter2", EmptyLayer: true},
			{CreatedBy: "COPY conf /conf # buildkit"},
			{CreatedBy: "RUN |1 DB_PASSWORD=hunter2 /bin/sh -c ./install # buildkit"},
			{CreatedBy: "ARG API_TOKEN=s3cr3t-unused", EmptyLayer: true},
			{CreatedBy: `CMD ["/app"]`, EmptyLayer: true},
		}},
		{"legacy", []it.History{
			{CreatedBy: "/bin/sh -c #(nop) COPY file:0a1b2c in /app "},
			{CreatedBy: "/bin/sh -c ./build"},
			{CreatedBy: "/bin/sh -c #(nop)  ARG DB_PASSWORD=hunter2", EmptyLayer: true},
			{CreatedBy: "/bin/sh -c #(nop) COPY file:0d1e2f in /conf "},
			{CreatedBy: "|1 DB_PASSWORD=hunter2 /bin/sh -c ./install"},
			{CreatedBy: "/bin/sh -c #(nop)  ARG API_TOKEN=s3cr3t-unused", EmptyLayer: true},
			{CreatedBy: `/bin/sh -c #(nop)  CMD ["/app"]`, EmptyLayer: true},
		}},
	}
	df, err := dockerfile.Parse(strings.NewReader(dockerfileText))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyse(t, it.Image{Layers: layers, History: tc.history, User: "10001"}, nil)
			steps := make([]dockerfile.Step, len(tc.history))
			for i, h := range tc.history {
				steps[i] = dockerfile.Step{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer}
			}
			lines, err := df.MatchLayers(steps, len(r.Layers))
			if err != nil {
				t.Fatal(err)
			}
			r.Locate("Dockerfile", lines)
			var got []string
			for _, f := range r.Findings {
				if f.Rule == "secret-env" {
					got = append(got, fmt.Sprintf("%s@%d line %d", f.CreatedBy, f.Layer, f.Line))
				}
			}
			// DB_PASSWORD: the RUN that records it (line 6), not the RUN
			// before the ARG (line 3) nor the COPY after it (line 5).
			// API_TOKEN: no layer follows, the last one.
			want := []string{"ARG DB_PASSWORD=<redacted>@3 line 6", "ARG API_TOKEN=<redacted>@3 line 6"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("secret-env findings %q, want %q", got, want)
			}
		})
	}
}

// TestInnerSecretInEnv: an ENV whose value holds NAME=value pairs of its
// own (ENV OPTS="-Dx=1 DB_PASSWORD=…", recorded unquoted), and a secret
// ENV value that holds " x=y": the secret is reported and never shown.
func TestInnerSecretInEnv(t *testing.T) {
	tests := []struct {
		name, createdBy, env, hidden string
		want                         []string
	}{
		{"inner secret", "ENV OPTS=-Dx=1 DB_PASSWORD=hunter2 # buildkit", "OPTS=-Dx=1 DB_PASSWORD=hunter2", "hunter2",
			[]string{"secret-env@0 DB_PASSWORD is recorded in the build history with its value", "secret-env@0 ENV OPTS holds the value of DB_PASSWORD, set for anyone who pulls the image"}},
		{"secret holding x=y", "/bin/sh -c #(nop)  ENV DB_PASSWORD=pa ss=w0rdpart", "DB_PASSWORD=pa ss=w0rdpart", "w0rdpart",
			[]string{"secret-env@0 DB_PASSWORD is recorded in the build history with its value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{
				Layers:  [][]byte{it.Layer(it.Reg("bin/sh", "sh"))},
				History: []it.History{{CreatedBy: "ADD rootfs.tar / # buildkit"}, {CreatedBy: tc.createdBy, EmptyLayer: true}},
				Env:     []string{tc.env},
				User:    "10001",
			}
			r := analyse(t, img, nil)
			var got []string
			for _, f := range r.Findings {
				_, msg, _ := strings.Cut(f.Message, ": ")
				got = append(got, fmt.Sprintf("%s@%d %s", f.Rule, f.Layer, msg))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var text, js bytes.Buffer
			if err := r.WriteText(&text, 200); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(text.String(), tc.hidden) || strings.Contains(js.String(), tc.hidden) {
				t.Errorf("a report shows %q", tc.hidden)
			}
		})
	}
}
