package ext4

// A Range is N bytes at Off of the reader an FS reads.
type Range struct{ Off, N int64 }

// A Prefetcher is a reader that can read ranges into its cache ahead of
// the reads that need them. When New's reader is one, an FS over a slow
// reader (an image read over the network) saves round trips: a read that
// spans several extents fetches them side by side instead of one after
// another, and a file read in order is fetched up to 2 MiB at a time
// instead of as the reads come.
type Prefetcher interface {
	// Prefetch reads the ranges into the cache side by side and returns
	// when they are there or have failed; errors are left for the reads
	// that need the data.
	Prefetch(rs []Range)
}

// maxPrefetchRanges bounds the ranges of one prefetch: a window of a
// badly fragmented file is fetched as far as its first ranges, and the
// reads fetch the rest.
const maxPrefetchRanges = 64

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
	for pos := off; pos < end && len(rs) < maxPrefetchRanges; {
		r, err := fsys.mapCached(in, c, uint64(pos/bs))
		if err != nil || r.n == 0 {
			break
		}
		within := pos % bs
		n := min(int64(min(r.n, uint64(end/bs+1)))*bs-within, end-pos)
		if r.phys != 0 {
			at := int64(r.phys)*bs + within
			if k := len(rs) - 1; k >= 0 && rs[k].Off+rs[k].N == at {
				rs[k].N += n
			} else {
				rs = append(rs, Range{at, n})
			}
		}
		pos += n
	}
	if len(rs) > 0 {
		p.Prefetch(rs)
	}
}
