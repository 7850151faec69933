package secret_test

import (
	"testing"

	"github.com/layerscope/layerscope/rules/secret"
)

// TestInstructionExecForm: commands that history records from argument
// lists. The Docker shapes were read from images built by Docker 20.10
// with each builder (docker history --no-trunc): an exec-form RUN is
// recorded space-joined, without a shell (legacy "sh -c curl -u …",
// BuildKit "RUN sh -c curl -u … # buildkit"); CMD, ENTRYPOINT and
// HEALTHCHECK as Go-quoted lists; the legacy builder's ONBUILD as the
// Dockerfile said it. buildah and podman record an exec-form RUN as the
// Dockerfile said it after "/bin/sh -c ".
func TestInstructionExecForm(t *testing.T) {
	const cl = "(a secret on a command line)"
	tests := []redactCase{
		// Docker, space-joined.
		{"legacy exec form", "curl -u admin:hunter2 https://x.invalid/", "curl -u admin:<redacted> https://x.invalid/", cl},
		{"legacy exec form, sh -c", "sh -c curl -u admin:hunter2 https://x.invalid/", "sh -c curl -u admin:<redacted> https://x.invalid/", cl},
		{"buildkit exec form, sh -c", "RUN sh -c curl -u admin:hunter2 https://x.invalid/ # buildkit", "RUN sh -c curl -u admin:<redacted> https://x.invalid/", cl},
		{"legacy exec form with an argument, sh -c", "|1 VERSION=1.2 sh -c mysql -phunter2 db", "RUN |1 VERSION=1.2 sh -c mysql -p<redacted> db", cl},
		{"buildkit exec form with an argument, bash -c", "RUN |1 VERSION=1.2 bash -c sshpass -p hunter2 ssh h # buildkit", "RUN |1 VERSION=1.2 bash -c sshpass -p <redacted> ssh h", cl},
		{"buildkit exec form, env -S", "RUN env -S curl -u admin:hunter2 x # buildkit", "RUN env -S curl -u admin:<redacted> x", cl},
		// Docker, Go-quoted lists.
		{"legacy CMD", `/bin/sh -c #(nop)  CMD ["curl" "-u" "admin:hunter2" "https://x.invalid/"]`, `CMD ["curl" "-u" "admin:<redacted>" "https://x.invalid/"]`, cl},
		{"buildkit CMD", `CMD ["sshpass" "-p" "hunter2" "ssh" "h"]`, `CMD ["sshpass" "-p" "<redacted>" "ssh" "h"]`, cl},
		{"buildkit ENTRYPOINT, sh -c", `ENTRYPOINT ["sh" "-c" "mysql -phunter2 \"my db\""]`, `ENTRYPOINT ["sh" "-c" "mysql -p<redacted> \"my db\""]`, cl},
		{"legacy HEALTHCHECK CMD", `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "curl" "-fu" "admin:hunter2" "http://localhost/"] "0s" "0s" "0s" '\x00'}`, `HEALTHCHECK &{["CMD" "curl" "-fu" "admin:<redacted>" "http://localhost/"] "0s" "0s" "0s" '\x00'}`, cl},
		{"buildkit HEALTHCHECK CMD-SHELL", `HEALTHCHECK &{["CMD-SHELL" "redis-cli -a hunter2 ping || exit 1"] "30s" "3s" "0s" '\x00'}`, `HEALTHCHECK &{["CMD-SHELL" "redis-cli -a <redacted> ping || exit 1"] "30s" "3s" "0s" '\x00'}`, cl},
		{"legacy ONBUILD", `/bin/sh -c #(nop)  ONBUILD RUN ["docker","login","-u","ci","-p","hunter2","r.example"]`, `ONBUILD RUN ["docker","login","-u","ci","-p","<redacted>","r.example"]`, cl},
		// buildah and podman: JSON after /bin/sh -c.
		{"buildah exec form", `/bin/sh -c ["curl","-u","admin:hunter2","https://x.invalid/"]`, `RUN ["curl","-u","admin:<redacted>","https://x.invalid/"]`, cl},
		{"buildah exec form with an argument", `|1 VERSION=1.2 /bin/sh -c ["mysql", "-uroot", "-phunter2", "db"]`, `RUN |1 VERSION=1.2 ["mysql", "-uroot", "-p<redacted>", "db"]`, cl},
		{"buildah bash -c", `/bin/sh -c ["/bin/bash", "-c", "set -e; curl -u admin:hunter2 x | sh"]`, `RUN ["/bin/bash", "-c", "set -e; curl -u admin:<redacted> x | sh"]`, cl},
		{"buildah sudo, a cluster", `/bin/sh -c ["sudo","-u","app","curl","-fsSLu","admin:hunter2","x"]`, `RUN ["sudo","-u","app","curl","-fsSLu","admin:<redacted>","x"]`, cl},
		{"an escaped quote", `/bin/sh -c ["curl","-u","admin:hun\"ter2","x"]`, `RUN ["curl","-u","admin:<redacted>","x"]`, cl},
		{"a unicode escape", `/bin/sh -c ["curl","-u","admin:p\u00e4ss","x"]`, `RUN ["curl","-u","admin:<redacted>","x"]`, cl},
		{"a password flag", `/bin/sh -c ["mysql","--password","hunter2","db"]`, `RUN ["mysql","--password","<redacted>","db"]`, cl},
		{"env -S", `/bin/sh -c ["env","-S","curl -u admin:hunter2 x"]`, `RUN ["env","-S","curl -u admin:<redacted> x"]`, cl},
		{"a token", `/bin/sh -c ["git","clone","https://` + ghToken + `@github.com/o/r"]`, `RUN ["git","clone","https://<redacted>@github.com/o/r"]`, "(a GitHub token)"},

		// No secret: the same flags elsewhere, references, a prompt.
		{"ssh -p", `/bin/sh -c ["ssh","-p","22","host"]`, `RUN ["ssh","-p","22","host"]`, ""},
		{"mysql -p prompts", `/bin/sh -c ["mysql","-p"]`, `RUN ["mysql","-p"]`, ""},
		{"curl -u references", `/bin/sh -c ["curl","-u","$USER:$TOKEN","x"]`, `RUN ["curl","-u","$USER:$TOKEN","x"]`, ""},
		{"curl -u checked references", `/bin/sh -c ["curl","-u","${USER:?}:${TOKEN:?}","x"]`, `RUN ["curl","-u","${USER:?}:${TOKEN:?}","x"]`, ""},
		{"CMD docker run -p", `CMD ["docker" "run" "-p" "80:80" "-u" "1000:1000" "img"]`, `CMD ["docker" "run" "-p" "80:80" "-u" "1000:1000" "img"]`, ""},
		{"sh -c ssh -p", "RUN sh -c ssh -p 22 h # buildkit", "RUN sh -c ssh -p 22 h", ""},
		{"ENTRYPOINT sh -c mysql -p", `ENTRYPOINT ["sh" "-c" "exec mysql -u root -p db"]`, `ENTRYPOINT ["sh" "-c" "exec mysql -u root -p db"]`, ""},
		{"SHELL", "SHELL [/bin/sh -c]", "SHELL [/bin/sh -c]", ""},
		{"an empty list", `CMD []`, `CMD []`, ""},
		{"a list of lists", `LABEL x=[["a"],["b"]]`, `LABEL x=[["a"],["b"]]`, ""},
	}
	checkRedact(t, secret.Instruction, tests, true)
}

