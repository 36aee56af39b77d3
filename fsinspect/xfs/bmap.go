package xfs

import (
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
)

// maxExtents bounds the block map of one file (24 bytes of memory per
// extent): a file of more extents fails with ErrUnsupported.
const maxExtents = 1 << 20

// maxBtreeLevels bounds the depth of a block map btree; the kernel's
// limit for the largest extent counts is 9.
const maxBtreeLevels = 9

// Block map btree block magics: v4 "BMAP", v5 "BMA3".
const (
	bmapMagic  = 0x424d4150
	bmap3Magic = 0x424d4133
)

// Long-format btree block header sizes, v4 and v5.
const (
	btreeHeaderV4 = 24
	btreeHeaderV5 = 72
)

// extent maps count file blocks from logical block off to linear blocks
// from blk; an unwritten extent reads as zeros.
type extent struct {
	off, blk, count uint64
	unwritten       bool
}

// extents returns the data fork's block map, sorted and checked: extent
// records in the inode, or the leaves of a btree rooted there (cached).
func (fsys *FS) extents(in *inode) ([]extent, error) {
	switch in.format {
	case fmtExtents:
		return fsys.appendRecords(in, nil, in.fork, in.nextents)
	case fmtBtree:
		if m, ok := fsys.maps.Get(in.ino); ok {
			return m, nil
		}
		m, err := fsys.btreeExtents(in)
		if err != nil {
			return nil, err
		}
		fsys.maps.Add(in.ino, m, 64+24*len(m))
		return m, nil
	}
	return nil, corruptf("inode %d: data fork format %d has no block map", in.ino, in.format)
}

// appendRecords decodes n packed extent records from b and appends them
// to m, checking that each lies inside the filesystem and starts after
// the previous one ends.
func (fsys *FS) appendRecords(in *inode, m []extent, b []byte, n uint64) ([]extent, error) {
	if n > uint64(len(b)/bmbtRecordSize) {
		return nil, corruptf("inode %d: %d extent records in %d bytes", in.ino, n, len(b))
	}
	if uint64(len(m))+n > maxExtents {
		return nil, unsupportedf("inode %d: more than %d extents", in.ino, maxExtents)
	}
	be := binary.BigEndian
	for i := range n {
		r := b[i*bmbtRecordSize:]
		l0, l1 := be.Uint64(r), be.Uint64(r[8:])
		e := extent{
			unwritten: l0>>63 != 0,
			off:       l0 << 1 >> 10,
			count:     l1 & (1<<21 - 1),
		}
		fsb := (l0&(1<<9-1))<<43 | l1>>21
		if e.count == 0 {
			return nil, corruptf("inode %d: empty extent at block %d", in.ino, e.off)
		}
		if k := len(m); k > 0 && e.off < m[k-1].off+m[k-1].count {
			return nil, corruptf("inode %d: extent at block %d overlaps or precedes the one before", in.ino, e.off)
		}
		blk, err := fsys.daddr(fsb, e.count)
		if err != nil {
			return nil, fmt.Errorf("inode %d: extent at block %d: %w", in.ino, e.off, err)
		}
		e.blk = blk
		m = append(m, e)
	}
	return m, nil
}

// btreeExtents collects the extent records of a btree-format data fork.
// The root in the inode holds keys and pointers; every level below must
// be one less than its parent, so a cycle cannot loop, and records must
// ascend, so a subtree reached twice fails.
func (fsys *FS) btreeExtents(in *inode) ([]extent, error) {
	be := binary.BigEndian
	if len(in.fork) < 4 {
		return nil, corruptf("inode %d: btree root in %d bytes", in.ino, len(in.fork))
	}
	level, n := int(be.Uint16(in.fork)), int(be.Uint16(in.fork[2:]))
	maxRecs := (len(in.fork) - 4) / 16
	if level == 0 || level > maxBtreeLevels || n == 0 || n > maxRecs {
		return nil, corruptf("inode %d: btree root of level %d with %d of at most %d pointers", in.ino, level, n, maxRecs)
	}
	if in.nextents > maxExtents {
		return nil, unsupportedf("inode %d: %d extents, more than %d", in.ino, in.nextents, maxExtents)
	}
	ptrs := in.fork[4+8*maxRecs:]
	var m []extent
	buf := make([]byte, fsys.g.blockSize)
	for i := range n {
		var err error
		if m, err = fsys.walkBtree(in, m, be.Uint64(ptrs[8*i:]), level-1, buf); err != nil {
			return nil, err
		}
	}
	if uint64(len(m)) != in.nextents {
		return nil, corruptf("inode %d: btree holds %d extents, inode says %d", in.ino, len(m), in.nextents)
	}
	return m, nil
}

