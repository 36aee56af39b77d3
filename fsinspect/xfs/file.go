package xfs

import "github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"

// A Range is N bytes at Off of the reader an FS reads.
type Range = inodefs.Range

// A Prefetcher is a reader that can read ranges into its cache ahead of
// the reads that need them. When New's reader is one, a file read in
// order over a slow reader (an image read over the network) is fetched
// up to 2 MiB at a time, all its extents side by side, instead of as the
// reads come.
type Prefetcher = inodefs.RangeFetcher

// An open file fetches ahead through fileData (see inodefs.Prefetcher).
var _ inodefs.Prefetcher = fileData{}

// fileData is the contents of a regular file, as an open file reads them.
type fileData struct {
	fsys *FS
	in   *inode
}

// ReadAt reads the file's contents at off, as io.ReaderAt does.
func (d fileData) ReadAt(p []byte, off int64) (int, error) {
	return d.fsys.readData(d.in, p, off)
}

// Prefetch fetches the file's data blocks from off up to end (at most the
// file's size) through the reader, all their extents side by side, when
// the reader is a Prefetcher; otherwise it does nothing. It fails
// silently: the reads that follow report any fault.
func (d fileData) Prefetch(off, end int64) {
	p, ok := d.fsys.r.(Prefetcher)
	if !ok || d.in.format == fmtLocal {
		return
	}
	m, err := d.fsys.extents(d.in)
	if err != nil {
		return
	}
	var rs []Range
	for pc := range pieces(m, d.fsys.g.blockSize, off, min(end, d.in.size)) {
		if len(rs) >= inodefs.MaxPrefetchRanges {
			break
		}
		if !pc.zero {
			rs = inodefs.AppendRange(rs, Range{Off: pc.at, N: pc.n})
		}
	}
	if len(rs) > 0 {
		p.Prefetch(rs)
	}
}
