package xfs

import (
	"encoding/binary"
	"io/fs"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// inodeMagic is di_magic, "IN".
const inodeMagic = 0x494e

// Core sizes: where the data fork starts in a v1/v2 and a v3 inode.
const (
	coreSizeV2 = 100
	coreSizeV3 = 176
)

// Data fork formats (di_format).
const (
	fmtDev     = 0
	fmtLocal   = 1
	fmtExtents = 2
	fmtBtree   = 3
)

// di_flags and di_flags2 bits the reader checks.
const (
	flagRealtime   = 0x0001
	flag2Bigtime   = 0x0008
	flag2Nrext64   = 0x0010
	bigtimeEpoch   = 1 << 31 // seconds from 1901-12-13T20:45:52Z to 1970
	bmbtRecordSize = 16
)

// Stat is what FileInfo.Sys returns for a file of an FS.
type Stat struct {
	Uid, Gid uint32
	Ino      uint64
	Nlink    uint64
	// Crtime is zero on a v4 filesystem, which does not record it.
	Atime, Ctime, Mtime, Crtime time.Time
}

// inode is a decoded on-disk inode.
type inode struct {
	ino      uint64
	mode     inodefs.Mode
	format   uint8
	size     int64
	nextents uint64 // data fork extent count
	stat     Stat
	// fork is the data fork: local data, extent records or a btree root.
	fork []byte
}

// inode returns inode ino, from the cache or the disk.
func (fsys *FS) inode(ino uint64) (*inode, error) {
	if in, ok := fsys.inodes.Get(ino); ok {
		return in, nil
	}
	g := &fsys.g
	agIno := ino & (1<<(g.agBlockLog+g.inoPerLog) - 1)
	fsb := ino >> g.inoPerLog
	blk, err := fsys.daddr(fsb, 1)
	if err != nil || agIno>>g.inoPerLog == 0 {
		return nil, corruptf("inode number %d outside the filesystem", ino)
	}
	b := make([]byte, g.inodeSize)
	off := int64(blk)*g.blockSize + int64(ino&(1<<g.inoPerLog-1))*g.inodeSize
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

// parseInode decodes and checks the on-disk inode b of inode number ino.
func (fsys *FS) parseInode(ino uint64, b []byte) (*inode, error) {
	be := binary.BigEndian
	if be.Uint16(b) != inodeMagic {
		return nil, corruptf("inode %d: bad magic 0x%04x", ino, be.Uint16(b))
	}
	version := b[4]
	core := coreSizeV2
	switch {
	case fsys.g.v5 && version == 3:
		core = coreSizeV3
		if be.Uint64(b[152:]) != ino {
			return nil, corruptf("inode %d: records inode number %d", ino, be.Uint64(b[152:]))
		}
	case !fsys.g.v5 && (version == 1 || version == 2):
	default:
		return nil, corruptf("inode %d: version %d on a v%d filesystem", ino, version, fsys.super.Version)
	}
	in := &inode{ino: ino, mode: inodefs.Mode(be.Uint16(b[2:])), format: b[5], size: int64(be.Uint64(b[56:]))}
	if in.size < 0 {
		return nil, corruptf("inode %d: size %d", ino, in.size)
	}
	if !in.mode.Valid() {
		return nil, corruptf("inode %d: mode 0%o", ino, in.mode)
	}
	if be.Uint16(b[90:])&flagRealtime != 0 {
		return nil, unsupportedf("inode %d: realtime file", ino)
	}
	var flags2 uint64
	if version == 3 {
		flags2 = be.Uint64(b[120:])
	}
	in.nextents = uint64(be.Uint32(b[76:]))
	if flags2&flag2Nrext64 != 0 {
		if !fsys.g.nrext64 {
			return nil, corruptf("inode %d: large extent counts without the nrext64 feature", ino)
		}
		in.nextents = be.Uint64(b[24:])
	}
	forkEnd := len(b)
	if forkOff := int(b[82]) * 8; forkOff != 0 {
		forkEnd = core + forkOff
		if forkEnd > len(b) {
			return nil, corruptf("inode %d: attribute fork at byte %d of %d", ino, forkEnd, len(b))
		}
	}
	in.fork = append([]byte(nil), b[core:forkEnd]...)
	if err := in.checkFormat(); err != nil {
		return nil, err
	}
	bigtime := flags2&flag2Bigtime != 0
	if bigtime && !fsys.g.bigtime {
		return nil, corruptf("inode %d: big timestamps without the bigtime feature", ino)
	}
	in.stat = Stat{
		Uid: be.Uint32(b[8:]), Gid: be.Uint32(b[12:]),
		Ino:   ino,
		Nlink: uint64(be.Uint32(b[16:])),
		Atime: timestamp(b[32:], bigtime), Mtime: timestamp(b[40:], bigtime), Ctime: timestamp(b[48:], bigtime),
	}
	if version == 1 {
		in.stat.Nlink = uint64(be.Uint16(b[6:]))
	}
	if version == 3 {
		in.stat.Crtime = timestamp(b[144:], bigtime)
	}
	return in, nil
}

// checkFormat checks that the data fork's format suits the file type and
// that its records fit the fork.
func (in *inode) checkFormat() error {
	switch in.format {
	case fmtDev:
		if in.mode.IsRegular() || in.mode.IsDir() || in.mode.IsSymlink() {
			return corruptf("inode %d: mode 0%o with a device fork", in.ino, in.mode)
		}
	case fmtLocal:
		if !in.mode.IsRegular() && !in.mode.IsDir() && !in.mode.IsSymlink() || in.size > int64(len(in.fork)) {
			return corruptf("inode %d: local fork of %d bytes for mode 0%o, size %d", in.ino, len(in.fork), in.mode, in.size)
		}
	case fmtExtents:
		if in.nextents > uint64(len(in.fork)/bmbtRecordSize) {
			return corruptf("inode %d: %d extents in a fork of %d bytes", in.ino, in.nextents, len(in.fork))
		}
		fallthrough
	case fmtBtree:
		if !in.mode.IsRegular() && !in.mode.IsDir() && !in.mode.IsSymlink() {
			return corruptf("inode %d: mode 0%o with a block map", in.ino, in.mode)
		}
	default:
		return corruptf("inode %d: data fork format %d", in.ino, in.format)
	}
	return nil
}

// timestamp decodes an inode time: seconds and nanoseconds since 1970,
// or with bigtime nanoseconds since 1901-12-13T20:45:52Z.
func timestamp(b []byte, bigtime bool) time.Time {
	be := binary.BigEndian
	if bigtime {
		ns := be.Uint64(b)
		return time.Unix(int64(ns/1e9)-bigtimeEpoch, int64(ns%1e9))
	}
	return time.Unix(int64(int32(be.Uint32(b))), int64(be.Uint32(b[4:])))
}

// inodeOverhead is the memory of a cached inode besides its fork: the
// struct, its cache entry and map slot.
const inodeOverhead = 256

// cost is the memory the inode holds, its weight in the inode cache.
func (in *inode) cost() int { return inodeOverhead + len(in.fork) }

// Number, Mode, Size and Info make an *inode an inodefs.Inode.
func (in *inode) Number() uint64     { return in.ino }
func (in *inode) Mode() inodefs.Mode { return in.mode }
func (in *inode) Size() int64        { return in.size }

// Info returns the FileInfo of the inode called name.
func (in *inode) Info(name string) fs.FileInfo {
	return inodefs.NewFileInfo(name, in.size, in.mode, in.stat.Mtime, in.stat)
}
