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
	n := 0
	for pc := range pieces(m, fsys.g.blockSize, off, off+int64(len(p))) {
		dst := p[pc.pos-off:][:pc.n]
		if pc.zero {
			clear(dst)
		} else if err := readFull(fsys.r, dst, pc.at); err != nil {
			return n, fmt.Errorf("inode %d: data block %d: %w", in.ino, pc.blk, err)
		}
		n += int(pc.n)
	}
	return n, nil
}