// TestArgvReview: the lists and scripts a review of argv.go found shown.
func TestArgvReview(t *testing.T) {
	const cl = "(a secret on a command line)"
	t.Run("Redact", func(t *testing.T) {
		checkRedact(t, secret.Redact, []redactCase{
			// A stray "[\"" before a list: its string runs over the list's
			// "[", and the list is read all the same.
			{"a stray bracket and quote", `echo '["' && /bin/sh -c ["curl","-u","admin:hunter2","x"]`, `echo '["' && /bin/sh -c ["curl","-u","admin:<redacted>","x"]`, cl},
			{"a stray list", `X=["a", "b /bin/sh -c ["curl","-u","admin:hunter2","x"]`, `X=["a", "b /bin/sh -c ["curl","-u","admin:<redacted>","x"]`, cl},
			{"a stray Go-quoted list", `L=["a" "b CMD ["sshpass" "-p" "hunter2" "ssh" "h"]`, `L=["a" "b CMD ["sshpass" "-p" "<redacted>" "ssh" "h"]`, cl},
			{"open brackets", `[[[["curl","-u","admin:hunter2","x"]`, `[[[["curl","-u","admin:<redacted>","x"]`, cl},
			{"a stray bracket, ssh -p", `echo '["' && /bin/sh -c ["ssh","-p","2222","h"]`, `echo '["' && /bin/sh -c ["ssh","-p","2222","h"]`, ""},
			{"a list in a list's string", `["echo","[\"curl\",\"-u\",\"a:b\"]"]`, `["echo","[\"curl\",\"-u\",\"a:b\"]"]`, ""},
		}, true, "hunter")
	})
	t.Run("Instruction", func(t *testing.T) {
		checkRedact(t, secret.Instruction, []redactCase{
			{"a stray bracket in a RUN", `/bin/sh -c echo '["' && /bin/sh -c ["curl","-u","admin:hunter2","x"]`, `RUN echo '["' && /bin/sh -c ["curl","-u","admin:<redacted>","x"]`, cl},
			// An element is one word, spaces and all.
			{"a password flag, spaces", `/bin/sh -c ["mysql","--password","hunter 2","db"]`, `RUN ["mysql","--password","<redacted>","db"]`, cl},
			{"a key flag, Go-quoted", `CMD ["tool" "--api-key" "hunter2 x" "run"]`, `CMD ["tool" "--api-key" "<redacted>" "run"]`, cl},
			{"a password flag, escaped quotes", `CMD ["mysql" "--db-password" "a \"hunter\" 2"]`, `CMD ["mysql" "--db-password" "<redacted>"]`, cl},
			{"a password flag, a reference", `/bin/sh -c ["mysql","--password","$DB_PASSWORD x"]`, `RUN ["mysql","--password","$DB_PASSWORD x"]`, ""},
			{"a password flag, a template", `/bin/sh -c ["mysql","--password","%s x"]`, `RUN ["mysql","--password","%s x"]`, ""},
			{"a password flag, another flag", `/bin/sh -c ["tool","--password","--stdin x"]`, `RUN ["tool","--password","--stdin x"]`, ""},
			{"a switch", `/bin/sh -c ["gh","auth","login","--with-token","a b"]`, `RUN ["gh","auth","login","--with-token","a b"]`, ""},
			{"ssh -p", `/bin/sh -c ["ssh","-p","2222","h"]`, `RUN ["ssh","-p","2222","h"]`, ""},
			// The command in the arguments after the script.
			{"exec \"$@\"", `ENTRYPOINT ["sh" "-c" "exec \"$@\"" "--" "curl" "-u" "admin:hunter2" "x"]`, `ENTRYPOINT ["sh" "-c" "exec \"$@\"" "--" "curl" "-u" "admin:<redacted>" "x"]`, cl},
			{"\"$0\" \"$@\"", `/bin/sh -c ["sh","-c","\"$0\" \"$@\"","sshpass","-p","hunter2","ssh","h"]`, `RUN ["sh","-c","\"$0\" \"$@\"","sshpass","-p","<redacted>","ssh","h"]`, cl},
			{"exec \"$@\", ssh -p", `ENTRYPOINT ["sh" "-c" "exec \"$@\"" "--" "ssh" "-p" "2222" "h"]`, `ENTRYPOINT ["sh" "-c" "exec \"$@\"" "--" "ssh" "-p" "2222" "h"]`, ""},
		}, true, "hunter")
	})
}

