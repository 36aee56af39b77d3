package facts

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// Facts memoises facts computed once per guest and shared by rules. Each
// fact lives in its own file with an accessor built on Memo.
type Facts struct {
	guest *fsinspect.Guest
	opts  Options
	mu    sync.Mutex
	memos map[string]*memoEntry
}

type memoEntry struct {
	once sync.Once
	val  any
	err  error
}

// New returns an empty fact cache for g.
func New(g *fsinspect.Guest, o Options) *Facts {
	return &Facts{guest: g, opts: o, memos: map[string]*memoEntry{}}
}

// Options are the user-supplied inputs some facts read instead of, or
// beside, the guest's files.
type Options struct {
	// AptLists, when set, replaces the guest's /var/lib/apt/lists (--apt-lists DIR).
	AptLists fs.FS
	// RPMUpdateInfo holds updateinfo.xml documents (--rpm-updateinfo), possibly compressed.
	RPMUpdateInfo []NamedData
	// Now is the run's clock, for facts that depend on dates.
	Now time.Time
	// MaxRPMDB bounds the size of the rpm database; 0 for CapRPMDB.
	MaxRPMDB int64
}

// Memo computes the fact named key once and returns its value and error on
// every call. A failed fact keeps its fault.
func Memo[T any](f *Facts, key string, compute func() (T, error)) (T, error) {
	f.mu.Lock()
	e, ok := f.memos[key]
	if !ok {
		e = &memoEntry{}
		f.memos[key] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				e.err = fmt.Errorf("internal error computing %s: %v", key, p)
			}
		}()
		e.val, e.err = compute()
	})
	v, _ := e.val.(T)
	return v, e.err
}

// ErrNoGuest is the fault of every fact when the scan has no readable
// root filesystem.
var ErrNoGuest = errors.New("no readable root filesystem")
