package tree

// The merged tree's storage, kept small: a million paths are a million
// nodes. A node holds its name (not its path), its parent, and its newest
// version inline; older versions, rarer, sit in one array, and link
// targets, rarer still, in side tables.

// meta is Meta without its link target.
type meta struct {
	Size  int64
	Hash  uint64
	Mode  uint32
	UID   uint32
	GID   uint32
	Kind  Kind
	Flags Flags
}

func pack(m *Meta) meta {
	return meta{Size: m.Size, Hash: m.Hash, Mode: m.Mode, UID: m.UID, GID: m.GID, Kind: m.Kind, Flags: m.Flags}
}

func (m *meta) Meta(link string) Meta {
	return Meta{Link: link, Size: m.Size, Hash: m.Hash, Mode: m.Mode, UID: m.UID, GID: m.GID, Kind: m.Kind, Flags: m.Flags}
}

// A node is a path that some layer named. Node 0 is the root.
type node struct {
	meta          // the newest version, when layer >= 0
	name   uint32 // where names holds the name (see name)
	nlen   uint16
	layer  int16 // the newest version's layer, or -1 before the path exists
	parent int32
	older  int32 // the version before the newest, in versions, or -1
}

// A version is an older version of a node. Versions of a node are linked
// newest first; Kind KindNone marks a removal.
type version struct {
	meta
	layer int16
	prev  int32 // the version before it, or -1
}

// Version cursors: newest is a node's inline version, none the end; any
// other value indexes versions.
const (
	newest int32 = -2
	none   int32 = -1
)

// maxLayers bounds the layers of a Builder: a layer number fits a node.
const maxLayers = 1<<15 - 1

type store struct {
	nodes    chunked[node]
	versions []version
	names    []string         // the nodes' names, end to end, in chunks of 1 MiB
	links    map[int32]string // link targets of newest versions, by node
	vlinks   map[int32]string // link targets of older versions, by version
}

// A name's place is its chunk (the top 12 bits) and its offset in it.
const nameChunkBits = 20

func (s *store) name(n int32) string {
	nd := s.nodes.at(n)
	c, off := nd.name>>nameChunkBits, nd.name&(1<<nameChunkBits-1)
	return s.names[c][off : off+uint32(nd.nlen)]
}

// chunked is a growable array that never copies more than its first
// chunk: growing it leaves no garbage to collect, and no room unused past
// one chunk.
type chunked[T any] struct {
	c [][]T
	n int
}

const chunkBits = 16

func (a *chunked[T]) at(i int32) *T { return &a.c[i>>chunkBits][i&(1<<chunkBits-1)] }
func (a *chunked[T]) len() int      { return a.n }

// push appends v. The first chunk grows as a slice does; pointers into it
// do not survive a push.
func (a *chunked[T]) push(v T) {
	if len(a.c) == 0 || len(a.c[len(a.c)-1]) == 1<<chunkBits {
		size := 0
		if len(a.c) > 0 {
			size = 1 << chunkBits
		}
		a.c = append(a.c, make([]T, 0, size))
	}
	last := &a.c[len(a.c)-1]
	*last = append(*last, v)
	a.n++
}

// path builds n's path from its names.
func (s *store) path(n int32) string {
	size := -1
	for a := n; a > 0; a = s.nodes.at(a).parent {
		size += int(s.nodes.at(a).nlen) + 1
	}
	if size <= 0 {
		return ""
	}
	buf := make([]byte, size)
	i := size
	for a := n; a > 0; a = s.nodes.at(a).parent {
		i -= copy(buf[i-int(s.nodes.at(a).nlen):i], s.name(a))
		if i > 0 {
			i--
			buf[i] = '/'
		}
	}
	return string(buf)
}

// newest returns the cursor of n's newest version, or none.
func (s *store) newest(n int32) int32 {
	if s.nodes.at(n).layer < 0 {
		return none
	}
	return newest
}

// older returns the cursor of the version before v.
func (s *store) older(n, v int32) int32 {
	if v == newest {
		return s.nodes.at(n).older
	}
	return s.versions[v].prev
}

// version returns the version at cursor v and its layer.
func (s *store) version(n, v int32) (*meta, int) {
	if v == newest {
		return &s.nodes.at(n).meta, int(s.nodes.at(n).layer)
	}
	return &s.versions[v].meta, int(s.versions[v].layer)
}

// expand returns the version at cursor v with its link target.
func (s *store) expand(n, v int32, m *meta) Meta {
	if m.Kind != KindSymlink && m.Kind != KindHardlink {
		return m.Meta("")
	}
	if v == newest {
		return m.Meta(s.links[n])
	}
	return m.Meta(s.vlinks[v])
}
