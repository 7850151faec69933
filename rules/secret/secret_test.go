package secret_test

import (
	"strings"
	"testing"
	"time"

	"github.com/layerscope/layerscope/rules/secret"
)

// Token-shaped test values, random, built from parts so that no line of
// this file is a token itself.
const (
	body36  = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
	body36b = "KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR"
	body82  = "IBXuDL7DxtpYlSXpfKtHF4vUCsM_ehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rESQedUStPKR0CsTy4Qw"
	body20  = "c7Tvo-hBKqFYY-kv5ZJr"
	body16  = "3R2WYOJFLJOOA7LQ"
	body35  = "Kas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWt"
	body99  = "Oq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZp0zVZomHFwUbbYrEqmSM9wCZ7Uw9xfo"
	body24  = "goEmvnEN5N1aE6PwZPf1Qh6y"

	ghToken = "ghp" + "_" + body36
	npmTok  = "npm" + "_" + body36b
	awsID   = "AK" + "IA" + body16
)

func TestName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"NPM_TOKEN", true},
		{"GITHUB_TOKEN", true},
		{"DB_PASSWORD", true},
		{"db.password", true},
		{"STRIPE_SECRET_KEY", true},
		{"API_KEY", true},
		{"_authToken", true},
		{"password", true},
		{"AWS_ACCESS_KEY_ID", false},
		{"GPG_KEY", false},
		{"PUBLIC_KEY", false},
		{"POSTGRES_PASSWORD_FILE", false},
		{"MYSQL_ALLOW_EMPTY_PASSWORD", false},
		{"TOKEN_TTL", false},
		// Settings named after what they configure: the last word says
		// they hold a socket, a realm, a role, a duration, a server.
		{"SSH_AUTH_SOCK", false},
		{"REGISTRY_AUTH_HTPASSWD_REALM", false},
		{"GF_AUTH_ANONYMOUS_ORG_ROLE", false},
		{"AIRFLOW__API__AUTH_BACKENDS", false},
		{"TOKEN_EXPIRATION", false},
		{"PASSWORD_RESET_TIMEOUT", false},
		{"KEYCLOAK_AUTH_SERVER", false},
		{"AUTH_ISSUER", false},
		{"PATH", false},
		{"VERSION", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := secret.Name(tc.name); got != tc.want {
				t.Errorf("Name(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"NPM_TOKEN", "npm_abc", true},
		{"DB_USER_PASSWORD", "hunter2", true},
		{"STRIPE_SECRET_KEY", "sk_live_x", true},
		{"NPM_TOKEN", "${NPM_TOKEN}", false},
		{"GITHUB_TOKEN", "$(cat /run/secrets/gh)", false},
		{"MYSQL_ALLOW_EMPTY_PASSWORD", "yes", false},
		{"MYSQL_RANDOM_ROOT_PASSWORD", "1", false},
		{"POSTGRES_HOST_AUTH_METHOD", "trust", false},
		{"POSTGRES_PASSWORD_FILE", "/run/secrets/db", false},
		{"AWS_ACCESS_KEY_ID", "AKIA", false},
		{"GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D", false},
		{"TOKEN_TTL", "3600", false},
		{"SSH_AUTH_SOCK", "/ssh-agent", false},
		{"KEYSTORE_PASSWORD", "changeit", false},
		{"REGISTRY_AUTH", "htpasswd", false},
		{"DOCKER_AUTH", "basic", false},
		{"COMPOSER_AUTH", `{"github-oauth":{"github.com":"x"}}`, true},
		{"PASSWORD", "", false},
		{"PASSWORD", `""`, false},
		{"PASSWORD", secret.Redacted, false},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			if got := secret.Value(tc.name, tc.value); got != tc.want {
				t.Errorf("Value(%s, %s) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

// found writes what redaction hid in one line: NAME, NAME(kind) or (kind).
func found(fs []secret.Found) string {
	var out []string
	for _, f := range fs {
		s := f.Name
		if f.Kind != "" {
			s += "(" + f.Kind + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func TestInstruction(t *testing.T) {
	tests := []redactCase{
		// What the builders write, cleaned up.
		{"legacy shell form", "/bin/sh -c apt-get update", "RUN apt-get update", ""},
		{"legacy nop", "/bin/sh -c #(nop)  CMD [\"sh\"]", `CMD ["sh"]`, ""},
		{"legacy copy", "/bin/sh -c #(nop) COPY file:0a1b2c in /app ", "COPY file:0a1b2c in /app", ""},
		{"legacy copy hash shortened", "/bin/sh -c #(nop) COPY file:f39c792148bd684503e7f0a3ce4fb0e7f8ad3ea3fd2f13f21b1ed5f6b14bc06b in /data/f1 ", "COPY file:f39c79… in /data/f1", ""},
		{"legacy add dir hash shortened", "/bin/sh -c #(nop) ADD dir:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef in /opt/app/ ", "ADD dir:012345… in /opt/app/", ""},
		{"legacy multi-source copy", "/bin/sh -c #(nop) COPY multi:aaaaaa0123456789abcdef0123456789abcdef0123456789abcdef0123456789 in /app/ ", "COPY multi:aaaaaa… in /app/", ""},
		{"a hash-like word elsewhere stays", "/bin/sh -c echo file:f39c792148bd684503e7f0a3ce4fb0e7f8ad3ea3fd2f13f21b1ed5f6b14bc06b", "RUN echo file:f39c792148bd684503e7f0a3ce4fb0e7f8ad3ea3fd2f13f21b1ed5f6b14bc06b", ""},
		{"buildkit run", "RUN /bin/sh -c make && rm -rf /src # buildkit", "RUN make && rm -rf /src", ""},
		{"buildkit copy", "COPY . /src # buildkit", "COPY . /src", ""},
		{"empty", "", "", ""},

		// Build arguments: N pairs, values with spaces.
		{"legacy arg", "|1 NPM_TOKEN=abc123 /bin/sh -c npm ci", "RUN |1 NPM_TOKEN=<redacted> npm ci", "NPM_TOKEN"},
		{"buildkit args", "RUN |2 VERSION=1.2 GITHUB_TOKEN=ghp_x /bin/sh -c make # buildkit", "RUN |2 VERSION=1.2 GITHUB_TOKEN=<redacted> make", "GITHUB_TOKEN"},
		{"legacy value with spaces", "|1 DB_PASSWORD=battery staple words /bin/sh -c make", "RUN |1 DB_PASSWORD=<redacted> make", "DB_PASSWORD"},
		{"buildkit value with spaces", "RUN |1 DB_PASSWORD=battery staple words /bin/sh -c make # buildkit", "RUN |1 DB_PASSWORD=<redacted> make", "DB_PASSWORD"},
		{"two values with spaces", "|2 DB_PASSWORD=a b c NPM_TOKEN=d e /bin/sh -c make", "RUN |2 DB_PASSWORD=<redacted> NPM_TOKEN=<redacted> make", "DB_PASSWORD,NPM_TOKEN"},
		{"plain values with spaces stay", "|2 GREETING=hello world VERSION=1.2 /bin/sh -c make", "RUN |2 GREETING=hello world VERSION=1.2 make", ""},
		{"a secret value holding NAME=", "|2 DB_PASSWORD=a B=c NPM_TOKEN=d /bin/sh -c make", "RUN |2 DB_PASSWORD=<redacted> make", "DB_PASSWORD,NPM_TOKEN"},
		{"a secret value holding the shell", "|1 DB_PASSWORD=x /bin/sh -c y /bin/sh -c make", "RUN |1 DB_PASSWORD=<redacted> make", "DB_PASSWORD"},
		{"a setting keeps its command", "|1 MYSQL_RANDOM_ROOT_PASSWORD=1 /bin/sh -c su -s /bin/sh -c x app", "RUN |1 MYSQL_RANDOM_ROOT_PASSWORD=1 su -s /bin/sh -c x app", ""},
		{"another shell", "RUN |1 API_TOKEN=a b /bin/bash -o pipefail -c make # buildkit", "RUN |1 API_TOKEN=<redacted> /bin/bash -o pipefail -c make", "API_TOKEN"},
		{"windows", "|1 API_TOKEN=a b cmd /S /C build.bat", "RUN |1 API_TOKEN=<redacted> cmd /S /C build.bat", "API_TOKEN"},
		{"exec form, a secret runs to the end", "|1 NPM_TOKEN=abc npm ci", "RUN |1 NPM_TOKEN=<redacted>", "NPM_TOKEN"},
		{"exec form, plain", "RUN |1 VERSION=1.2 echo hi # buildkit", "RUN |1 VERSION=1.2 echo hi", ""},
		{"no arguments", "|0 /bin/sh -c make", "RUN |0 make", ""},
		{"fewer names than the count", "|3 DB_PASSWORD=a b /bin/sh -c make", "RUN |3 DB_PASSWORD=<redacted>", "DB_PASSWORD"},
		{"a reference is no secret", "|1 NPM_TOKEN=$NPM_TOKEN /bin/sh -c npm ci", "RUN |1 NPM_TOKEN=$NPM_TOKEN npm ci", ""},

		// ENV, LABEL and ARG: values unquoted, to the next name.
		{"env", "/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2 PATH=/usr/bin", "ENV DB_PASSWORD=<redacted> PATH=/usr/bin", "DB_PASSWORD"},
		{"env with spaces", "ENV DB_PASSWORD=battery staple PATH=/usr/bin # buildkit", "ENV DB_PASSWORD=<redacted> PATH=/usr/bin", "DB_PASSWORD"},
		{"gpg key", "ENV GPG_KEY=B26995E310250568 # buildkit", "ENV GPG_KEY=B26995E310250568", ""},
		{"key id", "ENV AWS_ACCESS_KEY_ID=AKIA", "ENV AWS_ACCESS_KEY_ID=AKIA", ""},
		{"empty arg", "ARG API_KEY=", "ARG API_KEY=", ""},
		{"env with an inner secret", "ENV OPTS=-Dx=1 DB_PASSWORD=hunter2 # buildkit", "ENV OPTS=-Dx=1 DB_PASSWORD=<redacted>", "DB_PASSWORD"},
		{"legacy env with an inner secret", "/bin/sh -c #(nop)  ENV OPTS=-Dx=1 DB_PASSWORD=hunter2 -Dy=2", "ENV OPTS=-Dx=1 DB_PASSWORD=<redacted>", "DB_PASSWORD"},
		{"env with an inner option", "ENV JAVA_OPTS=-Xmx1g -Ddb.password=hunter2 -Dz=1 # buildkit", "ENV JAVA_OPTS=-Xmx1g -Ddb.password=<redacted> -Dz=1", "Ddb.password"},
		{"a secret env value holding x=y", "ENV DB_PASSWORD=pa ss=word PATH=/usr/bin # buildkit", "ENV DB_PASSWORD=<redacted> PATH=/usr/bin", "DB_PASSWORD"},
		{"a secret env value holding x=y last", "/bin/sh -c #(nop)  ENV API_TOKEN=a b=c d", "ENV API_TOKEN=<redacted>", "API_TOKEN"},
		{"a proxy after a secret", "ENV API_KEY=abc http_proxy=http://proxy:3128 # buildkit", "ENV API_KEY=<redacted> http_proxy=http://proxy:3128", "API_KEY"},
		{"a label after a secret label", "LABEL ci.token=abc org.opencontainers.image.version=1.2 # buildkit", "LABEL ci.token=<redacted> org.opencontainers.image.version=1.2", "ci.token"},
		{"label with a token", "LABEL gh=" + ghToken + " # buildkit", "LABEL gh=<redacted>", "gh(a GitHub token)"},

		// Assignments wherever they stand.
		{"after a quote", `RUN /bin/sh -c echo "NPM_TOKEN=npm_abc" > .npmrc # buildkit`, `RUN echo "NPM_TOKEN=<redacted>" > .npmrc`, "NPM_TOKEN"},
		{"quoted with spaces", `/bin/sh -c echo 'DB_PASSWORD=a b c' >> .env`, `RUN echo 'DB_PASSWORD=<redacted>' >> .env`, "DB_PASSWORD"},
		{"inside a command", "/bin/sh -c make && NPM_TOKEN=xyz npm ci", "RUN make && NPM_TOKEN=<redacted> npm ci", "NPM_TOKEN"},
		{"inside sh -c", `/bin/sh -c sh -c "FOO=1 NPM_TOKEN=xyz npm ci"`, `RUN sh -c "FOO=1 NPM_TOKEN=<redacted>"`, "NPM_TOKEN"},
		{"an option", "/bin/sh -c mysql --password=hunter2 db", "RUN mysql --password=<redacted> db", "password"},
		{"npm config", "/bin/sh -c npm config set //registry.npmjs.org/:_authToken=abc", "RUN npm config set //registry.npmjs.org/:_authToken=<redacted>", "_authToken"},
		{"a URL query", "/bin/sh -c curl https://x.invalid/?access_token=abc&page=1", "RUN curl https://x.invalid/?access_token=<redacted>&page=1", "access_token"},
		{"a command substitution", "RUN /bin/sh -c GITHUB_TOKEN=$(cat /run/secrets/gh) ./fetch.sh # buildkit", "RUN GITHUB_TOKEN=$(cat /run/secrets/gh) ./fetch.sh", ""},
		{"a sed expression", `/bin/sh -c sed -i 's/PASSWORD=.*/PASSWORD=x/' f`, `RUN sed -i 's/PASSWORD=.*/PASSWORD=x/' f`, ""},

		// Tokens by their shape, whatever the name.
		{"a token in a URL", "/bin/sh -c git clone https://" + ghToken + "@github.com/x/y", "RUN git clone https://<redacted>@github.com/x/y", "(a GitHub token)"},
		{"a token under a plain name", "|1 REGISTRY=" + npmTok + " /bin/sh -c npm ci", "RUN |1 REGISTRY=<redacted> npm ci", "REGISTRY(an npm token)"},
		{"a private key", `ENV KEY=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- # buildkit`, "ENV KEY=<redacted>", "(a private key)"},

		// A RUN's first command takes the secret, in both builders' forms.
		{"buildkit chpasswd first", `RUN /bin/sh -c echo 'root:hunter2' | chpasswd # buildkit`, `RUN echo 'root:<redacted>' | chpasswd`, "(a secret on a command line)"},
		{"legacy mysql first", `/bin/sh -c mysql -uroot -phunter2 -e 'select 1'`, `RUN mysql -uroot -p<redacted> -e 'select 1'`, "(a secret on a command line)"},
		{"buildkit curl first", "RUN /bin/sh -c curl -u admin:hunter2 https://x.invalid/ # buildkit", "RUN curl -u admin:<redacted> https://x.invalid/", "(a secret on a command line)"},
		{"legacy htpasswd first", "/bin/sh -c htpasswd -Bbc /etc/pw admin hunter2", "RUN htpasswd -Bbc /etc/pw admin <redacted>", "(a secret on a command line)"},
		{"sshpass first", "RUN /bin/sh -c sshpass -p hunter2 ssh h # buildkit", "RUN sshpass -p <redacted> ssh h", "(a secret on a command line)"},
		{"aws first", "/bin/sh -c aws configure set aws_secret_access_key hunter2", "RUN aws configure set aws_secret_access_key <redacted>", "(a secret on a command line)"},
		{"npm first", "RUN /bin/sh -c npm config set //r.example/:_authToken hunter2 # buildkit", "RUN npm config set //r.example/:_authToken <redacted>", "(a secret on a command line)"},
		{"buildkit args, curl first", "RUN |1 X=y /bin/sh -c curl -u admin:hunter2 x # buildkit", "RUN |1 X=y curl -u admin:<redacted> x", "(a secret on a command line)"},
		{"legacy args, curl first", "|1 X=y /bin/sh -c curl -u admin:hunter2 x", "RUN |1 X=y curl -u admin:<redacted> x", "(a secret on a command line)"},
		{"another shell, curl first", "RUN |1 X=y /bin/bash -o pipefail -c curl -u admin:hunter2 x # buildkit", "RUN |1 X=y /bin/bash -o pipefail -c curl -u admin:<redacted> x", "(a secret on a command line)"},
		{"legacy other shell, curl first", "/bin/bash -o pipefail -c curl -u admin:hunter2 x", "/bin/bash -o pipefail -c curl -u admin:<redacted> x", "(a secret on a command line)"},
		{"buildkit exec form, curl first", "RUN curl -u admin:hunter2 x # buildkit", "RUN curl -u admin:<redacted> x", "(a secret on a command line)"},
		{"ssh -p first stays", "RUN /bin/sh -c ssh -p 22 h # buildkit", "RUN ssh -p 22 h", ""},
	}
	checkRedact(t, secret.Instruction, tests, true)
}

func TestRedact(t *testing.T) {
	tests := []redactCase{
		{"an option inside a value", "JAVA_OPTS=-Dspring.datasource.password=hunter2 java -jar app.jar", "JAVA_OPTS=-Dspring.datasource.password=<redacted> java -jar app.jar", "Dspring.datasource.password"},
		{"a long option inside a value", "OPTS=--password=hunter2", "OPTS=--password=<redacted>", "password"},
		{"adduser's switch", "adduser --disabled-password --gecos '' app", "adduser --disabled-password --gecos '' app", ""},
		{"a password flag", "mysql -u app --password hunter2 db", "mysql -u app --password <redacted> db", "(a secret on a command line)"},
		{"a token flag", "gh auth login --with-token x && tool --api-key k3y --db-password s3cr3t", "gh auth login --with-token x && tool --api-key <redacted> --db-password <redacted>", "(a secret on a command line),(a secret on a command line)"},
		{"a flag with a reference", `mysql --password "$DB_PASSWORD" && login --token ${TOKEN}`, `mysql --password "$DB_PASSWORD" && login --token ${TOKEN}`, ""},
		{"a flag followed by another flag", "tool --password --stdin", "tool --password --stdin", ""},
		{"a password flag without a value word", "passwd --password-file /run/secrets/pw", "passwd --password-file /run/secrets/pw", ""},
		{"a bearer header", `curl -H "Authorization: Bearer eyJhbGciOi.x.y" https://api`, `curl -H "Authorization: Bearer <redacted>" https://api`, "(an Authorization header)"},
		{"a netrc line", `printf 'machine git.example.com login u password netrcsecret\n' > ~/.netrc`, `printf 'machine git.example.com login u password <redacted>\n' > ~/.netrc`, "(a netrc password)"},
		{"a netrc line with a reference", `printf 'machine h login u password %s' "$PW"`, `printf 'machine h login u password %s' "$PW"`, ""},
		{"the word password in prose", "echo reset the password later", "echo reset the password later", ""},
		{"a comment", "built with NPM_TOKEN=abc by ci", "built with NPM_TOKEN=<redacted> by ci", "NPM_TOKEN"},
		{"a comment with a token", "token " + awsID + " rotated", "token <redacted> rotated", "(an AWS access key ID)"},
		{"buildkit's comment", "buildkit.dockerfile.v0", "buildkit.dockerfile.v0", ""},
		{"json", `{"env":["API_KEY=abc def"]}`, `{"env":["API_KEY=<redacted>"]}`, "API_KEY"},
		{"unclosed quote hides to the end", `echo "DB_PASSWORD=abc def`, `echo "DB_PASSWORD=<redacted>`, "DB_PASSWORD"},
		{"a word with quotes", `DB_PASSWORD=ab"c d"e f`, `DB_PASSWORD=<redacted> f`, "DB_PASSWORD"},
		{"two keys", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY----- and -----BEGIN EC PRIVATE KEY-----\nBBBB", "<redacted> and <redacted>", "(a private key),(a private key)"},
		{"a key header quoted in text", "grep -q 'BEGIN RSA PRIVATE KEY' f", "grep -q 'BEGIN RSA PRIVATE KEY' f", ""},
		{"a public key", "-----BEGIN PUBLIC KEY-----\nMIIB", "-----BEGIN PUBLIC KEY-----\nMIIB", ""},
		{"a password in a clone URL", "git clone https://oauth2:hunter2tok@gitlab.example.com/a/b.git", "git clone https://oauth2:<redacted>@gitlab.example.com/a/b.git", "(a password in a URL)"},
		{"a password in a database URL", `psql "postgres://app:s3cr3t@db:5432/app"`, `psql "postgres://app:<redacted>@db:5432/app"`, "(a password in a URL)"},
		{"Java's published default truststore password", "-Djavax.net.ssl.trustStorePassword=changeit -Xmx1g", "-Djavax.net.ssl.trustStorePassword=changeit -Xmx1g", ""},
		{"a reference in a URL", "git clone https://x-access-token:${GH_TOKEN}@github.com/a/b", "git clone https://x-access-token:${GH_TOKEN}@github.com/a/b", ""},
		{"a port and a path are no password", "curl http://localhost:8080/a@b http://u@host/ ssh://git@host:22/r", "curl http://localhost:8080/a@b http://u@host/ ssh://git@host:22/r", ""},
	}
	checkRedact(t, secret.Redact, tests, false)
}

// TestLinearTime: history text is bounded only by the config's size
// limit, so no input may make redaction quadratic. Each of these takes
// well under a second; a quadratic scan of them, hours.
func TestLinearTime(t *testing.T) {
	const n = 1 << 20
	inputs := map[string]string{
		"quoted assignments":       `"` + strings.Repeat(" a=1", n/4),
		"quoted references":        `"` + strings.Repeat(" PASSWORD=$x", n/12),
		"a huge count":             "|999999 " + strings.Repeat("A=b ", n/4) + "/bin/sh -c x",
		"shells in values":         "|2 " + strings.Repeat("A_TOKEN=b /bin/sh -c ", n/20),
		"env pairs":                "ENV " + strings.Repeat("A=b ", n/4),
		"token prefixes":           strings.Repeat("ghp_", n/4),
		"key headers":              strings.Repeat("-----BEGIN RSA PRIVATE KEY----- M", n/33),
		"open substitutions":       strings.Repeat("$(", n/2),
		"a long name":              strings.Repeat("a", n) + "=",
		"unclosed quoted secrets":  strings.Repeat(`A_TOKEN="x `, n/11),
		"secrets in command words": "/bin/sh -c " + strings.Repeat("A_TOKEN=x ", n/10),
		"curl users":               "curl " + strings.Repeat("-u a:b ", n/7),
		"chpasswd pipes":           strings.Repeat("echo a:b | chpasswd | ", n/22),
		"htpasswd flags":           "htpasswd " + strings.Repeat("-b ", n/3),
		"quoted commands":          strings.Repeat(`sh -c "sh -c 'curl -u a:b`, n/25),
		"split token quotes":       strings.Repeat(`"ghp_'`, n/6),
		"config sets":              "npm " + strings.Repeat("config set ", n/11),
		"redacted words":           strings.Repeat("-u a:<redacted>", n/15),
		"open groups":              strings.Repeat("( { ", n/4),
		"a group into passwd":      "(" + strings.Repeat("echo a:b; ", n/10) + ") | chpasswd",
		"groups into passwd":       strings.Repeat("(echo a) | passwd; ", n/19),
		"backticks":                strings.Repeat("`curl -u a:b ", n/13),
		"nested substitutions":     strings.Repeat("$(curl -u a:b ", n/14),
		"keywords and wrappers":    strings.Repeat("if then nice -n 1 timeout 5 sudo -u x ", n/38) + "curl -u a:b",
		"openssl passwd words":     "openssl passwd " + strings.Repeat("-salt x ", n/8),
		"docker global flags":      "docker " + strings.Repeat("-H h ", n/5) + "login -p x",
		"nested finds":             strings.Repeat("find -exec sudo ", n/16) + "curl -u a:b",
		"user colons in braces":    "curl -u " + strings.Repeat("${a:", n/4),
		// Argument lists and scripts (argv.go).
		"open brackets":          strings.Repeat("[", n),
		"a huge list":            "/bin/sh -c [" + strings.Repeat(`"curl","-u","a:b",`, n/18) + `"x"]`,
		"a huge Go-quoted list":  "CMD [" + strings.Repeat(`"sshpass" "-p" "x" `, n/19) + "]",
		"nested lists":           strings.Repeat(`["a",`, n/10) + strings.Repeat("]", n/10),
		"lists in strings":       strings.Repeat(`["[`, n/3),
		"unclosed strings":       strings.Repeat(`["\`, n/3),
		"escapes":                `["curl","-u","a:` + strings.Repeat(`\u00e4\"`, n/8) + `"]`,
		"lists of shells":        strings.Repeat(`["sh","-c","sh -c 'sh -c \"curl -u a:b`, n/38),
		"bare shells":            strings.Repeat("sh -c ", n/6) + "curl -u a:b",
		"shell flags":            "bash " + strings.Repeat("-o x ", n/5) + "-c curl -u a:b",
		"env -S chains":          strings.Repeat("env -S ", n/7) + "curl -u a:b",
		"escaped scripts":        strings.Repeat(`sh -c curl\ -u\ a:b\ `, n/20),
		"quoted env -S":          strings.Repeat(`env -S 'env -S "`, n/16),
		"open lists":             strings.Repeat(`["`, n/2),
		"brackets before a list": strings.Repeat("[", n) + `"curl","-u","a:b"]`,
		"stray list strings":     strings.Repeat(`["[`, n/3) + `["curl","-u","a:b"]`,
		"stray quoted brackets":  strings.Repeat(`"["`, n/3),
		"lists of brackets":      "[" + strings.Repeat(`"[", `, n/5),
		"shifted lists":          "[" + strings.Repeat(`"[", " ", `, n/10),
		"escaped brackets":       "[" + strings.Repeat(`"\"[\"", `, n/10),
		"password flags":         "[" + strings.Repeat(`"--password", `, n/14),
		"argument scripts":       strings.Repeat(`sh -c '"$0" "$@"' `, n/18) + "curl -u a:b",
		"quoted script words":    strings.Repeat(`sh -c 'sh' -c `, n/14) + "curl -u a:b",
		"env -S values":          strings.Repeat(`env -S 'env' -S `, n/16) + "curl -u a:b",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				secret.Instruction(in)
				secret.Redact(in)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("still running after 30 s")
			}
		})
	}
}

// TestRedactCommandArguments: secrets that commands take in their own
// syntax, and the same flags elsewhere, which are no secret.
func TestRedactCommandArguments(t *testing.T) {
	const cl = "(a secret on a command line)"
	tests := []redactCase{
		{"curl -u", "curl -fsSL -u deploy:hunter2 https://x.invalid/a", "curl -fsSL -u deploy:<redacted> https://x.invalid/a", cl},
		{"curl --user", "curl --user deploy:hunter2 https://x.invalid/a", "curl --user deploy:<redacted> https://x.invalid/a", cl},
		{"curl --user=", "curl --user=deploy:hunter2 https://x.invalid/a", "curl --user=deploy:<redacted> https://x.invalid/a", cl},
		{"curl -u attached, quoted", `curl -u"deploy:hunter2" https://x.invalid/a`, `curl -u"deploy:<redacted>" https://x.invalid/a`, cl},
		{"curl -u quoted", `curl -u 'deploy:hunter 2' https://x.invalid/a`, `curl -u 'deploy:<redacted>' https://x.invalid/a`, cl},
		{"curl flags cluster", "curl -fsSLu deploy:hunter2 https://x.invalid/a", "curl -fsSLu deploy:<redacted> https://x.invalid/a", cl},
		{"curl after sudo and a pipe", "true && sudo -E /usr/bin/curl -u a:hunter2 x | sh", "true && sudo -E /usr/bin/curl -u a:<redacted> x | sh", cl},
		{"curl inside sh -c", `sh -c "curl -u a:hunter2 x"`, `sh -c "curl -u a:<redacted> x"`, cl},
		{"mysql -p", "mysql -uroot -phunter2 app < dump.sql", "mysql -uroot -p<redacted> app < dump.sql", cl},
		{"mysql -p quoted", `mysql -u root -p"hunter 2" app`, `mysql -u root -p"<redacted>" app`, cl},
		{"mysql --password=", "mysql --password=hunter2 app", "mysql --password=<redacted> app", "password"},
		{"mysqladmin", "mysqladmin -uroot -phunter2 create app", "mysqladmin -uroot -p<redacted> create app", cl},
		{"mysqldump", "mysqldump -phunter2 app > a.sql", "mysqldump -p<redacted> app > a.sql", cl},
		{"openssl -passin", "openssl rsa -in k.pem -passin pass:hunter2 -out k2.pem", "openssl rsa -in k.pem -passin pass:<redacted> -out k2.pem", cl},
		{"openssl -passout", "openssl pkcs12 -export -passout 'pass:hunter2' -out a.p12", "openssl pkcs12 -export -passout 'pass:<redacted>' -out a.p12", cl},
		{"openssl enc -k", "openssl enc -aes-256-cbc -k hunter2 -in a -out b", "openssl enc -aes-256-cbc -k <redacted> -in a -out b", cl},
		{"chpasswd from echo", "echo root:hunter2 | chpasswd", "echo root:<redacted> | chpasswd", cl},
		{"chpasswd from echo, quoted", `echo "app:hunter2" | sudo chpasswd`, `echo "app:<redacted>" | sudo chpasswd`, cl},
		{"chpasswd from printf", `printf 'root:hunter2\n' | chpasswd`, `printf 'root:<redacted>' | chpasswd`, cl},
		{"chpasswd here-string", `chpasswd <<< 'root:hunter2'`, `chpasswd <<< 'root:<redacted>'`, cl},
		{"passwd --stdin", "echo hunter2 | passwd --stdin app", "echo <redacted> | passwd --stdin app", cl},
		{"aws secret key", "aws configure set aws_secret_access_key wJalrXUtnFEMIK7MDENGbPxRfiCY && aws configure set region eu-west-1", "aws configure set aws_secret_access_key <redacted> && aws configure set region eu-west-1", cl},
		{"aws session token with profile", "aws configure set default.aws_session_token FQoGZXIvYXdz --profile ci", "aws configure set default.aws_session_token <redacted> --profile ci", cl},
		{"npm _auth", "npm config set _auth ZGVwbG95Omh1bnRlcjI=", "npm config set _auth <redacted>", cl},
		{"npm registry token", "npm config set //registry.npmjs.org/:_authToken s3cr3t-npm", "npm config set //registry.npmjs.org/:_authToken <redacted>", cl},
		{"yarn npmAuthToken", "yarn config set npmAuthToken s3cr3t-yarn -H", "yarn config set npmAuthToken <redacted> -H", cl},
		{"htpasswd -b", "htpasswd -bc /etc/nginx/.htpasswd admin hunter2", "htpasswd -bc /etc/nginx/.htpasswd admin <redacted>", cl},
		{"htpasswd -nb", "htpasswd -Bnb admin hunter2 > /etc/htpasswd", "htpasswd -Bnb admin <redacted> > /etc/htpasswd", cl},
		{"sshpass -p", "sshpass -p hunter2 scp a host:b", "sshpass -p <redacted> scp a host:b", cl},
		{"sshpass -p attached", "sshpass -phunter2 ssh host", "sshpass -p<redacted> ssh host", cl},
		{"docker login -p", "docker login -u ci -p hunter2 registry.example", "docker login -u ci -p <redacted> registry.example", cl},
		{"docker login --password", "docker login --username ci --password hunter2 r", "docker login --username ci --password <redacted> r", cl},
		{"skopeo creds", "skopeo copy --src-creds ci:hunter2 docker://a docker://b", "skopeo copy --src-creds ci:<redacted> docker://a docker://b", cl},
		{"redis-cli -a", "redis-cli -h cache -a hunter2 ping", "redis-cli -h cache -a <redacted> ping", cl},
		{"git clone with a token", "git clone https://ci:glsecret123@gitlab.example/a.git", "git clone https://ci:<redacted>@gitlab.example/a.git", "(a password in a URL)"},
		{"PGPASSWORD", "PGPASSWORD=hunter2 psql -h db -U app", "PGPASSWORD=<redacted> psql -h db -U app", "PGPASSWORD"},

		// The same flags elsewhere, and the forms that hold no secret.
		{"ssh -p port", "ssh -p 22 git@host && scp -P 2222 a host:b", "ssh -p 22 git@host && scp -P 2222 a host:b", ""},
		{"docker run -p", "docker run -p 80:80 -u 1000:1000 img login", "docker run -p 80:80 -u 1000:1000 img login", ""},
		{"curl -u user alone", "curl -u deploy https://x.invalid/a", "curl -u deploy https://x.invalid/a", ""},
		{"curl -u references", `curl -u "$USER:$PASS" x && curl -u ci:${TOKEN} y`, `curl -u "$USER:$PASS" x && curl -u ci:${TOKEN} y`, ""},
		{"curl -o", "curl -fsSLo /tmp/x https://x.invalid/a", "curl -fsSLo /tmp/x https://x.invalid/a", ""},
		{"mysql -p prompts", "mysql -u root -p app", "mysql -u root -p app", ""},
		{"mysql -p reference", `mysql -uroot -p"$MYSQL_ROOT_PASSWORD" app`, `mysql -uroot -p"$MYSQL_ROOT_PASSWORD" app`, ""},
		{"useradd -u", "useradd -u 10001 -p x app && pip install --user pipx", "useradd -u 10001 -p x app && pip install --user pipx", ""},
		{"openssl from env and file", "openssl rsa -passin env:KEY_PW -passout file:/run/secrets/pw", "openssl rsa -passin env:KEY_PW -passout file:/run/secrets/pw", ""},
		{"chpasswd reference", `echo "app:$APP_PW" | chpasswd`, `echo "app:$APP_PW" | chpasswd`, ""},
		{"chpasswd template", `printf '%s:%s\n' app "$PW" | chpasswd`, `printf '%s:%s\n' app "$PW" | chpasswd`, ""},
		{"echo without chpasswd", "echo root:x | tee /tmp/a", "echo root:x | tee /tmp/a", ""},
		{"aws access key id is an identifier", "aws configure set aws_access_key_id AKIDPLAIN && aws configure set region us-east-1", "aws configure set aws_access_key_id AKIDPLAIN && aws configure set region us-east-1", ""},
		{"npm registry", "npm config set registry https://registry.npmjs.org/", "npm config set registry https://registry.npmjs.org/", ""},
		{"yarn token reference", `yarn config set npmAuthToken "${NPM_TOKEN}"`, `yarn config set npmAuthToken "${NPM_TOKEN}"`, ""},
		{"htpasswd prompts", "htpasswd -c /etc/nginx/.htpasswd admin", "htpasswd -c /etc/nginx/.htpasswd admin", ""},
		{"docker login from stdin", `echo "$PW" | docker login -u ci --password-stdin r`, `echo "$PW" | docker login -u ci --password-stdin r`, ""},
		{"nc -p", "nc -l -p 8080", "nc -l -p 8080", ""},
	}
	checkRedact(t, secret.Redact, tests, true)
}

// TestRedactSplitTokens: a token the shell joins from parts is one token.
func TestRedactSplitTokens(t *testing.T) {
	const gh = "(a GitHub token)"
	tests := []redactCase{
		{"a line continuation", "export T=ghp_" + body36[:10] + "\\\n" + body36[10:] + " && make", "export T=<redacted> && make", gh},
		{"a line continuation in a word", "git clone https://ghp_" + body36[:10] + "\\\n" + body36[10:] + "@github.com/o/r", "git clone https://<redacted>@github.com/o/r", gh},
		{"quotes in the prefix", `echo gh"p_` + body36 + `" > t`, `echo <redacted>" > t`, gh},
		{"quotes in the body", `echo 'ghp_` + body36[:20] + `'"` + body36[20:] + `" > t`, `echo '<redacted>" > t`, gh},
		{"an escaped letter", `echo ghp_` + body36[:5] + `\` + body36[5:] + ` > t`, `echo <redacted> > t`, gh},
		{"a CRLF continuation", "echo npm_" + body36b[:3] + "\\\r\n" + body36b[3:], "echo <redacted>", "(an npm token)"},
		{"quoted whole stays one finding", `echo "ghp_` + body36 + `"`, `echo "<redacted>"`, gh},
		{"separate words are not joined", `echo "ghp_` + body36[:20] + `" "` + body36[20:] + `"`, `echo "ghp_` + body36[:20] + `" "` + body36[20:] + `"`, ""},
		{"a look-alike stays", `echo x"ghp_` + body36 + `"`, `echo x"<redacted>"`, gh},
	}
	checkRedact(t, secret.Redact, tests, true)
}

// TestRedactKeysInCommands: a private key a RUN writes, its lines joined
// by "\n", "\\n", line continuations or quotes.
func TestRedactKeysInCommands(t *testing.T) {
	const body = "MIIEowIBAAKCAQEAu8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
	tests := []redactCase{
		{"echo with \\n", `/bin/sh -c echo "-----BEGIN RSA PRIVATE KEY-----\n` + body + `\n-----END RSA PRIVATE KEY-----" > /root/key`, `RUN echo "<redacted>" > /root/key`, "(a private key)"},
		{"echo -e with \\\\n", `RUN /bin/sh -c echo -e "-----BEGIN RSA PRIVATE KEY-----\\n` + body + `\\n-----END RSA PRIVATE KEY-----" > /root/key # buildkit`, `RUN echo -e "<redacted>" > /root/key`, "(a private key)"},
		{"printf with quoted lines", `RUN /bin/sh -c printf '%s\n' '-----BEGIN OPENSSH PRIVATE KEY-----' 'b3BlbnNzaC1rZXktdjEAAAA' '-----END OPENSSH PRIVATE KEY-----' > k # buildkit`, `RUN printf '%s\n' '<redacted>' > k`, "(a private key)"},
		{"a line continuation", "/bin/sh -c echo \"-----BEGIN EC PRIVATE KEY-----\\\nMHcCAQEEIB\" > k", `RUN echo "<redacted>`, "(a private key)"},
		{"no footer hides to the end", `/bin/sh -c echo "-----BEGIN PRIVATE KEY-----\n` + body + `" > k && chmod 600 k`, `RUN echo "<redacted>`, "(a private key)"},
		{"a header grep is no key", `/bin/sh -c grep -q "-----BEGIN RSA PRIVATE KEY-----" /etc/ssl/private/server.key`, `RUN grep -q "-----BEGIN RSA PRIVATE KEY-----" /etc/ssl/private/server.key`, ""},
		{"a header grep of a Makefile", `/bin/sh -c grep -q '-----BEGIN PRIVATE KEY-----' Makefile`, `RUN grep -q '-----BEGIN PRIVATE KEY-----' Makefile`, ""},
	}
	checkRedact(t, secret.Instruction, tests, false, body[4:20], "b3BlbnNzaC1")
}

// TestRedactCommandReview: the forms a review found shown, or hidden
// where nothing was secret.
func TestRedactCommandReview(t *testing.T) {
	const cl = "(a secret on a command line)"
	tests := []redactCase{
		// References with a default or a check: the colon inside ${…} is
		// not the user's.
		{"curl -u checked references", `curl -fsSL -u "${ARTIFACTORY_USER:?}:${ARTIFACTORY_TOKEN:?}" https://x.invalid/a`, `curl -fsSL -u "${ARTIFACTORY_USER:?}:${ARTIFACTORY_TOKEN:?}" https://x.invalid/a`, ""},
		{"chpasswd checked references", `echo "${U:?}:${P:?}" | chpasswd`, `echo "${U:?}:${P:?}" | chpasswd`, ""},
		{"skopeo default user", `skopeo copy --src-creds "${U:-ci}:${P}" a b`, `skopeo copy --src-creds "${U:-ci}:${P}" a b`, ""},
		{"a command substitution for the user", `curl -u "$(cat /run/secrets/u):${P}" x`, `curl -u "$(cat /run/secrets/u):${P}" x`, ""},
		{"a default user, a literal password", `curl -u "${U:-ci}:hunter2" x`, `curl -u "${U:-ci}:<redacted>" x`, cl},
		{"quoted user and password", `curl -u 'admin':'hunter2' x`, `curl -u 'admin':'<redacted>' x`, cl},

		// Groups feed a pipe with all their commands.
		{"passwd from a subshell", "(echo hunter2; echo hunter2) | passwd root", "(echo <redacted>; echo <redacted>) | passwd root", cl + "," + cl},
		{"passwd from a brace group", "{ echo hunter2; echo hunter2; } | passwd", "{ echo <redacted>; echo <redacted>; } | passwd", cl + "," + cl},
		{"a group that feeds nothing", "(echo root:x; echo b) && tee a", "(echo root:x; echo b) && tee a", ""},
		// Command substitutions are commands.
		{"curl in $(…)", "TOKEN=$(curl -s -u admin:hunter2 https://x.invalid/t)", "TOKEN=$(curl -s -u admin:<redacted> https://x.invalid/t)", cl},
		{"openssl passwd in $(…)", "useradd -p $(openssl passwd -1 hunter2) app", "useradd -p $(openssl passwd -1 <redacted>) app", cl},
		{"openssl passwd in backticks", "useradd -p `openssl passwd -6 -salt xyz hunter2` app", "useradd -p `openssl passwd -6 -salt xyz <redacted>` app", cl},
		{"quoted $(…)", `X="$(curl -u admin:hunter2 x)"`, `X="$(curl -u admin:<redacted> x)"`, cl},
		// Keywords and wrappers before the command's name.
		{"if", "if curl -u admin:hunter2 x; then echo ok; fi", "if curl -u admin:<redacted> x; then echo ok; fi", cl},
		{"then", "if true; then curl -u admin:hunter2 x; fi", "if true; then curl -u admin:<redacted> x; fi", cl},
		{"for … do", "for db in a b; do mysql -phunter2 $db; done", "for db in a b; do mysql -p<redacted> $db; done", cl},
		{"xargs", "ls | xargs -n 1 curl -u admin:hunter2", "ls | xargs -n 1 curl -u admin:<redacted>", cl},
		{"nice -n", "nice -n 10 curl -u admin:hunter2 x", "nice -n 10 curl -u admin:<redacted> x", cl},
		{"sudo -u", "sudo -u app sshpass -p hunter2 ssh h", "sudo -u app sshpass -p <redacted> ssh h", cl},
		{"env", "env A=b curl -u admin:hunter2 x", "env A=b curl -u admin:<redacted> x", cl},
		{"timeout", "timeout 10 mysql -phunter2 db", "timeout 10 mysql -p<redacted> db", cl},
		{"! and exec", "! exec -a x redis-cli -a hunter2 ping", "! exec -a x redis-cli -a <redacted> ping", cl},
		{"find -exec", `find . -name '*.tgz' -exec curl -u admin:hunter2 -T {} https://x.invalid/ \;`, `find . -name '*.tgz' -exec curl -u admin:<redacted> -T {} https://x.invalid/ \;`, cl},
		// More commands.
		{"mysqladmin password", "mysqladmin -u root password hunter2", "mysqladmin -u root password <redacted>", cl},
		{"mysqladmin -u password", "mysqladmin -u password status", "mysqladmin -u password status", ""},
		{"openssl passwd", "openssl passwd -6 hunter2", "openssl passwd -6 <redacted>", cl},
		{"openssl passwd from stdin", "openssl passwd -6 -stdin < f", "openssl passwd -6 -stdin < f", ""},
		{"openssl passwd, a redirection", "openssl passwd -1 hunter2 2>/dev/null > h", "openssl passwd -1 <redacted> 2>/dev/null > h", cl},
		{"openssl passwd reference", `openssl passwd -6 "$PW"`, `openssl passwd -6 "$PW"`, ""},
		{"docker -H login", "docker -H tcp://h:2375 login -u ci -p hunter2 r", "docker -H tcp://h:2375 login -u ci -p <redacted> r", cl},
		{"docker login -p=", "docker login -u ci -p=hunter2 r", "docker login -u ci -p=<redacted> r", cl},
		// What stays.
		{"ssh -p, docker run -p", "nice -n 5 ssh -p 22 h && timeout 5 docker run -p 80:80 i", "nice -n 5 ssh -p 22 h && timeout 5 docker run -p 80:80 i", ""},
		{"a wrapper's flag", "sudo -p pwprompt: ls", "sudo -p pwprompt: ls", ""},
		{"mysql -p alone in $(…)", "X=$(mysql -u root -p db)", "X=$(mysql -u root -p db)", ""},
		{"printf %s into passwd", `(printf '%s\n' "$PW"; printf '%s\n' "$PW") | passwd app`, `(printf '%s\n' "$PW"; printf '%s\n' "$PW") | passwd app`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fs := secret.Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
			if f := found(fs); f != tc.found {
				t.Errorf("Redact(%q) found %q, want %q", tc.in, f, tc.found)
			}
			if again, fs := secret.Redact(got); again != got || len(fs) > 0 {
				t.Errorf("Redact is not idempotent: %q, then %q %v", got, again, fs)
			}
			// First in a RUN, as both builders record it.
			for _, raw := range []string{"/bin/sh -c " + tc.in, "RUN /bin/sh -c " + tc.in + " # buildkit"} {
				if got, _ := secret.Instruction(raw); got != "RUN "+tc.want {
					t.Errorf("Instruction(%q)\n = %q\nwant %q", raw, got, "RUN "+tc.want)
				}
			}
		})
	}
}

// redactCase is a row of a redaction table: the input, what it becomes,
// and the secrets found in it ("" for none).
type redactCase struct{ name, in, want, found string }

// checkRedact runs each case through redact (secret.Redact or
// secret.Instruction): the output and the secrets found are the row's, the
// output is left alone by Redact (with strict, it finds nothing in it
// either), and none of hidden shows in it.
func checkRedact(t *testing.T, redact func(string) (string, []secret.Found), tests []redactCase, strict bool, hidden ...string) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fs := redact(tc.in)
			if got != tc.want {
				t.Errorf("got %q from %q\nwant %q", got, tc.in, tc.want)
			}
			if f := found(fs); f != tc.found {
				t.Errorf("%q: found %q, want %q", tc.in, f, tc.found)
			}
			if again, fs := secret.Redact(got); again != got || (strict && len(fs) > 0) {
				t.Errorf("Redact(%q) = %q, %q: the output still holds a secret", got, again, found(fs))
			}
			for _, h := range hidden {
				if strings.Contains(got, h) {
					t.Errorf("%q shows in %q", h, got)
				}
			}
		})
	}
}

// A build secret's spec names where the secret comes from: it is no
// secret, on a command line or in a list; a --secret value that is not a
// spec still is.
func TestRedactSecretMounts(t *testing.T) {
	checkRedact(t, secret.Redact, []redactCase{
		{"docker build --secret", "docker build --secret id=npm,src=.npmrc .", "docker build --secret id=npm,src=.npmrc .", ""},
		{"buildx from a variable", "docker buildx build --secret id=npm,env=NPM_TOKEN .", "docker buildx build --secret id=npm,env=NPM_TOKEN .", ""},
		{"podman --secret=", "podman build --secret=id=npm,src=/run/secrets/npm .", "podman build --secret=id=npm,src=/run/secrets/npm .", ""},
		{"a list", `["docker","build","--secret","id=npm,type=file,src=x","."]`, `["docker","build","--secret","id=npm,type=file,src=x","."]`, ""},
		{"a value that is no spec", "tool --secret hunter2x", "tool --secret <redacted>", "(a secret on a command line)"},
		{"a spec key in a password", "tool --password id=npm", "tool --password <redacted>", "(a secret on a command line)"},
	}, true, "hunter2x")
}
