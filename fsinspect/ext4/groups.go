package ext4

import (
	"encoding/binary"
	"fmt"
)

// groupDesc is what the reader uses of a group descriptor.
type groupDesc struct {
	inodeTable uint64 // first block of the group's inode table
	uninit     bool   // the inode table is not initialised
}

// checkGroups checks that the group descriptor table lies inside the
// filesystem and that its first and last descriptors can be read and
// describe inode tables inside the filesystem. The others are read when
// an inode of their group is: the superblock's group count is only a
// claim, and a small image can claim a billion groups.
func (fsys *FS) checkGroups() error {
	g := &fsys.g
	perBlock := uint64(g.blockSize / g.descSize)
	nblocks := (g.groups + perBlock - 1) / perBlock
	if g.incompat&incompatMetaBG == 0 || g.firstMetaBG < nblocks {
		// Without meta_bg the table follows the superblock in group 0.
		plain := nblocks
		if g.incompat&incompatMetaBG != 0 {
			plain = g.firstMetaBG
		}
		if plain > g.blocks-g.firstDataBlock-1 {
			return corruptf("superblock: %d group descriptor blocks for %d groups do not fit %d blocks", plain, g.groups, g.blocks)
		}
	}
	if _, err := fsys.group(0); err != nil {
		return err
	}
	_, err := fsys.group(g.groups - 1)
	return err
}

// group returns the descriptor of block group grp, reading its
// descriptor block unless cached, and checks that the group's inode
// table lies inside the filesystem.
func (fsys *FS) group(grp uint64) (groupDesc, error) {
	g := &fsys.g
	if grp >= g.groups {
		return groupDesc{}, corruptf("group %d of %d", grp, g.groups)
	}
	perBlock := uint64(g.blockSize / g.descSize)
	nr := grp / perBlock
	buf, ok := fsys.descs.get(nr)
	if !ok {
		buf = make([]byte, g.blockSize)
		if err := fsys.readBlock(buf, g.descBlock(nr)); err != nil {
			return groupDesc{}, fmt.Errorf("group descriptor block %d: %w", nr, err)
		}
		fsys.descs.add(nr, buf, len(buf))
	}
	le := binary.LittleEndian
	d := buf[int64(grp%perBlock)*g.descSize:]
	t := uint64(le.Uint32(d[0x8:]))
	if g.descSize >= 64 {
		t |= uint64(le.Uint32(d[0x28:])) << 32
	}
	tableBlocks := (uint64(g.inodesPerGroup)*uint64(g.inodeSize) + uint64(g.blockSize) - 1) / uint64(g.blockSize)
	if t == 0 || t > g.blocks || g.blocks-t < tableBlocks {
		return groupDesc{}, corruptf("group %d: inode table at block %d (%d blocks) outside %d blocks", grp, t, tableBlocks, g.blocks)
	}
	csum := g.roCompat&(roCompatGdtCsum|roCompatMetadataCsum) != 0
	return groupDesc{inodeTable: t, uninit: csum && le.Uint16(d[0x12:])&1 != 0}, nil
}

// InodeTable returns where the inode table of block group grp lies, in
// bytes from the start of the filesystem, for a caller that reads it
// ahead.
func (fsys *FS) InodeTable(grp uint64) (off, size int64, err error) {
	gd, err := fsys.group(grp)
	if err != nil {
		return 0, 0, err
	}
	return int64(gd.inodeTable) * fsys.g.blockSize, int64(fsys.g.inodesPerGroup) * fsys.g.inodeSize, nil
}
