package secret_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layerscope/layerscope/rules/secret"
)

var pairInValue = regexp.MustCompile(` (?:[A-Z_][A-Z0-9_]*|[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*|(?:http|https|no|ftp|all)_proxy)=`)

// FuzzRedact feeds history text to Instruction and Redact: no panic,
// redaction is idempotent, and a value assigned to a secret-looking name
// in a build argument (legacy and BuildKit, shell and exec form), an ENV
// or a quoted assignment never shows. The value is fuzzed between three
// markers that nothing else holds, so any part of it that shows is seen.
func FuzzRedact(f *testing.F) {
	f.Add(uint8(0), "DB", "battery staple", " words", "VERSION", "1.2", "make", "buildkit.dockerfile.v0")
	f.Add(uint8(1), "NPM", "a B=c", " /bin/sh -c d", "GREETING", "hello world", `echo "NPM_TOKEN=x" > .npmrc`, "|2 A=1 B=2 /bin/sh -c x")
	f.Add(uint8(2), "API", "x'y", `"z`, "X", "a /bin/sh -c b C=d", "npm ci", "RUN |1 DB_PASSWORD=a b /bin/bash -c make # buildkit")
	f.Add(uint8(3), "GH", "ghp_", "$(x)", "LANG", "C.UTF-8", "/bin/sh -c #(nop)", `ENV A="x" B=-----BEGIN RSA PRIVATE KEY-----\nMII`)
	f.Add(uint8(4), "S", "", "\n", "O", "", "", "")
	// Secrets that commands take in their own syntax, tokens that the
	// shell joins from parts, and keys written with "\\n" or quotes.
	f.Add(uint8(0), "C", "u", "", "O", "", "curl -fsSLu user:pw x | sh", `sudo curl -u "a:b c" x && mysql -uroot -p'p w' db`)
	f.Add(uint8(1), "M", "", "", "O", "", "echo root:pw | chpasswd", `printf 'root:pw\n' | chpasswd && chpasswd <<< "a:b" && echo pw | passwd --stdin app`)
	f.Add(uint8(2), "A", "", "", "O", "", "aws configure set aws_secret_access_key wJalrX", "npm config set //r/:_authToken x && yarn config set npmAuthToken y -H && htpasswd -Bbc f u p")
	f.Add(uint8(3), "O", "", "", "O", "", "openssl rsa -passin pass:pw -passout 'pass:p w' -k k", "sshpass -ppw ssh h && docker login -u u -p pw r && skopeo copy --creds u:p a b && redis-cli -a pw")
	f.Add(uint8(4), "T", "", "", "O", "", "ssh -p 22 h && docker run -p 80:80 -u 1000:1000 i", "echo gh\"p_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d\" && echo ghp_u8jzPde0Ig\\\nxLd6GncfBAepfJBd0Kh8oOOL8d")
	f.Add(uint8(0), "K", "", "", "O", "", "printf '%s\\n' '-----BEGIN RSA PRIVATE KEY-----' 'MIIEow' '-----END RSA PRIVATE KEY-----'", `echo -e "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQ\\n-----END EC PRIVATE KEY-----" > k`)
	f.Add(uint8(3), "E", "hunter2 X=y", "", "OPTS", "-Dx=1 DB_PASSWORD=hunter2", "", "ENV OPTS=-Dx=1 DB_PASSWORD=hunter2 # buildkit")
	// Argument lists and the scripts of sh -c and env -S.
	f.Add(uint8(0), "L", "", "", "O", "", `sh -c curl\ -u\ a:b`, `CMD ["curl" "-u" "a:b\"c" "x"]`)
	f.Add(uint8(1), "J", "", "", "O", "", "env -S 'curl -u a:b x'", `/bin/sh -c ["sh","-c","mysql -p\u00e4 db"]`)
	f.Add(uint8(2), "H", "", "", "O", "", "busybox sh -c mysql -pb db", `HEALTHCHECK &{["CMD-SHELL" "redis-cli -a x ping"] "0s" "0s" "0s" '\x00'}`)
	f.Fuzz(func(t *testing.T, form uint8, name, v1, v2, other, otherValue, cmd, free string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			check(t, form, name, v1, v2, other, otherValue, cmd, free)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatalf("redaction still runs after 10 s: form %d %q %q %q %q %q %q %q", form, name, v1, v2, other, otherValue, cmd, free)
		}
	})
}

