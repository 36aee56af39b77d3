package ext4

import (
	"fmt"
	"sync"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// runCache remembers, for one reader of one inode, the last run mapped
// and the last extent leaf node read, so that sequential reads map each
// run once and read each leaf of a deep extent tree once.
type runCache struct {
	mu    sync.Mutex
	start uint64 // logical block where r begins
	r     run
	ok    bool
	leaf  extentLeaf
}

// extentLeaf is a leaf node of an extent tree below the inode, covering
// logical blocks lo up to (not including) end.
type extentLeaf struct {
	node    []byte
	lo, end uint64
}

// mapCached is mapBlock through c, which may be nil.
func (fsys *FS) mapCached(in *inode, c *runCache, lblk uint64) (run, error) {
	if c == nil {
		return fsys.mapBlock(in, nil, lblk)
	}
	c.mu.Lock()
	r, start, ok := c.r, c.start, c.ok
	c.mu.Unlock()
	if ok && lblk >= start && lblk-start < r.n {
		d := lblk - start
		if r.phys != 0 {
			r.phys += d
		}
		r.n -= d
		return r, nil
	}
	r, err := fsys.mapBlock(in, c, lblk)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	c.start, c.r, c.ok = lblk, r, true
	c.mu.Unlock()
	return r, nil
}

// mapBlock maps logical block lblk of a regular file, directory or slow
// symlink to a run of physical blocks or zeros. c, which may be nil,
// keeps the last extent leaf read.
func (fsys *FS) mapBlock(in *inode, c *runCache, lblk uint64) (run, error) {
	if in.flags&flagExtents != 0 {
		if fsys.g.incompat&incompatExtents == 0 {
			return run{}, corruptf("inode %d: extents flag without the extent feature", in.ino)
		}
		return fsys.extentRun(in, c, lblk)
	}
	return fsys.indirectRun(in, lblk)
}

// readData reads the len(p) bytes of in at off into p; they lie inside
// the file (see inodefs.Data). c, if not nil, caches the last run mapped.
func (fsys *FS) readData(in *inode, c *runCache, p []byte, off int64) (int, error) {
	if in.flags&flagInlineData != 0 {
		return copy(p, inlineBytes(in)[off:]), nil
	}
	bs := fsys.g.blockSize
	n := 0
	fetched := off // how far the runs were prefetched side by side
	for n < len(p) {
		pos := off + int64(n)
		r, err := fsys.mapCached(in, c, uint64(pos/bs))
		if err != nil {
			return n, err
		}
		within := pos % bs
		want := int64(len(p) - n)
		if r.n < uint64(want/bs)+2 {
			want = min(want, int64(r.n)*bs-within)
		}
		if want < int64(len(p)-n) && pos >= fetched {
			// The read spans several runs: fetch them (a window at a
			// time) side by side rather than one after another.
			fetched = min(pos+inodefs.ReadAheadMax, off+int64(len(p)))
			fsys.prefetch(in, c, pos, fetched)
		}
		dst := p[n : n+int(want)]
		if r.phys == 0 {
			clear(dst)
		} else if err := readFull(fsys.r, dst, int64(r.phys)*bs+within); err != nil {
			return n, fmt.Errorf("inode %d: data block %d: %w", in.ino, r.phys, err)
		}
		n += int(want)
	}
	return n, nil
}

// inlineBytes returns the i_size bytes of an inline_data inode: i_block
// followed by the system.data xattr value.
func inlineBytes(in *inode) []byte {
	b := make([]byte, 0, len(in.block)+len(in.inline))
	b = append(b, in.block[:]...)
	b = append(b, in.inline...)
	return b[:in.size]
}
