package image

import (
	"io"
	"slices"
)

// A backgroundFetcher is a reader that can fetch byte ranges into its
// cache in the background, behind the reads that wait for data: an object
// read over the network (remote.Object).
type backgroundFetcher interface {
	FetchBackground(off, n int64)
}

// fetcherOf returns the backgroundFetcher that r, or the file a
// readCounter r counts, is.
func fetcherOf(r io.ReaderAt) (backgroundFetcher, bool) {
	if c, ok := r.(*readCounter); ok {
		r = c.r
	}
	f, ok := r.(backgroundFetcher)
	return f, ok
}

// Bounds of the L2 tables fetched ahead: tables this close in the file are
// fetched with one request, the data between them too, a request asks for
// at most l2FetchRequest bytes, and all of them for at most l2FetchMax.
// A 64 KiB gap saved the 25 GiB sample no round trip over 32 KiB and cost
// it 0.7 MB more. At most l2FetchRequests requests are made, each its own
// goroutine until it runs: an image of 512-byte clusters has up to 16,384
// tables of 512 bytes in its first 8 MiB of them.
const (
	l2FetchGap      = 32 << 10
	l2FetchRequest  = 4 << 20
	l2FetchMax      = 8 << 20
	l2FetchRequests = 32
)

// fetchL2Tables asks r, when it is a backgroundFetcher, to fetch the L2
// tables that l1 names in the background, those near each other in the
// file with one request: over the network, the first read of each 512 MiB
// of the disk (with 64 KiB clusters) would otherwise wait a round trip for
// its table before the one for its data. The tables in the first 512 KiB,
// which the opening request fetched, cost nothing more.
func fetchL2Tables(r io.ReaderAt, size int64, h *qcow2Header, l1 []uint64) {
	f, ok := fetcherOf(r)
	if !ok {
		return
	}
	cluster := h.clusterSize()
	var tables []int64
	for _, e := range l1 {
		if off := e & qcow2OffsetMask; off != 0 && off%uint64(cluster) == 0 && fitsIn(off, uint64(cluster), size) {
			tables = append(tables, int64(off))
		}
		if int64(len(tables))*cluster >= l2FetchMax {
			break
		}
	}
	slices.Sort(tables)
	for i, requests := 0, 0; i < len(tables) && requests < l2FetchRequests; requests++ {
		start, end := tables[i], tables[i]+cluster
		for i++; i < len(tables) && tables[i]-end <= l2FetchGap && tables[i]+cluster-start <= l2FetchRequest; i++ {
			end = max(end, tables[i]+cluster)
		}
		f.FetchBackground(start, end-start)
	}
}
