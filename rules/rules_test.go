package rules_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/config"
	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

// analyse runs an image through the whole pipeline and returns its report
// with findings.
func analyse(t *testing.T, img it.Image, set *rules.Set) *report.Report {
	t.Helper()
	r, _, err := analysis.Run(context.Background(), "-", analysis.Options{Image: image.Options{Stdin: bytes.NewReader(it.Tar(it.DockerArchive(img)))}, Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// brief is a finding in one line: rule@layer and its paths.
func brief(fs []report.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s@%d %s", f.Rule, f.Layer, strings.Join(f.Paths, ",")))
	}
	return out
}

func TestSample(t *testing.T) {
	got := brief(analyse(t, it.Sample(), nil).Findings)
	want := []string{
		"private-key@2 /src/deploy_key",
		"credentials-file@2 /src/.env",
		"secret-env@3 ",
		"go-toolchain@1 /usr/local/go",
		"go-build-cache@3 /root/.cache/go-build",
		"go-build-cache@3 /root/go/pkg/mod",
		"vcs-folder@2 /src/.git",
		"apt-cache@1 /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
		"apt-cache@1 /var/cache/apt/pkgcache.bin",
		"source-code@2 /src/server.go,/src/main.go",
		"build-files@2 /src/go.sum,/src/Dockerfile,/src/go.mod",
		"run-as-root@5 ",
		"metadata-only@3 /app/server",
		"removed-later@1 /var/cache/apt/archives/golang-1.22_amd64.deb",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

var passwd = it.Reg("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnode:x:1001:1001::/home/node:/bin/sh\n")

// Precision matters more than recall: these images must draw no finding.
func TestNoFalseAlarms(t *testing.T) {
	tests := []struct {
		name string
		img  it.Image
	}{{
		name: "multi-stage from scratch: one static binary and a USER",
		img: it.Image{Layers: [][]byte{it.Layer(it.Dir("app/"), it.Chmod(it.Reg("app/server", strings.Repeat("\x7fELF", 1000)), 0o755))},
			History: []it.History{{CreatedBy: "COPY /out/server /app/server # buildkit"}, {CreatedBy: "USER 65532:65532", EmptyLayer: true}},
			User:    "65532:65532"},
	}, {
		name: "a Python app: its runtime, its packages and its .py files",
		img: it.Image{Layers: [][]byte{
			it.Layer(passwd, it.Reg("usr/local/bin/python3.12", "ELF"), it.Reg("usr/local/lib/python3.12/os.py", "import abc"),
				it.Reg("usr/local/include/python3.12/Python.h", "#include"), it.Reg("usr/local/lib/python3.12/config-3.12/Makefile", "all:"),
				it.Reg("usr/local/lib/libpython3.12.a", "!<arch>")),
			it.Layer(it.Reg("usr/local/lib/python3.12/site-packages/yaml/_yaml.c", "/* c */"), it.Reg("usr/local/lib/python3.12/site-packages/yaml/_yaml.h", "#"),
				it.Reg("usr/local/lib/python3.12/site-packages/tests/data/key.pem", "-----BEGIN RSA PRIVATE KEY-----\nMII"),
				it.Reg("usr/local/lib/python3.12/site-packages/certifi/cacert.pem", "-----BEGIN CERTIFICATE-----\nMII")),
			it.Layer(it.Reg("app/main.py", "print('hi')"), it.Reg("app/requirements.txt", "flask"), it.Reg("app/static/app.js", "x"),
				it.Reg("app/.env.example", "API_TOKEN=changeme"), it.Reg("app/.env", "PORT=8080\nDEBUG=1\n"),
				it.Reg("home/app/.ssh/id_ed25519.pub", "ssh-ed25519 AAAA"), it.Reg("app/cert.pem", "-----BEGIN CERTIFICATE-----\n"),
				it.Reg("home/app/.docker/config.json", `{"auths":{},"credsStore":"desktop"}`), it.Reg("home/app/.npmrc", "registry=https://registry.npmjs.org/")),
		},
			History: []it.History{{CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: "ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D PYTHON_VERSION=3.12.1", EmptyLayer: true},
				{CreatedBy: "RUN /bin/sh -c pip install --no-cache-dir -r requirements.txt # buildkit"}, {CreatedBy: "COPY app/ /app # buildkit"}},
			Env:  []string{"GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "PYTHON_VERSION=3.12.1"},
			User: "10001"},
	}, {
		name: "a Node app: TypeScript with no compiled JavaScript beside it, and node_modules",
		img: it.Image{Layers: [][]byte{
			it.Layer(passwd, it.Reg("usr/local/bin/node", "ELF"), it.Reg("usr/local/include/node/node.h", "#")),
			it.Layer(it.Reg("app/package.json", "{}"), it.Reg("app/dist/index.js", "js"), it.Reg("app/src/index.ts", "ts"),
				it.Reg("app/node_modules/lib/index.d.ts", "d"), it.Reg("app/node_modules/lib/index.ts", "t"), it.Reg("app/node_modules/lib/index.js", "j"),
				it.Reg("app/node_modules/native/src/binding.cc", "c"), it.Reg("app/node_modules/native/Makefile", "m")),
		},
			History: []it.History{{CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: "COPY --chown=node:node app /app # buildkit"}},
			User:    "node"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := analyse(t, tc.img, nil).Findings; len(got) > 0 {
				t.Errorf("false alarms:\n%s", strings.Join(brief(got), "\n"))
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----\n"
	tests := []struct {
		name  string
		files []it.File
		want  string
	}{
		{"private key by content, any name", []it.File{it.Reg("app/config/signing.key", key)}, "private-key@0 /app/config/signing.key"},
		{"docker config with auths", []it.File{it.Reg("root/.docker/config.json", `{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}`)}, "credentials-file@0 /root/.docker/config.json"},
		{"npmrc with a token", []it.File{it.Reg("app/.npmrc", "//registry.npmjs.org/:_authToken=npm_abc\n")}, "credentials-file@0 /app/.npmrc"},
		{"aws credentials", []it.File{it.Reg("root/.aws/credentials", "[default]\naws_access_key_id = AKIA\naws_secret_access_key = abc\n")}, "credentials-file@0 /root/.aws/credentials"},
		{"git credentials", []it.File{it.Reg("root/.git-credentials", "https://me:ghp_abc@github.com\n")}, "credentials-file@0 /root/.git-credentials"},
		{"pypirc", []it.File{it.Reg("root/.pypirc", "[pypi]\nusername = __token__\npassword = pypi-abc\n")}, "credentials-file@0 /root/.pypirc"},
		{"dotenv with a secret", []it.File{it.Reg("app/.env.production", "PORT=1\nSTRIPE_SECRET_KEY=sk_live_x\n")}, "credentials-file@0 /app/.env.production"},
		{"a key inside .git is a secret, not vcs", []it.File{it.Reg("app/.git/HEAD", "ref"), it.Reg("app/.git/id_rsa", key)}, "private-key@0 /app/.git/id_rsa|vcs-folder@0 /app/.git"},
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

func TestDeletedSecretStillShips(t *testing.T) {
	img := it.Image{
		Layers: [][]byte{
			it.Layer(it.Reg("bin/sh", "sh")),
			it.Layer(it.Reg("root/.ssh/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")),
			it.Layer(it.Reg("root/.ssh/known_hosts", "github.com ssh-ed25519 AAAA")),
			it.Layer(it.Whiteout("root/.ssh", "id_rsa")),
		},
		User: "10001",
	}
	fs := analyse(t, img, nil).Findings
	if len(fs) != 1 || fs[0].Rule != "private-key" || fs[0].Layer != 1 || !strings.Contains(fs[0].Message, "still shipped in layer 1") {
		t.Fatalf("findings %+v, want one private-key finding in layer 1", brief(fs))
	}
	if fs[0].Severity != rules.Error || fs[0].Bytes != 37 {
		t.Errorf("severity %s bytes %d", fs[0].Severity, fs[0].Bytes)
	}
}

func TestHistorySecrets(t *testing.T) {
	img := it.Image{
		Layers: [][]byte{it.Layer(it.Reg("bin/sh", "sh")), it.Layer(it.Reg("app/x", "x"))},
		History: []it.History{
			{CreatedBy: "ADD rootfs.tar /"},
			{CreatedBy: "ENV DB_PASSWORD=hunter2 # buildkit", EmptyLayer: true},
			{CreatedBy: "RUN |1 NPM_TOKEN=npm_abc /bin/sh -c npm ci # buildkit"},
		},
		Env:  []string{"DB_PASSWORD=hunter2", "AWS_SECRET_ACCESS_KEY=abc", "GPG_KEY=ABCD"},
		User: "10001",
	}
	r := analyse(t, img, nil)
	got := brief(r.Findings)
	want := []string{"secret-env@0 ", "secret-env@1 ", "secret-env@1 "}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	for _, f := range r.Findings {
		for _, s := range []string{"hunter2", "npm_abc", "=abc"} {
			if strings.Contains(f.Message+f.CreatedBy, s) {
				t.Errorf("a secret's value is shown: %+v", f)
			}
		}
	}
}

func TestWasteFindings(t *testing.T) {
	big := strings.Repeat("x", 2_000_000)
	img := it.Image{
		Layers: [][]byte{
			it.Layer(it.Reg("data/big", big), it.Reg("data/keep", "k"), it.Reg("etc/conf", "one")),
			it.Layer(it.Whiteout("", "data")),
			it.Layer(it.Reg("etc/conf", "two")),
		},
		History: []it.History{{CreatedBy: "/bin/sh -c make data"}, {CreatedBy: "/bin/sh -c rm -rf /data"}, {CreatedBy: "/bin/sh -c echo two > /etc/conf"}},
		User:    "10001",
	}
	fs := analyse(t, img, nil).Findings
	if got := brief(fs); !reflect.DeepEqual(got, []string{"removed-later@0 /data/big,/data/keep", "overwritten@0 /etc/conf"}) {
		t.Fatalf("findings %v", got)
	}
	if fs[0].Severity != rules.Warning || fs[0].Bytes != 2_000_001 || !strings.Contains(fs[0].Message, "layer 1 (RUN rm -rf /data)") {
		t.Errorf("removal finding %+v", fs[0])
	}
	if fs[1].Severity != rules.Info {
		t.Errorf("a small overwrite is info, got %s", fs[1].Severity)
	}
}

func TestConfigFindings(t *testing.T) {
	// What a whole-context COPY holds: a manifest beside the source.
	context := []it.File{it.Reg("app/package.json", "{}"), it.Reg("app/requirements.txt", "flask"), it.Reg("app/Gemfile", "gem"), it.Reg("app/main.js", "x")}
	tests := []struct {
		name    string
		copied  []it.File // layer 0, the COPY
		history []it.History
		want    []string
		advice  string
	}{
		{"root by name", nil, []it.History{{CreatedBy: "USER root", EmptyLayer: true}}, []string{"run-as-root@1 "}, ""},
		{"install after COPY . (BuildKit)", context, []it.History{{CreatedBy: "COPY . /app # buildkit"}, {CreatedBy: "RUN /bin/sh -c npm ci # buildkit"}},
			[]string{"install-after-copy@1 "}, "npm ci"},
		{"install after COPY . (legacy builder)", context, []it.History{{CreatedBy: "/bin/sh -c #(nop) COPY dir:0123abcd in /app "}, {CreatedBy: "/bin/sh -c pip install -r requirements.txt"}},
			[]string{"install-after-copy@1 "}, "requirements.txt"},
		{"go get", context, []it.History{{CreatedBy: "/bin/sh -c #(nop) COPY dir:0123abcd in /go/src/x "}, {CreatedBy: "/bin/sh -c go get github.com/foo/bar"}},
			[]string{"install-after-copy@1 "}, "go mod download"},
		{"go install", context, []it.History{{CreatedBy: "COPY ./ /src # buildkit"}, {CreatedBy: "RUN /bin/sh -c go install ./cmd/x # buildkit"}}, []string{"install-after-copy@1 "}, "go.mod"},
		{"bundler", context, []it.History{{CreatedBy: "COPY ./ /opt/myapp # buildkit"}, {CreatedBy: "RUN /bin/sh -c bundle install # buildkit"}}, []string{"install-after-copy@1 "}, "Gemfile"},
		{"composer", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c composer install # buildkit"}}, []string{"install-after-copy@1 "}, "composer.lock"},
		{"cargo", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c cargo build --release # buildkit"}}, []string{"install-after-copy@1 "}, "cargo fetch"},
		{"maven", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c ./mvnw -B package # buildkit"}}, []string{"install-after-copy@1 "}, "go-offline"},
		{"gradle", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c gradle build # buildkit"}}, []string{"install-after-copy@1 "}, "gradle dependencies"},
		{"apt-get install", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c apt-get update && apt-get install -y protobuf-compiler # buildkit"}},
			[]string{"install-after-copy@1 "}, "system packages before"},
		{"yarn with flags is an install", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c yarn --frozen-lockfile && yarn build # buildkit"}},
			[]string{"install-after-copy@1 "}, ""},
		{"yarn build is not an install", context, []it.History{{CreatedBy: "COPY . . # buildkit"}, {CreatedBy: "RUN /bin/sh -c yarn build # buildkit"}}, nil, ""},
		{"lock files first", []it.File{it.Reg("app/package.json", "{}"), it.Reg("app/package-lock.json", "{}")},
			[]it.History{{CreatedBy: "COPY package.json package-lock.json ./ # buildkit"}, {CreatedBy: "RUN /bin/sh -c npm ci # buildkit"}}, nil, ""},
		{"a sub-folder after the lock files (legacy builder)", []it.File{it.Reg("opt/myapp/patches/a.patch", "---")},
			[]it.History{{CreatedBy: "/bin/sh -c #(nop) COPY dir:0123abcd in /opt/myapp/patches/ "}, {CreatedBy: "/bin/sh -c npm install"}}, nil, ""},
		{"from another stage", context, []it.History{{CreatedBy: "COPY --from=build /app /app # buildkit"}, {CreatedBy: "RUN /bin/sh -c npm ci # buildkit"}}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			copied := tc.copied
			if copied == nil {
				copied = []it.File{it.Reg("a", "a")}
			}
			user := "10001"
			if tc.name == "root by name" {
				user = "root"
			}
			img := it.Image{Layers: [][]byte{it.Layer(copied...), it.Layer(it.Reg("b", "b"))}, History: tc.history, User: user}
			fs := analyse(t, img, nil).Findings
			got := brief(fs)
			if len(got) == 0 && tc.want == nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("findings %v, want %v", got, tc.want)
			}
			if !strings.Contains(fs[0].Advice, tc.advice) {
				t.Errorf("advice %q, want it to say %q", fs[0].Advice, tc.advice)
			}
		})
	}
}

func TestDevFilesWithoutCompiler(t *testing.T) {
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("usr/include/zlib.h", "h"), it.Reg("usr/lib/x86_64-linux-gnu/libz.a", "a"))}, User: "10001"}
	if got := brief(analyse(t, img, nil).Findings); !reflect.DeepEqual(got, []string{"c-headers@0 /usr/include", "static-libs@0 /usr/lib/x86_64-linux-gnu/libz.a"}) {
		t.Errorf("findings %v", got)
	}
	img.Layers = append(img.Layers, it.Layer(it.Reg("usr/bin/gcc-12", "ELF"), it.Sym("usr/bin/gcc", "gcc-12")))
	if got := brief(analyse(t, img, nil).Findings); !reflect.DeepEqual(got, []string{"c-compiler@1 /usr/bin/gcc-12,/usr/bin/gcc"}) {
		t.Errorf("with a compiler: findings %v", got)
	}
}

func TestRuleConfig(t *testing.T) {
	set, err := rules.NewSet([]rules.Rule{{ID: "terraform-state", Category: rules.Secret, Severity: rules.Error, Paths: []string{"**/*.tfstate"}, What: "Terraform state", Advice: "keep state remote"}},
		[]string{"vcs-folder"})
	if err != nil {
		t.Fatal(err)
	}
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("infra/prod.tfstate", "{}"), it.Reg("infra/.git/HEAD", "ref"))}, User: "10001"}
	r := analyse(t, img, set)
	if got := brief(r.Findings); !reflect.DeepEqual(got, []string{"terraform-state@0 /infra/prod.tfstate"}) {
		t.Fatalf("findings %v", got)
	}
	r.Ignore([]config.Ignore{{Category: "secret", Path: "/infra/**", Reason: "test fixture"}})
	r.Check(config.Limits{}, false, report.FailOn{Set: []string{"secret"}, From: "default"})
	if r.Findings[0].Ignored != "test fixture" || !r.CI.Pass {
		t.Errorf("an ignored finding failed CI: %+v %+v", r.Findings[0], r.CI)
	}
	for _, bad := range []struct {
		add     []rules.Rule
		disable []string
	}{
		{nil, []string{"no-such-rule"}},
		{[]rules.Rule{{ID: "x", Category: "nope", Severity: rules.Info, Paths: []string{"a"}}}, nil},
		{[]rules.Rule{{ID: "x", Category: rules.Source, Severity: "fatal", Paths: []string{"a"}}}, nil},
		{[]rules.Rule{{ID: "x", Category: rules.Source, Severity: rules.Info, Paths: []string{"a/**/b"}}}, nil},
		{[]rules.Rule{{ID: "private-key", Category: rules.Source, Severity: rules.Info, Paths: []string{"a"}}}, nil},
	} {
		if _, err := rules.NewSet(bad.add, bad.disable); err == nil {
			t.Errorf("NewSet(%+v, %v) accepted", bad.add, bad.disable)
		}
	}
}

// TestNoSecretFalseAlarms: each of these fails a pipeline if flagged.
func TestNoSecretFalseAlarms(t *testing.T) {
	for _, files := range [][]it.File{
		{it.Reg("app/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")},
		{it.Reg("app/.env", "DB_PASSWORD=\nDEBUG=true\n")},
		{it.Reg("root/.pypirc", "[pypi]\npassword =\n[testpypi]\nrepository = x\n")},
		{it.Reg("root/.aws/credentials", "[default]\naws_secret_access_key =\nregion = eu\n")},
		{it.Reg("app/README.md", "Run it and it prints -----BEGIN PRIVATE KEY----- to stdout, which you paste.\n")},
		{it.Reg("var/www/html/vendor/firebase/php-jwt/tests/data/rsa1-private.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")},
		{it.Reg("root/.docker/config.json", `{"auths":{"ghcr.io":{"auth":"$DOCKER_AUTH"}}}`)},
	} {
		img := it.Image{Layers: [][]byte{it.Layer(files...)}, User: "10001"}
		if got := analyse(t, img, nil).Findings; len(got) > 0 {
			t.Errorf("%s: false alarm %v", files[0].Name, brief(got))
		}
	}
	img := it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "a"))}, User: "10001",
		History: []it.History{{CreatedBy: "RUN /bin/sh -c GITHUB_TOKEN=$(cat /run/secrets/gh) ./fetch.sh # buildkit"}},
		Env:     []string{"MYSQL_ALLOW_EMPTY_PASSWORD=yes", "POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_PASSWORD_FILE=/run/secrets/pg"}}
	if got := analyse(t, img, nil).Findings; len(got) > 0 {
		t.Errorf("settings taken for secrets: %v", brief(got))
	}
}

// TestEveryRule gives each path rule of the table an image it must flag,
// and checks that no rule of the table goes untested.
func TestEveryRule(t *testing.T) {
	key := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n"
	cases := map[string][]it.File{
		"private-key":      {it.Reg("etc/ssl/private/site.key", key)},
		"credentials-file": {it.Reg("home/app/.netrc", "machine example.com login me password s3cr3t\n")},
		"known-token":      {it.Reg("app/config.yml", "github:\n  token: "+ghToken+"\n")}, // more in secrets_test.go
		"vcs-folder":       {it.Reg("app/.hg/store/data", "x"), it.Reg("app/main.py", "print()")},
		"go-toolchain":     {it.Reg("usr/lib/go-1.22/bin/go", "ELF")},
		"c-compiler":       {it.Reg("usr/lib/gcc/x86_64-linux-gnu/12/cc1", "ELF")},
		"jdk":              {it.Reg("opt/java/openjdk/bin/javac", "ELF"), it.Reg("opt/java/openjdk/bin/java", "ELF")},
		"rust-toolchain":   {it.Reg("usr/local/rustup/toolchains/stable/bin/rustc", "ELF")},
		"build-tools":      {it.Reg("usr/bin/make", "ELF")},
		"node-gyp":         {it.Reg("root/.cache/node-gyp/20.11.0/include/node/node.h", "h")},
		"apt-cache":        {it.Reg("var/cache/apt/archives/curl_8.5_amd64.deb", "deb")},
		"apk-cache":        {it.Reg("var/cache/apk/APKINDEX.abc.tar.gz", "idx")},
		"dnf-cache":        {it.Reg("var/cache/dnf/fedora.solv", "solv")},
		"pip-cache":        {it.Reg("root/.cache/pip/http/a/b", "whl")},
		"npm-cache":        {it.Reg("root/.npm/_cacache/content-v2/sha512/ab", "tgz")},
		"gem-cache":        {it.Reg("usr/local/bundle/cache/rack-3.0.gem", "gem")},
		"composer-cache":   {it.Reg("root/.composer/cache/files/x.zip", "zip")},
		"go-build-cache":   {it.Reg("root/go/pkg/mod/cache/download/x.zip", "zip")},
		"maven-cache":      {it.Reg("root/.m2/repository/org/x/x.jar", "jar")},
		"gradle-cache":     {it.Reg("home/gradle/.gradle/caches/modules-2/x.jar", "jar")},
		"cargo-cache":      {it.Reg("usr/local/cargo/registry/cache/x.crate", "crate")},
		"ccache":           {it.Reg("root/.ccache/a/b.o", "o")},
		"c-headers":        {it.Reg("usr/include/openssl/ssl.h", "h")},
		"static-libs":      {it.Reg("usr/lib/x86_64-linux-gnu/libssl.a", "a")},
		"pkg-config":       {it.Reg("usr/lib/x86_64-linux-gnu/pkgconfig/openssl.pc", "pc")},
		"source-code":      {it.Reg("workspace/app/src/main/java/App.java", "class App {}")},
		"build-files":      {it.Reg("workspace/app/pom.xml", "<project/>")},
		"context-junk":     {it.Reg("app/.vscode/settings.json", "{}")},
	}
	tested := map[string]bool{"removed-later": true, "metadata-only": true, "overwritten": true, // TestWasteFindings
		"secret-env": true, "run-as-root": true, "install-after-copy": true, // TestHistorySecrets, TestConfigFindings
		"package-db": true, "rewritten-unchanged": true, "user-undefined": true} // TestLeftoversSecondPass
	for id, files := range cases {
		tested[id] = true
		t.Run(id, func(t *testing.T) {
			img := it.Image{Layers: [][]byte{it.Layer(files...)}, User: "10001"}
			fs := analyse(t, img, nil).Findings
			if len(fs) != 1 || fs[0].Rule != id || fs[0].Layer != 0 || fs[0].Advice == "" {
				t.Errorf("findings %v, want one %s finding with advice", brief(fs), id)
			}
		})
	}
	for _, r := range rules.Table {
		if !tested[r.ID] {
			t.Errorf("rule %s has no test", r.ID)
		}
	}
}
