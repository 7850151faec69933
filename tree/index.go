package tree

import "hash/maphash"

// A node keeps a name's length in 16 bits.
const maxName = 1<<16 - 1

// index finds a node by its parent and name: an open-addressing table of
// node numbers (0 is empty: the root has no parent), at most half full.
// Its hash is seeded per process, so no image can choose names that
// collide.
type index struct {
	seed  maphash.Seed
	slots []int32
	count int
	// the directory of the last lookup, and its node; then directories
	// looked up lately, by a hash of their path: entries come directory by
	// directory, or cycle through a few
	lastDir  string
	lastNode int32
	dirs     [256]struct {
		path string
		node int32
	}
}

// dir returns the node of a directory path looked up lately, or -1.
func (x *index) dir(p string) (int32, uint64) {
	h := maphash.String(x.seed, p) & uint64(len(x.dirs)-1)
	if d := &x.dirs[h]; d.node > 0 && d.path == p {
		return d.node, h
	}
	return -1, h
}

func (x *index) init() {
	x.seed = maphash.MakeSeed()
	x.slots = make([]int32, 1024)
}

func (x *index) hash(parent int32, name string) uint64 {
	h := maphash.String(x.seed, name) ^ uint64(uint32(parent))*0x9e3779b97f4a7c15
	return h ^ h>>29
}

// find returns parent's child called name, or -1.
func (x *index) find(s *store, parent int32, name string) int32 {
	mask := uint64(len(x.slots) - 1)
	for i := x.hash(parent, name) & mask; ; i = (i + 1) & mask {
		n := x.slots[i]
		if n == 0 {
			return -1
		}
		if s.nodes.at(n).parent == parent && s.name(n) == name {
			return n
		}
	}
}

// add records node n, which find does not know yet.
func (x *index) add(s *store, n int32) {
	if 2*(x.count+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]int32, 2*len(old))
		for _, m := range old {
			if m != 0 {
				x.put(s, m)
			}
		}
	}
	x.put(s, n)
	x.count++
}

func (x *index) put(s *store, n int32) {
	mask := uint64(len(x.slots) - 1)
	i := x.hash(s.nodes.at(n).parent, s.name(n)) & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = n
}
