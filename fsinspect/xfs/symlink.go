package xfs

import (
	"encoding/binary"
	"io/fs"
)

// maxSymlink is XFS_SYMLINK_MAXLEN: longer targets are corrupt.
const maxSymlink = 1024

// Remote symlink blocks of a v5 filesystem start with a header: magic
// "XSLM", offset, byte count, crc, owner, uuid, block number, lsn.
const (
	symlinkMagic  = 0x58534c4d
	symlinkHeader = 56
)

// linkTarget reads the target of a symlink inode: in the inode (local
// format) or in remote blocks, each of which carries a header on a v5
// filesystem.
func (fsys *FS) linkTarget(in *inode) ([]byte, error) {
	switch {
	case !in.isSymlink():
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
	bs := fsys.g.blockSize
	t := make([]byte, 0, in.size)
	b := make([]byte, bs)
	for lblk := uint64(0); int64(len(t)) < in.size; lblk++ {
		r := mapBlock(m, lblk)
		if r.zero {
			return nil, corruptf("inode %d: symlink block %d is a hole", in.ino, lblk)
		}
		if err := fsys.readBlocks(b, r.blk); err != nil {
			return nil, err
		}
		off, n := int(be.Uint32(b[4:])), int64(be.Uint32(b[8:]))
		if be.Uint32(b) != symlinkMagic || off != len(t) || be.Uint64(b[16:]) != in.ino ||
			n == 0 || n > bs-symlinkHeader || n > in.size-int64(len(t)) {
			return nil, corruptf("inode %d: symlink block %d: magic 0x%08x, %d bytes at offset %d", in.ino, lblk, be.Uint32(b), n, off)
		}
		t = append(t, b[symlinkHeader:symlinkHeader+n]...)
	}
	return t, nil
}
