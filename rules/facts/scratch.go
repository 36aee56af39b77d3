package facts

import (
	"errors"
	"os"
	"sync"
)

// A Scratch is the private temporary directory of one scan, for the host
// copies of guest files that a library opens only by path (the rpm
// database, and the journal files SQLite makes beside it). The directory
// is made (mode 0700) under the parent directory on first use and
// removed, with everything in it, by Close. Once closed, nothing can be
// created in it: a reader left running past the scan's deadline cannot
// leave files behind.
type Scratch struct {
	parent string
	mu     sync.Mutex
	dir    string // "" until first use
	closed bool
}

// errScratchClosed is a temporary file asked of a closed Scratch: its
// scan has ended.
var errScratchClosed = errors.New("temporary directory of the scan already removed")

// live are the Scratch directories made and not yet removed, for
// RemoveScratch.
var live struct {
	sync.Mutex
	set     map[*Scratch]bool
	exiting bool
}

// NewScratch returns a Scratch under parent; "" means os.TempDir.
func NewScratch(parent string) *Scratch { return &Scratch{parent: parent} }

// CreateTemp creates a new file in the directory as os.CreateTemp does.
func (s *Scratch) CreateTemp(pattern string) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errScratchClosed
	}
	if s.dir == "" {
		live.Lock()
		defer live.Unlock()
		if live.exiting {
			return nil, errScratchClosed
		}
		dir, err := os.MkdirTemp(s.parent, "imgcheck-*")
		if err != nil {
			return nil, err
		}
		s.dir = dir
		if live.set == nil {
			live.set = map[*Scratch]bool{}
		}
		live.set[s] = true
	}
	return os.CreateTemp(s.dir, pattern)
}

// Close removes the directory and everything in it. Files still open in
// it stay readable by whoever holds them until they close them.
func (s *Scratch) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.dir == "" {
		return nil
	}
	live.Lock()
	delete(live.set, s)
	live.Unlock()
	return os.RemoveAll(s.dir)
}

// RemoveScratch closes every Scratch not closed yet, and makes every
// later CreateTemp fail: for a process about to exit, whose scans may
// have been abandoned at their deadline or by a signal while still
// reading.
func RemoveScratch() {
	live.Lock()
	live.exiting = true
	var open []*Scratch
	for s := range live.set {
		open = append(open, s)
	}
	live.Unlock()
	for _, s := range open {
		s.Close()
	}
}
