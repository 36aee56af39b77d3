// Package fetchlog is, for the readers' tests, a filesystem image that
// records what a reader asks it to prefetch (an inodefs.RangeFetcher).
package fetchlog

import (
	"io"
	"sync"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// A Log is an image that records each Prefetch call's ranges.
type Log struct {
	io.ReaderAt
	mu    sync.Mutex
	calls [][]inodefs.Range
}

// Prefetch records rs; it reads nothing.
func (l *Log) Prefetch(rs []inodefs.Range) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, rs)
}

// Take returns the calls since the last Take.
func (l *Log) Take() [][]inodefs.Range {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}