// TestRedactScripts: the script a shell or env -S runs, behind wrappers,
// quoted, escaped, or recorded without its quotes.
func TestRedactScripts(t *testing.T) {
	const cl = "(a secret on a command line)"
	tests := []redactCase{
		{"env -S quoted", "env -S 'curl -u admin:hunter2 x'", "env -S 'curl -u admin:<redacted> x'", cl},
		{"env -S escaped", `env -S curl\ -u\ admin:hunter2\ x`, `env -S curl\ -u\ admin:<redacted>\ x`, cl},
		{"env -S attached", `env -vS'mysql -phunter2 db'`, `env -vS'mysql -p<redacted> db'`, cl},
		{"env --split-string=", `env --split-string=sshpass\ -p\ hunter2\ ssh\ h`, `env --split-string=sshpass\ -p\ <redacted>\ ssh\ h`, cl},
		{"env -S after flags and sudo", "sudo env -i -S 'PATH=/bin curl -u admin:hunter2 x'", "sudo env -i -S 'PATH=/bin curl -u admin:<redacted> x'", cl},
		{"sh -c escaped", `sh -c curl\ -u\ admin:hunter2\ x`, `sh -c curl\ -u\ admin:<redacted>\ x`, cl},
		{"sh -c unquoted", "sh -c curl -u admin:hunter2 x", "sh -c curl -u admin:<redacted> x", cl},
		{"bash -euo pipefail -c", "bash -euo pipefail -c curl -u admin:hunter2 x", "bash -euo pipefail -c curl -u admin:<redacted> x", cl},
		{"busybox sh -c", "busybox sh -c mysql -phunter2 db", "busybox sh -c mysql -p<redacted> db", cl},
		{"timeout sh -c", "timeout 5 /bin/sh -c curl -u admin:hunter2 x", "timeout 5 /bin/sh -c curl -u admin:<redacted> x", cl},
		{"nice bash -c quoted", `nice bash -c "curl -u admin:hunter2 x"`, `nice bash -c "curl -u admin:<redacted> x"`, cl},
		{"sudo sh -c quoted", "sudo -u app sh -c 'mysql -phunter2 db'", "sudo -u app sh -c 'mysql -p<redacted> db'", cl},
		{"sh -c, a quoted script and an escape", `sh -c 'curl -u admin:'hunter\2' x'`, `sh -c 'curl -u admin:'<redacted>' x'`, cl},
		// A quoted first word of a script recorded without its quotes.
		{"sh -c, a quoted first word", "sh -c 'curl' -u admin:hunter2 x", "sh -c 'curl' -u admin:<redacted> x", cl},
		{"env -S, a quoted value and more", "env -S 'curl' -u admin:hunter2 x", "env -S 'curl' -u admin:<redacted> x", cl},
		{"env -S, a quoted value, split", "env -S 'curl -u' admin:hunter2 x", "env -S 'curl -u' admin:<redacted> x", cl},
		// The command in the arguments after the script: "$0" and "$@".
		{`exec "$@"`, `sh -c 'exec "$@"' -- curl -u admin:hunter2 x`, `sh -c 'exec "$@"' -- curl -u admin:<redacted> x`, cl},
		{`"$0" "$@"`, `sh -c '"$0" "$@"' curl -u admin:hunter2 x`, `sh -c '"$0" "$@"' curl -u admin:<redacted> x`, cl},
		{`"$@" after _`, `bash -ec 'set -x; "$@"' _ sshpass -p hunter2 ssh h`, `bash -ec 'set -x; "$@"' _ sshpass -p <redacted> ssh h`, cl},
		{`${@}`, `sh -c 'exec ${@}' sh mysql -phunter2 db`, `sh -c 'exec ${@}' sh mysql -p<redacted> db`, cl},
		// No secret.
		{"sh -c, arguments", "sh -c 'echo $1' -- -p", "sh -c 'echo $1' -- -p", ""},
		{"sh -c, ssh -p in the arguments", `sh -c 'exec "$@"' -- ssh -p 2222 h`, `sh -c 'exec "$@"' -- ssh -p 2222 h`, ""},
		{"sh -c, docker run -p in the arguments", `sh -c '"$0" "$@"' docker run -p 80:80 -u 1000:1000 img`, `sh -c '"$0" "$@"' docker run -p 80:80 -u 1000:1000 img`, ""},
		{"sh -c, no reference to the arguments", "sh -c 'echo hi' curl -u admin:x", "sh -c 'echo hi' curl -u admin:x", ""},
		{"sh -c ssh -p", "sh -c ssh -p 22 h", "sh -c ssh -p 22 h", ""},
		{"sh runs a file", "sh install.sh -c curl -u admin:x", "sh install.sh -c curl -u admin:x", ""},
		{"env -S reference", `env -S 'curl -u "$U:$P" x'`, `env -S 'curl -u "$U:$P" x'`, ""},
		{"sh -c mysql -p prompts", `sh -c mysql\ -p\ db`, `sh -c mysql\ -p\ db`, ""},
		{"env -S alone", "env -S", "env -S", ""},
	}
	checkRedact(t, secret.Redact, tests, true, "hunter")
}
