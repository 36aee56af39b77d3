package ext4

import (
	"encoding/binary"
	"fmt"
)

// Block map layout of ext2/3 inodes: 12 direct pointers, then single,
// double and triple indirect blocks.
const directBlocks = 12

// indirectRun maps logical block lblk of a block-mapped inode. It reads
// up to three indirect blocks.
func (fsys *FS) indirectRun(in *inode, lblk uint64) (run, error) {
	le := binary.LittleEndian
	var ptrs [15]uint32
	for i := range ptrs {
		ptrs[i] = le.Uint32(in.block[4*i:])
	}
	if lblk < directBlocks {
		return fsys.pointerRun(in, ptrs[:directBlocks], int(lblk))
	}
	lblk -= directBlocks
	per := uint64(fsys.g.blockSize / 4)
	span := uint64(1)
	for level := 1; level <= 3; level++ {
		span *= per
		if lblk < span {
			return fsys.walkIndirect(in, ptrs[directBlocks+level-1], level, lblk, span)
		}
		lblk -= span
	}
	return run{n: 1 << 62}, nil
}

// walkIndirect follows an indirect tree of the given depth rooted at
// block ptr, covering span logical blocks, to logical block lblk within it.
func (fsys *FS) walkIndirect(in *inode, ptr uint32, level int, lblk, span uint64) (run, error) {
	le := binary.LittleEndian
	per := uint64(fsys.g.blockSize / 4)
	buf := make([]byte, fsys.g.blockSize)
	table := make([]uint32, per)
	var path [3]uint32
	for d := 0; ; d++ {
		if ptr == 0 {
			return run{n: span - lblk}, nil
		}
		for _, p := range path[:d] {
			if p == ptr {
				return run{}, corruptf("inode %d: indirect block %d refers to itself", in.ino, ptr)
			}
		}
		path[d] = ptr
		if err := fsys.readBlock(buf, uint64(ptr)); err != nil {
			return run{}, fmt.Errorf("inode %d: indirect block %d: %w", in.ino, ptr, err)
		}
		for i := range table {
			table[i] = le.Uint32(buf[4*i:])
		}
		span /= per
		i := lblk / span
		lblk %= span
		if d == level-1 {
			return fsys.pointerRun(in, table, int(i))
		}
		ptr = table[i]
	}
}

// pointerRun maps entry i of a table of block pointers, extending the
// run over the following entries that continue it.
func (fsys *FS) pointerRun(in *inode, table []uint32, i int) (run, error) {
	p := uint64(table[i])
	if p >= fsys.g.blocks {
		return run{}, corruptf("inode %d: block pointer %d outside %d blocks", in.ino, p, fsys.g.blocks)
	}
	r := run{phys: p, n: 1}
	for _, q := range table[i+1:] {
		if p == 0 && q != 0 || p != 0 && (uint64(q) != p+r.n || p+r.n >= fsys.g.blocks) {
			break
		}
		r.n++
	}
	return r, nil
}
