package remote

import (
	"container/list"
	"errors"
	"sync"
)

// Block cache geometry: the size and alignment of a block, the most
// blocks one request asks for, and the largest read-ahead window.
const (
	blockSize    = 64 << 10
	maxRunBlocks = 64 // 4 MiB
	maxReadAhead = 16 // 1 MiB
)

// errFetchAborted is what waiters get when a fetch never completed.
var errFetchAborted = errors.New("remote: fetch aborted")

// A blockCache keeps the most recently used aligned blocks of an object.
// A read claims the runs of blocks it misses and fetches each with one
// request, in parallel; readers of a block being fetched wait for that
// fetch. When a missed run starts where the previous one ended, the run
// is extended by a read-ahead window that doubles with every further
// sequential miss, up to maxReadAhead blocks.
type blockCache struct {
	size  int64
	max   int // capacity in blocks
	fetch func(off, n int64) ([]byte, error)

	mu      sync.Mutex
	lru     list.List // of *cachedBlock, most recent first
	blocks  map[int64]*list.Element
	pending map[int64]*fill
	next    int64 // block after the last run fetched
	ahead   int64 // current read-ahead window in blocks
}

type cachedBlock struct {
	idx  int64
	data []byte
}

// A fill is a fetch in progress of blocks [first, first+n).
type fill struct {
	done  chan struct{}
	first int64
	n     int64
	data  []byte
	err   error
}

// block returns the data of block idx of a completed fill.
func (f *fill) block(idx int64) []byte {
	start := (idx - f.first) * blockSize
	return f.data[start:min(start+blockSize, int64(len(f.data)))]
}

func newBlockCache(size, maxBytes int64, fetch func(off, n int64) ([]byte, error)) *blockCache {
	return &blockCache{
		size:    size,
		max:     int(max(maxBytes/blockSize, 2*maxRunBlocks)),
		fetch:   fetch,
		blocks:  map[int64]*list.Element{},
		pending: map[int64]*fill{},
	}
}

// seed caches data, the object's first bytes, as whole blocks.
func (c *blockCache) seed(data []byte) {
	f := &fill{done: make(chan struct{}), first: 0, n: int64(len(data)) / blockSize, data: data}
	if int64(len(data)) == c.size {
		f.n = (c.size + blockSize - 1) / blockSize
	}
	c.mu.Lock()
	c.store(f)
	c.next = f.n
	c.mu.Unlock()
}

// seedTail caches the whole blocks of data, the object's bytes from start
// to its end.
func (c *blockCache) seedTail(data []byte, start int64) {
	first := (start + blockSize - 1) / blockSize
	if first >= c.numBlocks() {
		return
	}
	f := &fill{done: make(chan struct{}), first: first, n: c.numBlocks() - first, data: data[first*blockSize-start:]}
	c.mu.Lock()
	c.store(f)
	c.mu.Unlock()
}

// numBlocks is the number of blocks of the object.
func (c *blockCache) numBlocks() int64 { return (c.size + blockSize - 1) / blockSize }

// A piece is where one block of a read comes from: cached data, or a fill.
type piece struct {
	data []byte
	fill *fill
}

// read fills p, which lies inside the object, from off.
func (c *blockCache) read(p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	first, last := off/blockSize, (off+int64(len(p))-1)/blockSize
	pieces := make([]piece, 0, last-first+1)
	var mine []*fill
	c.mu.Lock()
	for i := first; i <= last; {
		if el, ok := c.blocks[i]; ok {
			c.lru.MoveToFront(el)
			pieces = append(pieces, piece{data: el.Value.(*cachedBlock).data})
			i++
			continue
		}
		if f, ok := c.pending[i]; ok {
			pieces = append(pieces, piece{fill: f})
			i++
			continue
		}
		end := c.missingRun(i, last+1)
		if i == c.next && end == last+1 {
			c.ahead = min(max(4*c.ahead, 4*(end-i)), maxReadAhead)
			end = c.missingRun(end, min(end+c.ahead, c.numBlocks()))
		} else if i != c.next {
			c.ahead = 0
		}
		c.next = end
		for s := i; s < end; s += maxRunBlocks {
			f := c.startFill(s, min(maxRunBlocks, end-s))
			for k := s; k < s+f.n && k <= last; k++ {
				pieces = append(pieces, piece{fill: f})
			}
			mine = append(mine, f)
		}
		i = min(end, last+1)
	}
	c.mu.Unlock()

	if len(mine) == 1 {
		c.run(mine[0])
	} else {
		var wg sync.WaitGroup
		for _, f := range mine {
			wg.Go(func() { c.run(f) })
		}
		wg.Wait()
	}

	n := 0
	for k, pc := range pieces {
		data := pc.data
		if pc.fill != nil {
			<-pc.fill.done
			if pc.fill.err != nil {
				return pc.fill.err
			}
			data = pc.fill.block(first + int64(k))
		}
		if k == 0 {
			data = data[off-first*blockSize:]
		}
		n += copy(p[n:], data)
	}
	return nil
}

// load fetches the blocks of the n bytes at off that are neither cached
// nor being fetched, a run at a time, and caches them. Unlike read it
// leaves the read-ahead of sequential reads alone, and keeps no data.
func (c *blockCache) load(off, n int64) {
	first, end := off/blockSize, (off+n-1)/blockSize+1
	for i := first; i < end; {
		c.mu.Lock()
		for i < end && (c.blocks[i] != nil || c.pending[i] != nil) {
			i++
		}
		if i == end {
			c.mu.Unlock()
			return
		}
		f := c.startFill(i, min(c.missingRun(i, end), i+maxRunBlocks)-i)
		c.mu.Unlock()
		c.run(f)
		i += f.n
	}
}

// startFill makes the fill of the n blocks from first and marks them
// pending; c.mu is held. Whoever starts it runs it (c.run).
func (c *blockCache) startFill(first, n int64) *fill {
	f := &fill{done: make(chan struct{}), first: first, n: n, err: errFetchAborted}
	for k := first; k < first+n; k++ {
		c.pending[k] = f
	}
	return f
}

// missingRun returns the end of the run of blocks from i (itself
// missing) up to limit that are neither cached nor being fetched.
func (c *blockCache) missingRun(i, limit int64) int64 {
	end := i + 1
	if i >= limit {
		return i
	}
	for end < limit {
		if _, ok := c.blocks[end]; ok {
			break
		}
		if _, ok := c.pending[end]; ok {
			break
		}
		end++
	}
	return end
}

// run fetches the blocks of f, caches them and wakes its waiters, even if
// the fetch panics.
func (c *blockCache) run(f *fill) {
	defer func() {
		c.mu.Lock()
		for k := f.first; k < f.first+f.n; k++ {
			delete(c.pending, k)
		}
		if f.err == nil {
			c.store(f)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	off := f.first * blockSize
	data, err := c.fetch(off, min(f.n*blockSize, c.size-off))
	f.data, f.err = data, err
}

// store caches the blocks of a completed fill and evicts the least
// recently used blocks beyond capacity. c.mu is held.
func (c *blockCache) store(f *fill) {
	for k := f.first; k < f.first+f.n; k++ {
		if el, ok := c.blocks[k]; ok {
			c.lru.Remove(el)
		}
		c.blocks[k] = c.lru.PushFront(&cachedBlock{idx: k, data: f.block(k)})
	}
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedBlock)
		delete(c.blocks, old.idx)
	}
}
