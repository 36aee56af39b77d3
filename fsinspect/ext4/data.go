package ext4

import (
	"io"
)

// mapBlock maps logical block lblk of a regular file, directory or slow
// symlink to a run of physical blocks or zeros.
func (fsys *FS) mapBlock(in *inode, lblk uint64) (run, error) {
	if in.flags&flagExtents != 0 {
		if fsys.g.incompat&incompatExtents == 0 {
			return run{}, corruptf("inode %d: extents flag without the extent feature", in.ino)
		}
		return fsys.extentRun(in, lblk)
	}
	return fsys.indirectRun(in, lblk)
}

// readData reads the contents of in at off into p, as io.ReaderAt does:
// it returns io.EOF when it stops at the end of the file.
func (fsys *FS) readData(in *inode, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= in.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > in.size-off {
		p = p[:in.size-off]
		eof = io.EOF
	}
	if in.flags&flagInlineData != 0 {
		n := copy(p, inlineBytes(in)[off:])
		return n, eof
	}
	bs := fsys.g.blockSize
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		r, err := fsys.mapBlock(in, uint64(pos/bs))
		if err != nil {
			return n, err
		}
		within := pos % bs
		want := int64(len(p) - n)
		if r.n < uint64(want/bs)+2 {
			want = min(want, int64(r.n)*bs-within)
		}
		dst := p[n : n+int(want)]
		if r.phys == 0 {
			clear(dst)
		} else if err := readFull(fsys.r, dst, int64(r.phys)*bs+within); err != nil {
			return n, err
		}
		n += int(want)
	}
	return n, eof
}

// inlineBytes returns the i_size bytes of an inline_data inode: i_block
// followed by the system.data xattr value.
func inlineBytes(in *inode) []byte {
	b := make([]byte, 0, len(in.block)+len(in.inline))
	b = append(b, in.block[:]...)
	b = append(b, in.inline...)
	return b[:in.size]
}
