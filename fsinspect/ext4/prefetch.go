package ext4

// A Range is N bytes at Off of the reader an FS reads.
type Range struct{ Off, N int64 }

// A Prefetcher is a reader that can read ranges into its cache ahead of
// the reads that need them. When New's reader is one, an FS over a slow
// reader (an image read over the network) saves round trips: a read that
// spans several extents fetches them side by side instead of one after
// another, and a file read in order is fetched up to readAheadMax bytes
// at a time instead of as the reads come.
type Prefetcher interface {
	// Prefetch reads the ranges into the cache side by side and returns
	// when they are there or have failed; errors are left for the reads
	// that need the data.
	Prefetch(rs []Range)
}

// readAheadMax bounds what one Read of a file read in order fetches
// ahead. The cache stays the bound on memory: with the engine's sixteen
// rules each streaming a file, read-ahead fills fsinspect's 32 MiB block
// cache at worst, and what is evicted before use is fetched again.
const readAheadMax = 2 << 20

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

// readAhead is called before a Read of n bytes at f.off: when the read
// continues the one before it and goes past what was fetched ahead, it
// fetches the next readAheadMax bytes of the file. The first read of a
// file is not read ahead, so that a reader that only wants a file's head
// (a script's first line, a key file's first bytes) fetches no more than
// before, and neither is a read after a Seek. f.mu is held.
func (f *regFile) readAhead(n int) {
	off := f.off
	if off == 0 || off != f.next || off+int64(n) <= f.ahead {
		return
	}
	from := max(off, f.ahead)
	f.ahead = max(off+int64(n), from+readAheadMax)
	f.fsys.prefetch(f.in, &f.runs, from, f.ahead)
}

// Prefetch fetches the first n bytes of the file into the cache of the
// FS's reader, all their extents at once, when that reader is a
// Prefetcher; otherwise it does nothing. Faults are left for the reads.
// Reads in order from the start then fetch ahead only past those bytes.
func (f *regFile) Prefetch(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.fsys.prefetch(f.in, &f.runs, 0, n)
		f.ahead = max(f.ahead, min(n, f.in.size))
	}
}
