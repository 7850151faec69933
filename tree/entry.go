// Package tree turns layer tars into per-layer change sets and merges them,
// in order, into one tree with every version of every path: the facts behind
// the added, modified and removed counts and the waste figures of SPEC.md.
//
// It imports nothing of layerscope's and keeps no view state.
package tree

import "fmt"

// Kind is the type of a tree entry.
type Kind uint8

const (
	KindNone Kind = iota // absent: a removal
	KindFile
	KindDir
	KindSymlink
	KindHardlink
	KindChar
	KindBlock
	KindFIFO
)

func (k Kind) String() string {
	switch k {
	case KindNone:
		return "removed"
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	case KindHardlink:
		return "hardlink"
	case KindChar:
		return "char"
	case KindBlock:
		return "block"
	case KindFIFO:
		return "fifo"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Flags are facts a Sniffer noted about a file's first bytes.
type Flags uint8

// Meta is what a version of a path is, without its name. It is kept compact:
// a merged tree holds one per version of every path.
type Meta struct {
	Link string // symlink target as written, or hard link target (clean)
	Size int64  // regular files only
	Hash uint64 // XXH3 of a regular file's content (ContentHash)
	Mode uint32 // permission and special bits (07777)
	UID  uint32
	GID  uint32
	Kind Kind
	// Flags holds what the Sniffer noted about a regular file's content.
	Flags Flags
}

// SameDir reports whether a and b are directories with the same mode and
// owner: a layer that re-emits such a directory has not changed it.
func SameDir(a, b *Meta) bool {
	return a.Kind == KindDir && b.Kind == KindDir && a.Mode == b.Mode && a.UID == b.UID && a.GID == b.GID
}

// Entry is one entry of a layer tar: a clean path and its metadata.
type Entry struct {
	Path string
	Meta
}
