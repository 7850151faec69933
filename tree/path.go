package tree

import (
	"errors"
	"strings"
)

// ErrEscape reports a name with a ".." that would leave the root.
var ErrEscape = errors.New("path escapes the root")

// Clean normalises a name from a layer tar as SPEC.md says: leading "./" and
// "/", "." segments and repeated slashes go, and ".." pops a segment. A ".."
// that would leave the root is ErrEscape. The root itself is "".
//
// The common case (an already clean name) returns a substring of name
// without allocating.
func Clean(name string) (string, error) {
	name = strings.TrimLeft(name, "/")
	for strings.HasPrefix(name, "./") {
		name = strings.TrimLeft(name[2:], "/")
	}
	name = strings.TrimRight(name, "/")
	if name == "." {
		return "", nil
	}
	if isClean(name) {
		return name, nil
	}
	var segs []string
	for _, s := range strings.Split(name, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", ErrEscape
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, s)
		}
	}
	return strings.Join(segs, "/"), nil
}

// isClean reports whether name has no empty, "." or ".." segment.
func isClean(name string) bool {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '/' {
			continue
		}
		switch name[start:i] {
		case "", ".", "..":
			return false
		}
		start = i + 1
	}
	return true
}

// Dir returns the parent of a clean path ("" for a top-level name).
func Dir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Base returns the last segment of a clean path.
func Base(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}
