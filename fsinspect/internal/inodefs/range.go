package inodefs

// A Range is N bytes at Off of the reader a filesystem is read from.
type Range struct{ Off, N int64 }

// A RangeFetcher is a reader that can read ranges into its cache ahead of
// the reads that need them. When a filesystem's reader is one, a read
// over a slow reader (an image read over the network) saves round trips:
// a read that spans several extents fetches them side by side instead of
// one after another, and a file read in order is fetched up to
// ReadAheadMax at a time instead of as the reads come.
type RangeFetcher interface {
	// Prefetch reads the ranges into the cache side by side and returns
	// when they are there or have failed; errors are left for the reads
	// that need the data.
	Prefetch(rs []Range)
}

// MaxPrefetchRanges bounds the ranges of one prefetch: a window of a
// badly fragmented file is fetched as far as its first ranges, and the
// reads fetch the rest.
const MaxPrefetchRanges = 64

// AppendRange appends r to rs, or extends rs's last range when r starts
// where that one ends.
func AppendRange(rs []Range, r Range) []Range {
	if k := len(rs) - 1; k >= 0 && rs[k].Off+rs[k].N == r.Off {
		rs[k].N += r.N
		return rs
	}
	return append(rs, r)
}
