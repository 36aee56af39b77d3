package xfs

import (
	"encoding/binary"
	"slices"
)

// dirReadBlocks is how many consecutive directory blocks one read fetches.
const dirReadBlocks = 32

// leafOffset is XFS_DIR2_LEAF_OFFSET: a directory's data blocks lie
// below this byte offset, its hash index and free-space blocks above.
const leafOffset = 32 << 30

// Directory data block magics: single-block directories ("XD2B", v5
// "XDB3") and data blocks of larger ones ("XD2D", v5 "XDD3").
const (
	dir2BlockMagic = 0x58443242
	dir3BlockMagic = 0x58444233
	dir2DataMagic  = 0x58443244
	dir3DataMagic  = 0x58444433
)

// Directory data block header sizes, v4 and v5.
const (
	dirHeaderV4 = 16
	dirHeaderV5 = 64
)

// blockDir parses the data blocks of a block, leaf, node or btree
// directory: every directory block mapped below leafOffset. The hash
// index and free-space blocks above it are not needed for a listing.
func (fsys *FS) blockDir(in *inode, p *dirParser) error {
	g := &fsys.g
	if in.size > maxDirSize {
		return unsupportedf("inode %d: directory of %d bytes", in.ino, in.size)
	}
	m, err := fsys.extents(in)
	if err != nil {
		return err
	}
	dirBlocks := uint64(1) << g.dirBlkLog // filesystem blocks per directory block
	dirSize := g.blockSize << g.dirBlkLog
	leafBlock := uint64(leafOffset) >> g.blockLog
	var buf []byte
	var read uint64   // directory blocks read, bounded by maxDirSize
	next := uint64(0) // the first logical block not yet read
	for _, e := range m {
		for lblk := max(e.off, next) &^ (dirBlocks - 1); lblk < e.off+e.count && lblk < leafBlock; {
			// Read the directory blocks that lie whole in this extent
			// together (up to dirReadBlocks), else one through the map.
			k := uint64(1)
			if lblk >= e.off {
				k = max(min((e.off+e.count-lblk)/dirBlocks, (leafBlock-lblk)/dirBlocks, dirReadBlocks), 1)
			}
			if read += k; read*uint64(dirSize) > maxDirSize {
				return unsupportedf("inode %d: directory data larger than %d bytes", in.ino, maxDirSize)
			}
			buf = slices.Grow(buf[:0], int(k)*int(dirSize))[:int(k)*int(dirSize)]
			var err error
			if lblk >= e.off && k*dirBlocks <= e.off+e.count-lblk {
				err = fsys.readBlocks(buf, e.blk+lblk-e.off)
			} else {
				err = fsys.readDirBlock(in, m, lblk, buf)
			}
			if err != nil {
				return err
			}
			for i := range k {
				if err := p.dataBlock(buf[i*uint64(dirSize):(i+1)*uint64(dirSize)], lblk+i*dirBlocks); err != nil {
					return err
				}
			}
			lblk += k * dirBlocks
			next = lblk
		}
	}
	return nil
}

// readDirBlock reads the directory block at logical block lblk into buf:
// its filesystem blocks may lie in several extents, none in a hole.
func (fsys *FS) readDirBlock(in *inode, m []extent, lblk uint64, buf []byte) error {
	bs := fsys.g.blockSize
	for off := int64(0); off < int64(len(buf)); {
		r := mapBlock(m, lblk+uint64(off/bs))
		if r.zero {
			return corruptf("inode %d: directory block %d is partly a hole", in.ino, lblk)
		}
		n := min(int64(len(buf))-off, int64(r.count)*bs)
		if err := fsys.readBlocks(buf[off:off+n], r.blk); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// dataBlock parses one directory data block: a header, then entries
// (inode number, name length, name, file type with ftype, tag; padded
// to 8 bytes) and unused regions (0xffff, length, ..., tag). A
// single-block directory ends with its hash index and a tail instead.
func (p *dirParser) dataBlock(b []byte, lblk uint64) error {
	be := binary.BigEndian
	v5 := p.fsys.g.v5
	hdr, end := dirHeaderV4, len(b)
	switch magic := be.Uint32(b); {
	case v5 && magic == dir3DataMagic, !v5 && magic == dir2DataMagic:
	case v5 && magic == dir3BlockMagic, !v5 && magic == dir2BlockMagic:
		leaves := int64(be.Uint32(b[len(b)-8:]))
		end = len(b) - 8 - int(min(leaves, int64(len(b))))*8
	default:
		return corruptf("inode %d: directory block %d: bad magic 0x%08x", p.ino, lblk, magic)
	}
	if v5 {
		hdr = dirHeaderV5
		if owner := be.Uint64(b[40:]); owner != p.ino {
			return corruptf("inode %d: directory block %d belongs to inode %d", p.ino, lblk, owner)
		}
	}
	if end < hdr {
		return corruptf("inode %d: directory block %d: hash index overlaps the header", p.ino, lblk)
	}
	typed := 0
	if p.fsys.g.ftype {
		typed = 1
	}
	for pos := hdr; pos < end; {
		if end-pos < 8 {
			return corruptf("inode %d: directory block %d: entry at byte %d runs past the data", p.ino, lblk, pos)
		}
		if be.Uint16(b[pos:]) == 0xffff {
			n := int(be.Uint16(b[pos+2:]))
			if n < 8 || n%8 != 0 || n > end-pos {
				return corruptf("inode %d: directory block %d: unused region of %d bytes at byte %d", p.ino, lblk, n, pos)
			}
			pos += n
			continue
		}
		if end-pos < 16 { // the smallest entry: a one-byte name
			return corruptf("inode %d: directory block %d: entry at byte %d runs past the data", p.ino, lblk, pos)
		}
		nameLen := int(b[pos+8])
		size := (8 + 1 + nameLen + typed + 2 + 7) &^ 7
		if size > end-pos {
			return corruptf("inode %d: directory block %d: entry of %d bytes at byte %d runs past the data", p.ino, lblk, size, pos)
		}
		var typ uint8
		if typed == 1 {
			typ = b[pos+9+nameLen]
		}
		if err := p.add(b[pos+9:pos+9+nameLen], be.Uint64(b[pos:]), typ); err != nil {
			return err
		}
		pos += size
	}
	return nil
}
