package xfs

import (
	"fmt"
)

// readData reads the len(p) bytes of in at off into p; they lie inside
// the file (see inodefs.Data). Holes and unwritten extents read as zeros.
func (fsys *FS) readData(in *inode, p []byte, off int64) (int, error) {
	if in.format == fmtLocal {
		return copy(p, in.fork[off:in.size]), nil
	}
	m, err := fsys.extents(in)
	if err != nil {
		return 0, err
	}
	bs := fsys.g.blockSize
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		r := mapBlock(m, uint64(pos/bs))
		within := pos % bs
		want := int64(len(p) - n)
		// The run may end before the read does (compared in blocks: a
		// hole's count can be near 2^54).
		if r.count != 0 && r.count < uint64((want+within+bs-1)/bs) {
			want = int64(r.count)*bs - within
		}
		dst := p[n : n+int(want)]
		if r.zero {
			clear(dst)
		} else if err := readFull(fsys.r, dst, int64(r.blk)*bs+within); err != nil {
			return n, fmt.Errorf("inode %d: data block %d: %w", in.ino, r.blk, err)
		}
		n += int(want)
	}
	return n, nil
}
