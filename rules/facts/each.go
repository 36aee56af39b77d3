package facts

import (
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// Concurrency bounds the guest lookups that one fact or rule runs at
// once. On an image read over the network, lookups of independent paths
// then overlap their round trips instead of adding them up; on a local
// image they cost no more than one after another.
const Concurrency = 8

// Each calls f(i) for every i in [0, n), at most Concurrency at a time,
// and returns when all have returned. f writes only what belongs to i
// (say the i-th element of a slice), so that the caller can use the
// results in their order as if they had been computed one after another.
// A panic in f is raised again in the caller once all have returned.
// The calls share min(n, Concurrency) goroutines, each taking the next i,
// so that a goroutine's stack grows once, not once per call.
func Each(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		once  sync.Once
		fault any
	)
	call := func(i int) {
		defer func() {
			if p := recover(); p != nil {
				once.Do(func() { fault = p })
			}
		}()
		f(i)
	}
	for range min(n, Concurrency) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				call(i)
			}
		})
	}
	wg.Wait()
	if fault != nil {
		panic(fault)
	}
}

// StatEach is Stat of each name, run by Each: the i-th FileInfo and error
// are Stat's for names[i].
func StatEach(g *fsinspect.Guest, names []string) ([]fs.FileInfo, []error) {
	fis, errs := make([]fs.FileInfo, len(names)), make([]error, len(names))
	Each(len(names), func(i int) { fis[i], errs[i] = Stat(g, names[i]) })
	return fis, errs
}

// readEach is ReadIfPresent of each name with the same cap, run by Each:
// the i-th contents and error are ReadIfPresent's for names[i]. It holds
// every file at once: for a few files only (ReadInOrder reads many).
func readEach(g *fsinspect.Guest, names []string, max int64) ([][]byte, []error) {
	bs, errs := make([][]byte, len(names)), make([]error, len(names))
	Each(len(names), func(i int) { bs[i], errs[i] = ReadIfPresent(g, names[i], max) })
	return bs, errs
}

// ReadInOrder calls fn with the index and contents of each name in turn,
// as ReadIfPresent gives them (nil for a missing file), and stops at the
// first error, ReadIfPresent's or fn's, which it returns. The files are
// read Concurrency at a time ahead of fn, so that on an image read over
// the network their round trips overlap; no more than Concurrency of
// them are held at once.
func ReadInOrder(g *fsinspect.Guest, names []string, max int64, fn func(i int, b []byte) error) error {
	for lo := 0; lo < len(names); lo += Concurrency {
		bs, errs := readEach(g, names[lo:min(lo+Concurrency, len(names))], max)
		for i, b := range bs {
			if errs[i] != nil {
				return errs[i]
			}
			if err := fn(lo+i, b); err != nil {
				return err
			}
		}
	}
	return nil
}
