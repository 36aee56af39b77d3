package ext4

import (
	"encoding/binary"
	"io/fs"
	"slices"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// rootIno is the inode number of the root directory.
const rootIno = 2

// Stat is what FileInfo.Sys returns for a file of an FS.
type Stat struct {
	Uid, Gid uint32
	Ino      uint64
	// Nlink is i_links_count; 1 on a directory may mean "too many to
	// count" (dir_nlink).
	Nlink                       uint64
	Atime, Ctime, Mtime, Crtime time.Time // Crtime is zero when not recorded
	// Flags is i_flags (EXT4_*_FL).
	Flags uint32
}

// inode is a decoded on-disk inode.
type inode struct {
	ino    uint32
	mode   inodefs.Mode
	size   int64
	flags  uint32
	stat   Stat
	block  [60]byte // i_block: extent root, block map, fast symlink or inline data
	blocks bool     // i_blocks, less an external xattr block, is not zero
	// inline is the system.data xattr value of an inline_data inode.
	inline []byte
}

// inode returns inode ino, from the cache or the inode table.
func (fsys *FS) inode(ino uint32) (*inode, error) {
	if in, ok := fsys.inodes.Get(ino); ok {
		return in, nil
	}
	g := &fsys.g
	if ino == 0 || ino > g.inodesCount {
		return nil, corruptf("inode %d out of range (1..%d)", ino, g.inodesCount)
	}
	group := uint64(ino-1) / uint64(g.inodesPerGroup)
	gd, err := fsys.group(group)
	if err != nil {
		return nil, err
	}
	if gd.uninit {
		return nil, corruptf("inode %d in group %d whose inode table is uninitialised", ino, group)
	}
	off := int64(gd.inodeTable)*g.blockSize + int64(uint64(ino-1)%uint64(g.inodesPerGroup))*g.inodeSize
	b := make([]byte, g.inodeSize)
	if err := readFull(fsys.r, b, off); err != nil {
		return nil, err
	}
	in, err := fsys.parseInode(ino, b)
	if err != nil {
		return nil, err
	}
	fsys.inodes.Add(ino, in, in.cost())
	return in, nil
}

// parseInode decodes the raw inode b of inode number ino.
func (fsys *FS) parseInode(ino uint32, b []byte) (*inode, error) {
	le := binary.LittleEndian
	g := &fsys.g
	in := &inode{ino: ino, mode: inodefs.Mode(le.Uint16(b[0x0:])), flags: le.Uint32(b[0x20:])}
	if !in.mode.Valid() {
		return nil, corruptf("inode %d: mode 0%o", ino, in.mode)
	}
	size := uint64(le.Uint32(b[0x4:])) | uint64(le.Uint32(b[0x6C:]))<<32
	if size > 1<<62 {
		return nil, corruptf("inode %d: size %d", ino, size)
	}
	in.size = int64(size)
	copy(in.block[:], b[0x28:0x64])
	extra := 0
	if g.inodeSize > 128 {
		extra = int(le.Uint16(b[0x80:]))
		if extra%4 != 0 || 128+int64(extra) > g.inodeSize {
			return nil, corruptf("inode %d: extra inode size %d", ino, extra)
		}
	}
	// times decodes the 32-bit seconds at off and, when the extra fields
	// reach it, the nanoseconds and epoch bits at xoff.
	times := func(off, xoff int) time.Time {
		sec := int64(int32(le.Uint32(b[off:])))
		var nsec int64
		if xoff+4 <= 128+extra {
			x := le.Uint32(b[xoff:])
			sec += int64(x&3) << 32
			nsec = int64(x >> 2)
			if nsec > 999999999 {
				nsec = 0
			}
		}
		return time.Unix(sec, nsec).UTC()
	}
	in.stat = Stat{
		Uid:   uint32(le.Uint16(b[0x2:])) | uint32(le.Uint16(b[0x78:]))<<16,
		Gid:   uint32(le.Uint16(b[0x18:])) | uint32(le.Uint16(b[0x7A:]))<<16,
		Ino:   uint64(ino),
		Nlink: uint64(le.Uint16(b[0x1A:])),
		Atime: times(0x8, 0x8C),
		Ctime: times(0xC, 0x84),
		Mtime: times(0x10, 0x88),
		Flags: in.flags,
	}
	if 0x94 <= 128+extra {
		in.stat.Crtime = times(0x90, 0x94)
	}
	iblocks := uint64(le.Uint32(b[0x1C:]))
	if g.roCompat&roCompatHugeFile != 0 {
		iblocks |= uint64(le.Uint16(b[0x74:])) << 32
	}
	if le.Uint32(b[0x68:]) != 0 || le.Uint16(b[0x76:]) != 0 {
		ea := uint64(g.clusterBlocks*uint64(g.blockSize)) >> 9
		if in.flags&flagHugeFile != 0 {
			ea = g.clusterBlocks
		}
		iblocks -= min(iblocks, ea)
	}
	in.blocks = iblocks != 0
	if in.flags&flagInlineData != 0 {
		if g.incompat&incompatInlineData == 0 {
			return nil, corruptf("inode %d: inline data flag without the inline_data feature", ino)
		}
		v, err := inlineXattr(b[128+extra:])
		if err != nil {
			return nil, corruptf("inode %d: %v", ino, err)
		}
		// A copy: the value must not keep the whole raw inode (up to
		// a block) alive in the cache.
		in.inline = slices.Clone(v)
		if in.size > int64(len(in.block)+len(v)) {
			return nil, corruptf("inode %d: inline size %d exceeds %d bytes held", ino, in.size, len(in.block)+len(v))
		}
	}
	return in, nil
}

// inodeOverhead is the memory of a cached inode besides its inline data:
// the struct, its cache entry and map slot.
const inodeOverhead = 256

// cost is the memory the inode holds, its weight in the inode cache.
func (in *inode) cost() int { return inodeOverhead + len(in.inline) }

// Number, Mode, Size and Info make an *inode an inodefs.Inode.
func (in *inode) Number() uint64     { return uint64(in.ino) }
func (in *inode) Mode() inodefs.Mode { return in.mode }
func (in *inode) Size() int64        { return in.size }

// Info returns the FileInfo of the inode called name.
func (in *inode) Info(name string) fs.FileInfo {
	return inodefs.NewFileInfo(name, in.size, in.mode, in.stat.Mtime, in.stat)
}
