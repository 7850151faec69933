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
	name   uint32 // the name is names[name : name+nlen]
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
	nodes    []node
	versions []version
	names    string           // every node's name, end to end
	links    map[int32]string // link targets of newest versions, by node
	vlinks   map[int32]string // link targets of older versions, by version
}

func (s *store) name(n int32) string {
	nd := &s.nodes[n]
	return s.names[nd.name : nd.name+uint32(nd.nlen)]
}

// path builds n's path from its names.
func (s *store) path(n int32) string {
	size := -1
	for a := n; a > 0; a = s.nodes[a].parent {
		size += int(s.nodes[a].nlen) + 1
	}
	if size <= 0 {
		return ""
	}
	buf := make([]byte, size)
	i := size
	for a := n; a > 0; a = s.nodes[a].parent {
		i -= copy(buf[i-int(s.nodes[a].nlen):i], s.name(a))
		if i > 0 {
			i--
			buf[i] = '/'
		}
	}
	return string(buf)
}

// newest returns the cursor of n's newest version, or none.
func (s *store) newest(n int32) int32 {
	if s.nodes[n].layer < 0 {
		return none
	}
	return newest
}

// older returns the cursor of the version before v.
func (s *store) older(n, v int32) int32 {
	if v == newest {
		return s.nodes[n].older
	}
	return s.versions[v].prev
}

// version returns the version at cursor v and its layer.
func (s *store) version(n, v int32) (*meta, int) {
	if v == newest {
		return &s.nodes[n].meta, int(s.nodes[n].layer)
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
