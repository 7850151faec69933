package tree

import "strings"

// Whiteout markers, as the OCI image spec defines them.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	metaPrefix     = ".wh..wh." // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
)

// markerKind tells what a clean path names when its last segment is a marker.
type markerKind uint8

const (
	notMarker markerKind = iota
	markerWhiteout
	markerOpaque
	markerMeta
)

// classify reports whether the clean path p is a whiteout marker, and the
// path it acts on: the hidden path for a whiteout, the directory for an
// opaque marker.
func classify(p string) (markerKind, string) {
	base := Base(p)
	if !strings.HasPrefix(base, whiteoutPrefix) {
		return notMarker, ""
	}
	dir := Dir(p)
	switch {
	case base == opaqueMarker:
		return markerOpaque, dir
	case strings.HasPrefix(base, metaPrefix):
		return markerMeta, ""
	}
	name := base[len(whiteoutPrefix):]
	if name == "" || name == "." || name == ".." {
		return markerMeta, ""
	}
	if dir == "" {
		return markerWhiteout, name
	}
	return markerWhiteout, dir + "/" + name
}