func check(t *testing.T, form uint8, name, v1, v2, other, otherValue, cmd, free string) {
	clean := func(s string) string { return strings.ReplaceAll(s, "Q", "") }

	// Any text: idempotent, and Instruction's output holds nothing to hide.
	out, _ := secret.Redact(free)
	if again, _ := secret.Redact(out); again != out {
		t.Errorf("Redact(%q) = %q, then %q", free, out, again)
	}
	ins, _ := secret.Instruction(free)
	if again, _ := secret.Redact(ins); again != ins {
		t.Errorf("Instruction(%q) = %q, and Redact of it %q", free, ins, again)
	}

	// A password in a command's own syntax, one shell word.
	pw := "Qx1" + nameChars(v1) + "Qx2"
	for _, c := range []string{"curl -fsSL -u u:%s x", "curl --user 'u:%s' x", "mysql -uroot -p%s db", "mysqldump -p\"%s\" db",
		"echo root:%s | chpasswd", "chpasswd <<< 'u:%s'", "sshpass -p %s ssh h", "openssl rsa -passin pass:%s",
		"docker login -u u -p %s r", "htpasswd -bc f u %s", "aws configure set aws_secret_access_key %s",
		"npm config set //r.example/:_authToken %s", "yarn config set npmAuthToken %s",
		"if curl -u u:%s x; then true; fi", "X=$(curl -u u:%s x)", "nice -n 1 mysql -p%s db", "openssl passwd -6 %s",
		"mysqladmin -u root password %s", "docker -H h login -p %s r", "(echo %s) | passwd root", "xargs curl -u 'u':'%s'"} {
		c = strings.Replace(c, "%s", pw, 1)
		// After another command, and first, in both builders' forms.
		for _, raw := range []string{"/bin/sh -c " + plainCmd(cmd) + " && " + c, "/bin/sh -c " + c, "RUN /bin/sh -c " + c + " # buildkit",
			"|1 A=" + clean(nameChars(otherValue)) + " /bin/sh -c " + c, "RUN |1 A=" + clean(nameChars(otherValue)) + " /bin/sh -c " + c + " # buildkit"} {
			if got, _ := secret.Instruction(raw); strings.Contains(got, "Qx1") || strings.Contains(got, "Qx2") {
				t.Fatalf("Instruction(%q)\n = %q: the password shows", raw, got)
			}
		}
	}

	// The same in argument lists, in the forms history records them:
	// space-joined (Docker's exec-form RUN), Go-quoted (CMD, ENTRYPOINT,
	// HEALTHCHECK), JSON (buildah's RUN, the legacy builder's ONBUILD).
	for _, argv := range [][]string{{"curl", "-u", "u:%s", "x"}, {"mysql", "-p%s", "db"}, {"sshpass", "-p", "%s", "ssh", "h"},
		{"docker", "login", "-p", "%s", "r"}, {"mysql", "--password", "%s"}, {"sudo", "-u", "app", "curl", "-fsSLu", "u:%s", "x"},
		{"sh", "-c", "curl -u u:%s x"}, {"/bin/bash", "-o", "pipefail", "-c", "mysql -p%s db"}, {"env", "-S", "sshpass -p %s ssh h"},
		{"sh", "-c", "sh -c 'curl -u u:%s x'"}} {
		argv = slices.Clone(argv)
		for k := range argv {
			argv[k] = strings.Replace(argv[k], "%s", pw, 1)
		}
		js, err := json.Marshal(argv)
		if err != nil {
			t.Fatal(err)
		}
		spaced := strings.Join(argv, " ")
		quoted := fmt.Sprintf("%q", argv)
		a := "|1 A=" + clean(nameChars(otherValue)) + " "
		for _, raw := range []string{spaced, "RUN " + spaced + " # buildkit", a + spaced, "RUN " + a + spaced + " # buildkit",
			"/bin/sh -c #(nop)  CMD " + quoted, "ENTRYPOINT " + quoted, "HEALTHCHECK &{[\"CMD\" " + quoted[1:] + ` "0s" "0s" "0s" '\x00'}`,
			"/bin/sh -c " + string(js), a + "/bin/sh -c " + string(js), "/bin/sh -c #(nop)  ONBUILD RUN " + string(js)} {
			if got, _ := secret.Instruction(raw); strings.Contains(got, "Qx1") || strings.Contains(got, "Qx2") {
				t.Fatalf("Instruction(%q)\n = %q: the password shows", raw, got)
			}
		}
	}

	// Argument lists whose elements the space-joined form would not keep
	// apart: a value with spaces, a script and the arguments it runs.
	for _, argv := range [][]string{{"mysql", "--password", "a %s b", "db"}, {"tool", "--api-key", "%s \"x\""},
		{"sh", "-c", `exec "$@"`, "--", "curl", "-u", "u:%s", "x"}, {"sh", "-c", `"$0" "$@"`, "sshpass", "-p", "%s", "ssh", "h"}} {
		argv = slices.Clone(argv)
		for k := range argv {
			argv[k] = strings.Replace(argv[k], "%s", pw, 1)
		}
		js, err := json.Marshal(argv)
		if err != nil {
			t.Fatal(err)
		}
		quoted := fmt.Sprintf("%q", argv)
		for _, raw := range []string{"ENTRYPOINT " + quoted, "/bin/sh -c " + string(js), "/bin/sh -c echo '[\"' && /bin/sh -c " + string(js)} {
			if got, _ := secret.Instruction(raw); strings.Contains(got, "Qx1") || strings.Contains(got, "Qx2") {
				t.Fatalf("Instruction(%q)\n = %q: the password shows", raw, got)
			}
		}
	}

	// A secret under a secret-looking name, in the forms history records.
	secretName := "X" + nameChars(name) + "_TOKEN"
	other = "O" + nameChars(other)
	otherValue, cmd = clean(otherValue), clean(cmd)
	value := "Qx1" + clean(v1) + "Qx2" + clean(v2) + "Qx3"
	if !secret.Name(secretName) {
		return
	}
	var raw string
	switch form % 5 {
	case 0:
		raw = "|2 " + secretName + "=" + value + " " + other + "=" + otherValue + " /bin/sh -c " + cmd
	case 1:
		raw = "RUN |2 " + other + "=" + otherValue + " " + secretName + "=" + value + " /bin/sh -c " + cmd + " # buildkit"
	case 2:
		if l := strings.ToLower(value); strings.Contains(l, " /") || strings.Contains(l, " cmd") || strings.Contains(l, " p") {
			return // an exec form whose value holds a shell's words reads as a shell form
		}
		raw = "|2 " + other + "=" + otherValue + " " + secretName + "=" + value + " " + cmd
	case 3:
		if pairInValue.MatchString(value) {
			return // ENV records values unquoted: a value with " NAME=" (upper case, as ENV keys are) cannot be told from two pairs
		}
		raw = "ENV " + secretName + "=" + value + " " + other + "=" + otherValue + " # buildkit"
	case 4:
		if strings.ContainsAny(value, "\"\\") {
			return // the quote would end the value
		}
		raw = `/bin/sh -c echo "` + secretName + "=" + value + `" > .env && ` + cmd
	}
	got, found := secret.Instruction(raw)
	for _, m := range []string{"Qx1", "Qx2", "Qx3"} {
		if strings.Contains(got, m) {
			t.Fatalf("Instruction(%q)\n = %q: the secret shows", raw, got)
		}
	}
	named := false
	for _, f := range found {
		named = named || f.Name == secretName
	}
	if !named {
		t.Errorf("Instruction(%q) found %+v, not %s", raw, found, secretName)
	}
}

// nameChars keeps the characters a name may hold.
func nameChars(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return -1
	}, s)
}

// plainCmd keeps the characters of a command that leave the next command
// to the shell: no quote, escape or bracket runs on into it.
func plainCmd(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '"', '\'', '`', '\\', '$', '(', ')', '{', '}', 'Q', '#', '<', '>':
			return -1
		}
		return r
	}, s)
}
