package xfs

import (
	"encoding/binary"
	"io/fs"
)

// maxSymlink is XFS_SYMLINK_MAXLEN: longer targets are corrupt.
const maxSymlink = 1024

// Remote symlink blocks of a v5 filesystem start with a header: magic
// "XSLM", offset, byte count, crc, uuid, owner, block number, lsn.
const (
	symlinkMagic  = 0x58534c4d
	symlinkHeader = 56
)

// linkTarget reads the target of a symlink inode: in the inode (local
// format) or in remote blocks. On a v5 filesystem each extent of those
// blocks starts with a header, as the kernel reads an extent as one
// buffer.
func (fsys *FS) linkTarget(in *inode) ([]byte, error) {
	switch {
	case !in.mode.IsSymlink():
		return nil, fs.ErrInvalid
	case in.size == 0 || in.size > maxSymlink:
		return nil, corruptf("inode %d: symlink of %d bytes", in.ino, in.size)
	case in.format == fmtLocal:
		return append([]byte(nil), in.fork[:in.size]...), nil
	case !fsys.g.v5:
		t := make([]byte, in.size)
		if _, err := fsys.readData(in, t, 0); err != nil {
			return nil, err
		}
		return t, nil
	}
	m, err := fsys.extents(in)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	t := make([]byte, 0, in.size)
	for i, e := range m {
		if int64(len(t)) == in.size {
			break
		}
		if e.unwritten {
			return nil, corruptf("inode %d: symlink extent %d is unwritten", in.ino, i)
		}
		// Read the header and at most the bytes still missing.
		b := make([]byte, min(int64(e.count)*fsys.g.blockSize, symlinkHeader+in.size-int64(len(t))))
		if len(b) <= symlinkHeader {
			return nil, corruptf("inode %d: symlink extent %d of %d bytes", in.ino, i, len(b))
		}
		if err := fsys.readBlocks(b, e.blk); err != nil {
			return nil, err
		}
		off, n := int(be.Uint32(b[4:])), int(be.Uint32(b[8:]))
		if be.Uint32(b) != symlinkMagic || off != len(t) || be.Uint64(b[32:]) != in.ino || n == 0 || n > len(b)-symlinkHeader {
			return nil, corruptf("inode %d: symlink extent %d: magic 0x%08x, %d bytes at offset %d", in.ino, i, be.Uint32(b), n, off)
		}
		t = append(t, b[symlinkHeader:symlinkHeader+n]...)
	}
	if int64(len(t)) != in.size {
		return nil, corruptf("inode %d: symlink blocks hold %d of its %d bytes", in.ino, len(t), in.size)
	}
	return t, nil
}
