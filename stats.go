package imgcheck

import (
	"time"

	"github.com/imgcheck/imgcheck/rules/report"
)

// stats returns what the scan of t has read so far, d being its duration.
func (t *Target) stats(d time.Duration) *report.Stats {
	s := report.Stats{Duration: d}
	if t.guest != nil {
		gs := t.guest.Stats()
		s.BytesRead, s.ReadCalls, s.CacheHits, s.CacheMiss = gs.BytesRead, gs.ReadCalls, gs.CacheHits, gs.CacheMisses
	} else if t.img != nil {
		is := t.img.Stats()
		s.BytesRead, s.ReadCalls = is.BytesRead, is.ReadCalls
	}
	if t.obj != nil {
		rs := t.obj.Stats()
		s.Requests, s.Transferred, s.ObjectSize = rs.Requests, rs.Bytes, rs.Size
	}
	return &s
}

// Stats returns what has been read from t so far, d being the time taken,
// for verbs that open a target without scanning it.
func (t *Target) Stats(d time.Duration) report.Stats { return *t.stats(d) }
