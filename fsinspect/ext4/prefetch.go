package ext4

import "github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"

// A Range is N bytes at Off of the reader an FS reads.
type Range = inodefs.Range

// A Prefetcher is a reader that can read ranges into its cache ahead of
// the reads that need them (see inodefs.RangeFetcher).
type Prefetcher = inodefs.RangeFetcher

// prefetch fetches the data blocks of in from off up to end (at most the
// file's size) through the reader's Prefetcher, all its extents at once,
// and returns whether there was anything to fetch. It does nothing when
// the reader is not a Prefetcher, and fails silently: the reads that
// follow report any fault. c, if not nil, caches the runs mapped.
func (fsys *FS) prefetch(in *inode, c *runCache, off, end int64) {
	p, ok := fsys.r.(Prefetcher)
	if !ok || in.flags&(flagInlineData|flagEncrypt) != 0 {
		return
	}
	end = min(end, in.size)
	bs := fsys.g.blockSize
	var rs []Range
	for pos := off; pos < end && len(rs) < inodefs.MaxPrefetchRanges; {
		r, err := fsys.mapCached(in, c, uint64(pos/bs))
		if err != nil || r.n == 0 {
			break
		}
		within := pos % bs
		n := min(int64(min(r.n, uint64(end/bs+1)))*bs-within, end-pos)
		if r.phys != 0 {
			rs = inodefs.AppendRange(rs, Range{Off: int64(r.phys)*bs + within, N: n})
		}
		pos += n
	}
	if len(rs) > 0 {
		p.Prefetch(rs)
	}
}
