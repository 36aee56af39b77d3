package ext4

import (
	"encoding/binary"
	"fmt"
)

// Extent tree layout.
const (
	extentMagic    = 0xF30A
	extentMaxDepth = 5
	extentInitMax  = 32768 // ee_len above this marks an uninitialised extent
)

// run is a stretch of logical blocks that map to consecutive physical
// blocks starting at phys, or to zeros when phys is 0 (a hole or an
// uninitialised extent).
type run struct {
	phys uint64
	n    uint64
}

// extentHeader is a decoded ext4_extent_header.
type extentHeader struct {
	entries, depth int
}

// parseExtentHeader checks the header at the start of node, an extent
// tree node of len(node) bytes.
func parseExtentHeader(node []byte, ino uint32) (extentHeader, error) {
	le := binary.LittleEndian
	if m := le.Uint16(node); m != extentMagic {
		return extentHeader{}, corruptf("inode %d: extent header magic 0x%04x", ino, m)
	}
	h := extentHeader{entries: int(le.Uint16(node[2:])), depth: int(le.Uint16(node[6:]))}
	max := int(le.Uint16(node[4:]))
	if h.entries > max || 12+12*max > len(node) {
		return h, corruptf("inode %d: extent node with %d of %d entries in %d bytes", ino, h.entries, max, len(node))
	}
	if h.depth > extentMaxDepth {
		return h, corruptf("inode %d: extent tree depth %d", ino, h.depth)
	}
	return h, nil
}

// hasExtentMagic reports whether node starts with an extent header magic.
func hasExtentMagic(node []byte) bool {
	return binary.LittleEndian.Uint16(node) == extentMagic
}

// extentRun maps logical block lblk of an extent-mapped inode. It reads
// one block per level of the tree below the inode, except that a leaf
// kept in c (which may be nil) that covers lblk is searched directly.
func (fsys *FS) extentRun(in *inode, c *runCache, lblk uint64) (run, error) {
	le := binary.LittleEndian
	// Logical block numbers are 32 bits; everything above is a hole.
	const limit = 1 << 32
	if lblk >= limit {
		return run{n: 1 << 62}, nil
	}
	node := in.block[:]
	end := uint64(limit) // first logical block past this subtree
	want := -1
	lo := uint64(0) // first logical block of this subtree
	if c != nil {
		c.mu.Lock()
		l := c.leaf
		c.mu.Unlock()
		if l.node != nil && l.lo <= lblk && lblk < l.end {
			node, lo, end, want = l.node, l.lo, l.end, 0
		}
	}
	for {
		nodeEnd := end
		h, err := parseExtentHeader(node, in.ino)
		if err != nil {
			return run{}, err
		}
		if want >= 0 && h.depth != want {
			return run{}, corruptf("inode %d: extent node of depth %d below depth %d", in.ino, h.depth, want+1)
		}
		// i is the last entry starting at or before lblk, -1 if none.
		i, prev := -1, uint64(0)
		for k := range h.entries {
			start := uint64(le.Uint32(node[12+12*k:]))
			if k > 0 && start <= prev {
				return run{}, corruptf("inode %d: extent entries out of order (%d after %d)", in.ino, start, prev)
			}
			prev = start
			if start > lblk {
				end = min(end, start)
				break
			}
			i = k
		}
		if i < 0 {
			return run{n: end - lblk}, nil
		}
		e := node[12+12*i:]
		start := uint64(le.Uint32(e))
		if h.depth == 0 {
			if c != nil && want == 0 {
				c.mu.Lock()
				c.leaf = extentLeaf{node: node, lo: lo, end: nodeEnd}
				c.mu.Unlock()
			}
			n := uint64(le.Uint16(e[4:]))
			uninit := n > extentInitMax
			if uninit {
				n -= extentInitMax
			}
			phys := uint64(le.Uint16(e[6:]))<<32 | uint64(le.Uint32(e[8:]))
			if n == 0 || phys == 0 || phys >= fsys.g.blocks || fsys.g.blocks-phys < n {
				return run{}, corruptf("inode %d: extent of %d blocks at block %d outside %d blocks", in.ino, n, phys, fsys.g.blocks)
			}
			if lblk >= start+n {
				return run{n: end - lblk}, nil
			}
			r := run{phys: phys + lblk - start, n: start + n - lblk}
			if uninit {
				r.phys = 0
			}
			return r, nil
		}
		child := uint64(le.Uint16(e[8:]))<<32 | uint64(le.Uint32(e[4:]))
		lo = start
		node = make([]byte, fsys.g.blockSize)
		if err := fsys.readBlock(node, child); err != nil {
			return run{}, fmt.Errorf("inode %d: extent index block %d: %w", in.ino, child, err)
		}
		want = h.depth - 1
	}
}
