package rules

import (
	"bytes"
	"strings"
	"sync"

	"github.com/layerscope/layerscope/tree"
)

// sysFacts is what a small system file says: the names /etc/passwd or
// /etc/group define, or /etc/os-release's ID and ID_LIKE. Bodies are never
// kept: only these few names, keyed by the content hash the tree keeps for
// the file, so a rule can ask about the final version of a path.
type sysFacts struct {
	names map[string]bool
	id    string
	like  string
}

// sysMemo maps a content hash to its facts. It is content-addressed, so
// concurrent analyses share it safely; it is cleared when full.
var sysMemo = struct {
	sync.Mutex
	m map[uint64]*sysFacts
}{m: map[uint64]*sysFacts{}}

const maxSysMemo = 4096

// maxSysNames bounds the names kept for one passwd or group file.
const maxSysNames = 1024

// SystemWindow is how much of /etc/passwd, /etc/group and os-release the
// sniffer sees: a Debian /etc/passwd is about 1 kB, one with a few hundred
// users 32 kB.
const SystemWindow = 64 << 10

// systemFile reports the files noteSystemFile reads.
func systemFile(p string) bool {
	switch p {
	case "etc/passwd", "etc/group", "etc/os-release", "usr/lib/os-release":
		return true
	}
	return false
}

// noteSystemFile reads the names out of /etc/passwd, /etc/group and
// os-release as they stream past. A file the sniff window does not hold
// whole is not noted: its names are unknown, and no rule judges them.
func noteSystemFile(p string, head []byte) {
	if !systemFile(p) || len(head) >= SystemWindow {
		return
	}
	var f sysFacts
	switch p {
	case "etc/passwd", "etc/group":
		// At most maxSysNames names are kept: a file of more (it takes
		// 34 kB) is not noted, as one past the window is not, so no rule
		// calls a user undefined that is defined further down.
		f.names = map[string]bool{}
		for line := range bytes.Lines(head) {
			if name, _, ok := bytes.Cut(line, []byte(":")); ok && len(name) > 0 {
				if len(f.names) == maxSysNames {
					return
				}
				f.names[string(name)] = true
			}
		}
	case "etc/os-release", "usr/lib/os-release":
		for line := range bytes.Lines(head) {
			k, v, ok := strings.Cut(strings.TrimSpace(string(line)), "=")
			if !ok {
				continue
			}
			v = strings.ToLower(strings.Trim(v, `"'`))
			switch k {
			case "ID":
				f.id = v
			case "ID_LIKE":
				f.like = v
			}
		}
	default:
		return
	}
	h := tree.ContentHash(head)
	sysMemo.Lock()
	defer sysMemo.Unlock()
	if len(sysMemo.m) >= maxSysMemo {
		clear(sysMemo.m)
	}
	sysMemo.m[h] = &f
}

// finalFile returns the final version of a regular file at p, if any;
// ok is false when p is absent, and file is false when it is not a
// regular file (a symlink: its content is not known here).
func finalFile(t *tree.Tree, p string) (m tree.Meta, ok bool) {
	n, found := t.Lookup(p)
	if !found {
		return tree.Meta{}, false
	}
	m, _, ok = t.Final(n)
	return m, ok
}

// facts returns what the final file at p said, or nil when unknown.
func facts(t *tree.Tree, p string) *sysFacts {
	m, ok := finalFile(t, p)
	if !ok || m.Kind != tree.KindFile {
		return nil
	}
	sysMemo.Lock()
	defer sysMemo.Unlock()
	return sysMemo.m[m.Hash]
}

// exists reports whether any of paths is in the final image.
func exists(t *tree.Tree, paths ...string) bool {
	for _, p := range paths {
		if _, ok := finalFile(t, p); ok {
			return true
		}
	}
	return false
}

// rootAdvice fits the run-as-root fix to the base the image shows: its
// os-release, and which of useradd, adduser and busybox it holds.
func rootAdvice(t *tree.Tree) string {
	var os *sysFacts
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if os = facts(t, p); os != nil {
			break
		}
	}
	family := ""
	if os != nil {
		ids := " " + os.id + " " + os.like + " "
		switch {
		case strings.Contains(ids, " debian ") || strings.Contains(ids, " ubuntu "):
			family = "debian"
		case strings.Contains(ids, " alpine "):
			family = "alpine"
		case strings.Contains(ids, " rhel ") || strings.Contains(ids, " fedora ") || strings.Contains(ids, " centos "):
			family = "rhel"
		}
	}
	useradd := exists(t, "usr/sbin/useradd", "sbin/useradd", "usr/bin/useradd")
	adduser := exists(t, "usr/sbin/adduser", "sbin/adduser", "bin/adduser", "usr/bin/adduser")
	busybox := exists(t, "bin/busybox", "usr/bin/busybox")
	const then = ", then USER app"
	switch {
	case family == "debian" && useradd:
		return "add a user and switch to it (Debian/Ubuntu): RUN useradd --system --uid 10001 app" + then
	case family == "alpine" && (adduser || busybox):
		return "add a user and switch to it (Alpine): RUN adduser -D -u 10001 app" + then
	case family == "rhel" && useradd:
		return "add a user and switch to it (RHEL-like): RUN useradd -r -u 10001 app" + then
	case useradd:
		return "add a user and switch to it: RUN useradd --system --uid 10001 app" + then
	case adduser && busybox:
		return "add a user and switch to it (busybox): RUN adduser -D -u 10001 app" + then
	}
	return "switch to a numeric user: USER 65532:65532 (this image has no useradd or adduser; a numeric user needs no /etc/passwd entry)"
}

// undefinedUser checks a USER's name (and group) against the final
// /etc/passwd (and /etc/group). It returns what is missing, or "" when
// all is defined, numeric, or not known.
func undefinedUser(t *tree.Tree, user string) string {
	name, group, _ := strings.Cut(user, ":")
	check := func(what, p, v string) string {
		if v == "" || strings.Trim(v, "0123456789") == "" {
			return "" // numeric ids need no entry
		}
		if _, ok := finalFile(t, p); !ok {
			return what + " " + v + ": the image has no /" + p
		}
		f := facts(t, p)
		if f == nil || f.names == nil || f.names[v] {
			return ""
		}
		return what + " " + v + " is not in /" + p
	}
	if msg := check("user", "etc/passwd", name); msg != "" {
		return msg
	}
	return check("group", "etc/group", group)
}
