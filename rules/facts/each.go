package facts

import (
	"io/fs"
	"sync"

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
func Each(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, Concurrency)
		once  sync.Once
		fault any
	)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { fault = p })
				}
				<-slots
			}()
			f(i)
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

// ReadEach is ReadIfPresent of each name with the same cap, run by Each:
// the i-th contents and error are ReadIfPresent's for names[i].
func ReadEach(g *fsinspect.Guest, names []string, max int64) ([][]byte, []error) {
	bs, errs := make([][]byte, len(names)), make([]error, len(names))
	Each(len(names), func(i int) { bs[i], errs[i] = ReadIfPresent(g, names[i], max) })
	return bs, errs
}
