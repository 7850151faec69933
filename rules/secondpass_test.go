package rules_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/layerscope/layerscope/config"
	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
)

// TestLeftoversSecondPass covers issue 9 on generated archives; the
// daemon tests check the same on real images from both builders.
func TestLeftoversSecondPass(t *testing.T) {
	big := strings.Repeat("s", 1_200_000)
	sh := it.Chmod(it.Reg("bin/sh", "ELF"), 0o755)
	tests := []struct {
		name   string
		img    it.Image
		want   []string
		check  func(t *testing.T, r *report.Report)
		limits func(l *config.Limits)
		pass   bool
	}{{
		name: "package databases rewritten by an install: one info, left out of the CI waste rules",
		img: it.Image{Layers: [][]byte{
			it.Layer(sh, it.Reg("var/lib/dpkg/status", big), it.Reg("etc/ld.so.cache", "cache-1")),
			it.Layer(it.Reg("var/lib/dpkg/status", big+"more"), it.Reg("etc/ld.so.cache", "cache-2"), it.Reg("usr/bin/curl", strings.Repeat("c", 100_000))),
		}, History: []it.History{{CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: "RUN /bin/sh -c apt-get install -y curl # buildkit"}}, User: "10001"},
		want: []string{"package-db@1 /var/lib/dpkg/status,/etc/ld.so.cache"},
		check: func(t *testing.T, r *report.Report) {
			if r.Summary.UnavoidableWastedBytes != 1_200_007 || r.Summary.WastedBytes != 1_200_007 {
				t.Errorf("unavoidable %d of %d", r.Summary.UnavoidableWastedBytes, r.Summary.WastedBytes)
			}
			if r.Findings[0].Severity != "info" || !strings.Contains(r.Findings[0].Message, "no Dockerfile can avoid them") {
				t.Errorf("finding %+v", r.Findings[0])
			}
			if r.CI.Waste.Judged != "avoidable" || r.CI.Waste.Bytes != 0 {
				t.Errorf("judged %+v", r.CI.Waste)
			}
		},
		pass: true,
	}, {
		name: "--strict-waste judges the package databases too",
		img: it.Image{Layers: [][]byte{
			it.Layer(sh, it.Reg("var/lib/dpkg/status", big)),
			it.Layer(it.Reg("var/lib/dpkg/status", big+"more")),
		}, User: "10001"},
		want:   []string{"package-db@1 /var/lib/dpkg/status"},
		limits: func(l *config.Limits) { l.StrictWaste = config.Limit{Value: 1, From: "flag"} },
		check: func(t *testing.T, r *report.Report) {
			if r.CI.Waste.Judged != "all" || r.CI.Waste.Bytes != 1_200_000 {
				t.Errorf("judged %+v", r.CI.Waste)
			}
		},
		pass: false,
	}, {
		name: "a tiny image: 4 B wasted is under the 1 MB floor",
		img: it.Image{Layers: [][]byte{it.Layer(sh), it.Layer(it.Reg("app/x", "abcd"), it.Reg("app/y", "12345678")), it.Layer(it.Whiteout("app", "x"))},
			User: "10001"},
		want: []string{"removed-later@1 /app/x"},
		check: func(t *testing.T, r *report.Report) {
			if r.CI.Rules[0].Note == "" || !r.CI.Rules[0].Pass {
				t.Errorf("rule %+v", r.CI.Rules[0])
			}
		},
		pass: true,
	}, {
		name:   "a floor of 0 judges any waste",
		img:    it.Image{Layers: [][]byte{it.Layer(sh), it.Layer(it.Reg("app/x", "abcd"), it.Reg("app/y", "12345678")), it.Layer(it.Whiteout("app", "x"))}, User: "10001"},
		want:   []string{"removed-later@1 /app/x"},
		limits: func(l *config.Limits) { l.WasteFloor = config.Limit{Value: 0, From: "flag"} },
		pass:   false,
	}, {
		name: "metadata-only waste by cause: mode changed, same bytes rewritten, a lock file copied again",
		img: it.Image{Layers: [][]byte{
			it.Layer(sh, it.Reg("app/bin", "binary")),
			it.Layer(it.Reg("app/package-lock.json", "{}"), it.Reg("app/package.json", "{}")),
			it.Layer(it.Chmod(it.Reg("app/bin", "binary"), 0o755)),
			it.Layer(it.Reg("app/package-lock.json", "{}")),
			it.Layer(it.Reg("app/package.json", "{}"), it.Reg("app/main.js", "x")),
		}, History: []it.History{{CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: "COPY package*.json ./ # buildkit"}, {CreatedBy: "RUN /bin/sh -c chmod 755 /app/bin # buildkit"},
			{CreatedBy: "RUN /bin/sh -c npm install # buildkit"}, {CreatedBy: "COPY ./ . # buildkit"}}, User: "10001"},
		want: []string{"metadata-only@0 /app/bin", "rewritten-unchanged@1 /app/package-lock.json"},
		check: func(t *testing.T, r *report.Report) {
			if !strings.Contains(r.Findings[0].Message, "mode or owner") || !strings.Contains(r.Findings[1].Message, "same bytes, mode and owner") ||
				strings.Contains(r.Findings[1].Advice, "chmod") {
				t.Errorf("messages %q / %q (%q)", r.Findings[0].Message, r.Findings[1].Message, r.Findings[1].Advice)
			}
		},
		pass: true,
	}, {
		name: "one .git folder that three layers touch: one finding",
		img: it.Image{Layers: [][]byte{
			it.Layer(sh, it.Reg("src/.git/HEAD", "ref"), it.Reg("src/.git/index", "1")),
			it.Layer(it.Reg("src/.git/index", "2")),
			it.Layer(it.Reg("src/.git/index", "3"), it.Reg("src/.git/ORIG_HEAD", "x")),
		}, User: "10001"},
		want: []string{"vcs-folder@0 /src/.git"},
		check: func(t *testing.T, r *report.Report) {
			if !strings.Contains(r.Findings[0].Message, "(layers 0, 1, 2)") {
				t.Errorf("message %q", r.Findings[0].Message)
			}
		},
		pass: true,
	}, {
		name: "a 20-byte .dockerignore is no finding",
		img:  it.Image{Layers: [][]byte{it.Layer(sh, it.Reg("app/.dockerignore", "*.log\nDockerfile\n"), it.Reg("app/main.py", "x"))}, User: "10001"},
		pass: true,
	}, {
		name: "a scratch image with USER nobody and no /etc/passwd: error",
		img:  it.Image{Layers: [][]byte{it.Layer(it.Reg("go-app", "ELF"))}, User: "nobody"},
		want: []string{"user-undefined@0 "},
		pass: false,
	}, {
		name: "a user the passwd does not define: error",
		img:  it.Image{Layers: [][]byte{it.Layer(sh, passwd, it.Reg("etc/group", "root:x:0:\napp:x:1000:\n"))}, User: "ghost"},
		want: []string{"user-undefined@0 "},
		pass: false,
	}, {
		name: "a group the group file does not define: error",
		img:  it.Image{Layers: [][]byte{it.Layer(sh, passwd, it.Reg("etc/group", "root:x:0:\napp:x:1000:\n"))}, User: "app:staff"},
		want: []string{"user-undefined@0 "},
		pass: false,
	}, {
		name: "a defined user, a numeric one, a passwd too big to read: no finding",
		img: it.Image{Layers: [][]byte{it.Layer(sh, it.Reg("etc/group", "root:x:0:\napp:x:1000:\n"),
			it.Reg("etc/passwd", strings.Repeat("daemon:x:1:1::/:/sbin/nologin\n", 2200)))}, User: "www-data"},
		pass: true,
	}, {
		// 1,100 users in 34 kB: inside the window, but more names than
		// the facts keep. The last one is defined all the same.
		name: "a passwd of more names than are kept: a user defined on its last line is no finding",
		img: it.Image{Layers: [][]byte{it.Layer(sh, it.Reg("etc/group", "root:x:0:\n"),
			it.Reg("etc/passwd", manyUsers(1100)))}, User: "u1099"},
		pass: true,
	}, {
		name: "a passwd of Debian's size (1.2 kB) is read whole: an undefined user is an error",
		img: it.Image{Layers: [][]byte{it.Layer(sh, it.Reg("etc/group", "root:x:0:\napp:x:1000:\n"),
			it.Reg("etc/passwd", strings.Repeat("daemon:x:1:1::/:/sbin/nologin\n", 40)))}, User: "www-data"},
		want: []string{"user-undefined@0 "},
		pass: false,
	}, {
		name: "the JDK's own parts, counted as one finding",
		img: it.Image{Layers: [][]byte{it.Layer(sh,
			it.Reg("opt/java/openjdk/bin/javac", "javac"), it.Reg("opt/java/openjdk/bin/java", "java"), it.Reg("opt/java/openjdk/bin/jlink", "jlink"),
			it.Reg("opt/java/openjdk/jmods/java.base.jmod", strings.Repeat("j", 5000)), it.Reg("opt/java/openjdk/include/jni.h", "hh"),
			it.Reg("opt/java/openjdk/lib/src.zip", "srczip"), it.Reg("opt/java/openjdk/lib/ct.sym", "ct"), it.Reg("opt/java/openjdk/lib/modules", "modules"))},
			User: "10001"},
		want: []string{"jdk@0 /opt/java/openjdk/jmods,/opt/java/openjdk/lib/src.zip,/opt/java/openjdk/bin/javac,/opt/java/openjdk/bin/jlink,/opt/java/openjdk/include"},
		check: func(t *testing.T, r *report.Report) {
			if r.Findings[0].Bytes != 5000+5+5+6+2+2 {
				t.Errorf("bytes %d", r.Findings[0].Bytes)
			}
		},
		pass: true,
	}, {
		name: "node_modules copied from the host beside a package.json the image installs",
		img: it.Image{Layers: [][]byte{it.Layer(sh),
			it.Layer(it.Reg("app/package.json", "{}"), it.Reg("app/main.js", "x"), it.Reg("app/node_modules/a/index.js", "host")),
			it.Layer(it.Whiteout("app", "node_modules"), it.Reg("app/node_modules/a/index.js", "built"))},
			History: []it.History{{CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: "COPY . /app # buildkit"}, {CreatedBy: "RUN /bin/sh -c npm ci # buildkit"}}, User: "10001"},
		want: []string{"context-junk@1 /app/node_modules", "install-after-copy@2 "},
		pass: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyse(t, tc.img, nil)
			if got := brief(r.Findings); !reflect.DeepEqual(got, append([]string{}, tc.want...)) {
				t.Fatalf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			l := report.DefaultLimits()
			if tc.limits != nil {
				tc.limits(&l)
			}
			r.Check(l, false, report.FailOn{Set: report.DefaultFailOn, From: "default"})
			if r.CI.Pass != tc.pass {
				t.Errorf("pass %v, want %v: %+v", r.CI.Pass, tc.pass, r.CI)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestRootAdvice: the fix for an image that runs as root fits its base.
func TestRootAdvice(t *testing.T) {
	useradd := it.Chmod(it.Reg("usr/sbin/useradd", "ELF"), 0o755)
	tests := []struct {
		name  string
		files []it.File
		want  string
	}{
		{"Debian", []it.File{it.Reg("usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"), it.Sym("etc/os-release", "../usr/lib/os-release"),
			useradd, it.Reg("usr/sbin/adduser", "#!/usr/bin/perl")}, "RUN useradd --system --uid 10001 app"},
		{"Ubuntu", []it.File{it.Reg("etc/os-release", "ID=ubuntu\nID_LIKE=debian\n"), useradd}, "RUN useradd --system --uid 10001 app"},
		{"Alpine", []it.File{it.Reg("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\n"), it.Reg("bin/busybox", "ELF"), it.Sym("bin/sh", "/bin/busybox")}, "RUN adduser -D -u 10001 app"},
		{"RHEL-like", []it.File{it.Reg("etc/os-release", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"), useradd}, "RUN useradd -r -u 10001 app"},
		{"scratch", []it.File{it.Reg("server", "ELF")}, "USER 65532:65532"},
		{"distroless", []it.File{it.Reg("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"), it.Reg("etc/os-release", "ID=debian\n")}, "USER 65532:65532"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyse(t, it.Image{Layers: [][]byte{it.Layer(tc.files...)}}, nil)
			if len(r.Findings) != 1 || r.Findings[0].Rule != "run-as-root" || !strings.Contains(r.Findings[0].Advice, tc.want) {
				t.Fatalf("findings %+v, want run-as-root advising %q", r.Findings, tc.want)
			}
		})
	}
}

// TestBuildFilesAdvice: the fix follows the instruction that put them there.
func TestBuildFilesAdvice(t *testing.T) {
	tests := []struct {
		name    string
		history []it.History
		want    string
	}{
		{"a RUN made them", []it.History{{CreatedBy: "RUN /bin/sh -c go mod init example.com/x # buildkit"}}, "builder stage"},
		{"the stage builds from them", []it.History{{CreatedBy: "COPY go.mod main.txt /src/ # buildkit"}, {CreatedBy: "RUN /bin/sh -c go build -o /app . # buildkit"}}, "builder stage"},
		{"a final stage that builds nothing", []it.History{{CreatedBy: "COPY go.mod main.txt /src/ # buildkit"}, {CreatedBy: "RUN /bin/sh -c echo ok # buildkit"}}, ".dockerignore"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			layers := [][]byte{it.Layer(it.Reg("src/go.mod", "module x"), it.Reg("src/main.txt", "x"))}
			if len(tc.history) > 1 {
				layers = append(layers, it.Layer(it.Reg("app", "ELF")))
			}
			r := analyse(t, it.Image{Layers: layers, History: tc.history, User: "10001"}, nil)
			if len(r.Findings) != 1 || r.Findings[0].Rule != "build-files" || !strings.Contains(r.Findings[0].Advice, tc.want) {
				t.Fatalf("findings %+v, want build-files advising %q", r.Findings, tc.want)
			}
		})
	}
}

// manyUsers is a passwd of n short lines, root and u1 to u(n-1).
func manyUsers(n int) string {
	var b strings.Builder
	b.WriteString("root:x:0:0:root:/root:/bin/sh\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "u%d:x:%d:%d::/:/bin/false\n", i, 2000+i, 2000+i)
	}
	return b.String()
}
