package fsinspect

import "sync"

// sniffSpan is how much of the start of a partition is read ahead when the
// partition table is known: what sniffing reads (magic numbers up to
// 64 KiB and a little beyond) and, for ext4, the superblock and group
// descriptors that opening reads next.
const sniffSpan = 4 * CacheBlockSize

// A span is a byte range [Off, Off+Len) of the cached reader.
type span struct{ off, n int64 }

// prefetch reads the spans into the cache at once, one read per span, and
// waits for them. On an image read over the network their round trips
// overlap instead of adding up. Errors are left for the reads that need
// the data to report.
func (c *Cache) prefetch(spans []span) {
	var wg sync.WaitGroup
	for _, s := range spans {
		off, end := max(s.off, 0), min(s.off+s.n, c.size)
		if end <= off {
			continue
		}
		wg.Go(func() { c.block(off/CacheBlockSize, (end-1)/CacheBlockSize) })
	}
	wg.Wait()
}
