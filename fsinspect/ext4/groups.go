package ext4

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// groupDesc is what the reader uses of a group descriptor.
type groupDesc struct {
	inodeTable uint64 // first block of the group's inode table
	uninit     bool   // the inode table is not initialised
	dirs       uint32 // directories in the group
	// unused is how many inodes at the end of the table were never
	// used, 0 when the filesystem does not record it.
	unused uint32
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
	buf, ok := fsys.descs.Get(nr)
	if !ok {
		buf = make([]byte, g.blockSize)
		if err := fsys.readBlock(buf, g.descBlock(nr)); err != nil {
			return groupDesc{}, fmt.Errorf("group descriptor block %d: %w", nr, err)
		}
		fsys.descs.Add(nr, buf, len(buf))
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
	gd := groupDesc{inodeTable: t, dirs: uint32(le.Uint16(d[0x10:]))}
	if g.descSize >= 64 {
		gd.dirs |= uint32(le.Uint16(d[0x30:])) << 16
	}
	if g.roCompat&(roCompatGdtCsum|roCompatMetadataCsum) != 0 {
		gd.uninit = le.Uint16(d[0x12:])&1 != 0
		gd.unused = uint32(le.Uint16(d[0x1C:]))
		if g.descSize >= 64 {
			gd.unused |= uint32(le.Uint16(d[0x32:])) << 16
		}
	}
	return gd, nil
}

// maxTableGroups bounds the groups whose descriptors InodeTablesInUse
// reads: 1,024 groups are 128 GiB with 4 KiB blocks.
const maxTableGroups = 1024

// InodeTablesInUse returns where the inode tables of the block groups
// lie, in bytes from the start of the filesystem, for a caller that reads
// them ahead: of each table, the part that holds inodes ever used when the
// descriptors record it (uninit_bg, metadata_csum); the groups that hold
// directories first, then the others, up to max bytes in all; sorted,
// adjacent tables (flex_bg) merged. Lookups then find the inodes on their
// way cached instead of reading each before the directory it names.
func (fsys *FS) InodeTablesInUse(max int64) []Range {
	g := &fsys.g
	bs := g.blockSize
	var withDirs, others []Range
	for grp := range min(g.groups, maxTableGroups) {
		gd, err := fsys.group(grp)
		if err != nil || gd.uninit || gd.unused >= g.inodesPerGroup {
			continue
		}
		n := int64(g.inodesPerGroup-gd.unused) * g.inodeSize
		r := Range{Off: int64(gd.inodeTable) * bs, N: (n + bs - 1) / bs * bs}
		if gd.dirs > 0 {
			withDirs = append(withDirs, r)
		} else {
			others = append(others, r)
		}
	}
	var out []Range
	for _, r := range append(withDirs, others...) {
		if r.N > max {
			break
		}
		out = append(out, r)
		max -= r.N
	}
	slices.SortFunc(out, func(a, b Range) int { return cmp.Compare(a.Off, b.Off) })
	merged := out[:0]
	for _, r := range out {
		if k := len(merged) - 1; k >= 0 && merged[k].Off+merged[k].N == r.Off {
			merged[k].N += r.N
		} else {
			merged = append(merged, r)
		}
	}
	return merged
}
