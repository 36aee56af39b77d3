package fsinspect

// Stats counts what a Guest read from its image: bytes and read calls that
// reached the image, and block-cache lookups. A Guest over a directory or
// an in-memory tree reports zeros.
type Stats struct {
	BytesRead, ReadCalls   int64
	CacheHits, CacheMisses int64
}

// HitRate returns the share of cache lookups served from memory, 0 when
// there were none.
func (s Stats) HitRate() float64 {
	if n := s.CacheHits + s.CacheMisses; n > 0 {
		return float64(s.CacheHits) / float64(n)
	}
	return 0
}

// Stats returns the read counters so far.
func (g *Guest) Stats() Stats {
	if g.stats == nil {
		return Stats{}
	}
	return g.stats()
}