// walkBtree appends the records below the btree block at fsb, which must
// be at level, to m. buf is a block-sized scratch buffer.
func (fsys *FS) walkBtree(in *inode, m []extent, fsb uint64, level int, buf []byte) ([]extent, error) {
	be := binary.BigEndian
	blk, err := fsys.daddr(fsb, 1)
	if err != nil {
		return nil, fmt.Errorf("inode %d: btree block: %w", in.ino, err)
	}
	if err := fsys.readBlocks(buf, blk); err != nil {
		return nil, err
	}
	magic, hdr := uint32(bmapMagic), btreeHeaderV4
	if fsys.g.v5 {
		magic, hdr = bmap3Magic, btreeHeaderV5
	}
	if be.Uint32(buf) != magic || int(be.Uint16(buf[4:])) != level {
		return nil, corruptf("inode %d: btree block %d: magic 0x%08x, level %d, want level %d", in.ino, fsb, be.Uint32(buf), be.Uint16(buf[4:]), level)
	}
	if fsys.g.v5 && be.Uint64(buf[56:]) != in.ino {
		return nil, corruptf("inode %d: btree block %d belongs to inode %d", in.ino, fsb, be.Uint64(buf[56:]))
	}
	n := int(be.Uint16(buf[6:]))
	body := buf[hdr:]
	if level == 0 {
		// A leaf is never empty, so every visit adds records that must
		// ascend: a leaf reached twice fails.
		if n == 0 || uint64(len(m)+n) > in.nextents {
			return nil, corruptf("inode %d: btree leaf %d adds %d records to %d, beyond the inode's %d extents", in.ino, fsb, n, len(m), in.nextents)
		}
		return fsys.appendRecords(in, m, body, uint64(n))
	}
	maxRecs := len(body) / 16
	if n == 0 || n > maxRecs {
		return nil, corruptf("inode %d: btree block %d holds %d of at most %d pointers", in.ino, fsb, n, maxRecs)
	}
	// The recursion reuses buf: keep this block's pointers.
	ptrs := slices.Clone(body[8*maxRecs : 8*maxRecs+8*n])
	for i := range n {
		if m, err = fsys.walkBtree(in, m, be.Uint64(ptrs[8*i:]), level-1, buf); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// run is where a logical block lies: count blocks from linear block blk,
// or, when zero is set, count blocks that read as zeros (a hole or an
// unwritten extent; count is 0 past the last extent, meaning "to the end").
type run struct {
	blk, count uint64
	zero       bool
}

// mapBlock finds the run holding logical block lblk in the sorted map m.
func mapBlock(m []extent, lblk uint64) run {
	i, _ := slices.BinarySearchFunc(m, lblk, func(e extent, b uint64) int {
		switch {
		case e.off+e.count <= b:
			return -1
		case e.off > b:
			return 1
		}
		return 0
	})
	if i == len(m) {
		return run{zero: true}
	}
	e := m[i]
	if e.off > lblk {
		return run{count: e.off - lblk, zero: true}
	}
	d := lblk - e.off
	return run{blk: e.blk + d, count: e.count - d, zero: e.unwritten}
}

// A piece is n bytes of a file from pos that lie in one run: from byte
// at of the filesystem (in block blk), or reading as zeros.
type piece struct {
	pos, n, at int64
	blk        uint64
	zero       bool
}

// pieces yields the pieces of the bytes [off, end) of a file whose block
// map is m, in order; bs is the block size.
func pieces(m []extent, bs, off, end int64) iter.Seq[piece] {
	return func(yield func(piece) bool) {
		for pos := off; pos < end; {
			r := mapBlock(m, uint64(pos/bs))
			within := pos % bs
			n := end - pos
			// The run may end first (compared in blocks: a hole's count
			// can be near 2^54).
			if r.count != 0 && r.count < uint64((n+within+bs-1)/bs) {
				n = int64(r.count)*bs - within
			}
			if !yield(piece{pos: pos, n: n, at: int64(r.blk)*bs + within, blk: r.blk, zero: r.zero}) {
				return
			}
			pos += n
		}
	}
}
