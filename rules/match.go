package rules

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// pattern is one compiled path pattern (see Rule).
type pattern struct {
	anyDepth bool     // it began with "**/"
	segs     []string // globs, one per segment
	dir      bool     // it ended with "/": a directory and all under it
}

func compile(p string) (pattern, error) {
	var c pattern
	if strings.HasPrefix(p, "/") {
		return c, fmt.Errorf("pattern %q: write it without the leading /", p)
	}
	if rest, ok := strings.CutPrefix(p, "**/"); ok {
		c.anyDepth, p = true, rest
	}
	if rest, ok := strings.CutSuffix(p, "/"); ok {
		c.dir, p = true, rest
	}
	if p == "" {
		return c, errors.New("empty pattern")
	}
	c.segs = strings.Split(p, "/")
	for _, s := range c.segs {
		if s == "" || s == "**" {
			return c, fmt.Errorf("pattern %q: ** may only lead, and segments may not be empty", p)
		}
		if _, err := path.Match(s, ""); err != nil {
			return c, fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return c, nil
}

// match reports whether the clean path p (no leading "/") matches.
func (c *pattern) match(p string) bool {
	for i := len(c.segs) - 1; i >= 0; i-- {
		j := strings.LastIndexByte(p, '/')
		seg := p[j+1:]
		if !globMatch(c.segs[i], seg) {
			return false
		}
		if j < 0 {
			return i == 0
		}
		p = p[:j]
	}
	return c.anyDepth
}

// under reports whether p is, or lies under, a directory the pattern
// matches.
func (c *pattern) under(p string) bool {
	for {
		if c.match(p) {
			return true
		}
		j := strings.LastIndexByte(p, '/')
		if j < 0 {
			return false
		}
		p = p[:j]
	}
}

func globMatch(glob, s string) bool {
	if !strings.ContainsAny(glob, `*?[\`) {
		return glob == s
	}
	ok, _ := path.Match(glob, s)
	return ok
}

// keys returns the pattern's last segment when it has no glob, and
// the extension when it is "*.ext": the keys of the matcher's index.
func (c *pattern) keys() (base, ext string) {
	last := c.segs[len(c.segs)-1]
	if !strings.ContainsAny(last, `*?[\`) {
		return last, ""
	}
	if e, ok := strings.CutPrefix(last, "*"); ok && strings.HasPrefix(e, ".") && !strings.ContainsAny(e, `*?[\`) {
		return "", e
	}
	return "", ""
}
