package fsinspect

import (
	"container/list"
	"errors"
	"io"
	"sync"
)

// CacheBlockSize is the size and alignment of a cached block.
const CacheBlockSize = 64 << 10

// DefaultCacheSize is the capacity of a Cache made with maxBytes <= 0.
// With the qcow2 cluster cache, the ext4 caches and the garbage
// collector's headroom it keeps a full cache under the 256 MiB that
// imgcheck promises (64 MiB reached 258 MiB on 8,192 inline inodes).
const DefaultCacheSize = 32 << 20

// CacheStats counts a Cache's work: block lookups served from memory
// (Hits) or read (Misses), and the bytes and calls of those reads.
type CacheStats struct {
	Hits, Misses         int64
	BytesRead, ReadCalls int64
}

// Cache is an io.ReaderAt that keeps the most recently used aligned blocks
// of another io.ReaderAt in memory, up to a fixed number of bytes. Runs of
// missing blocks are read with one call. It is safe for concurrent use;
// concurrent readers of the same missing block share one read.
type Cache struct {
	r    io.ReaderAt
	size int64
	max  int // capacity in blocks

	mu      sync.Mutex
	lru     list.List // of *block, most recent first
	blocks  map[int64]*list.Element
	pending map[int64]*fill
	stats   CacheStats
}

// block is one cached block.
type block struct {
	idx  int64
	data []byte // CacheBlockSize bytes, fewer for the last block
}

// fill is a read in progress of the blocks from first on.
type fill struct {
	done  chan struct{}
	first int64
	data  []byte
	n     int // bytes the source returned
	err   error
}

// errReadAborted is what waiters get when a read never completed.
var errReadAborted = errors.New("fsinspect: cache read aborted")

// finish caches the blocks [f.first, end) of a completed fill, evicts
// the least recently used blocks beyond capacity, and wakes the waiters.
func (c *Cache) finish(f *fill, end int64) {
	c.mu.Lock()
	c.stats.BytesRead += int64(f.n)
	for i := f.first; i < end; i++ {
		delete(c.pending, i)
		if f.err != nil {
			continue
		}
		start := (i - f.first) * CacheBlockSize
		b := &block{idx: i, data: f.data[start:min(start+CacheBlockSize, int64(len(f.data)))]}
		c.blocks[i] = c.lru.PushFront(b)
	}
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*block)
		delete(c.blocks, old.idx)
	}
	c.mu.Unlock()
	close(f.done)
}

// NewCache returns a cache over the first size bytes of r holding at most
// maxBytes (DefaultCacheSize if maxBytes <= 0, at least one block).
func NewCache(r io.ReaderAt, size int64, maxBytes int64) *Cache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheSize
	}
	return &Cache{
		r:       r,
		size:    max(size, 0),
		max:     int(max(maxBytes/CacheBlockSize, 1)),
		blocks:  map[int64]*list.Element{},
		pending: map[int64]*fill{},
	}
}

// Size returns the size of the cached reader.
func (c *Cache) Size() int64 { return c.size }

// Stats returns the counters so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

var errNegativeOffset = errors.New("fsinspect: negative offset")

// ReadAt reads len(p) bytes at off, as io.ReaderAt does.
func (c *Cache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= c.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := p
	if int64(len(p)) > c.size-off {
		want = p[:c.size-off]
	}
	n := 0
	for n < len(want) {
		pos := off + int64(n)
		idx := pos / CacheBlockSize
		last := (off + int64(len(want)) - 1) / CacheBlockSize
		data, err := c.block(idx, last)
		if err != nil {
			return n, err
		}
		n += copy(want[n:], data[pos-idx*CacheBlockSize:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// block returns the data of block idx. On a miss it reads idx and the
// missing blocks after it up to last in one call, and caches them all.
func (c *Cache) block(idx, last int64) ([]byte, error) {
	c.mu.Lock()
	if el, ok := c.blocks[idx]; ok {
		c.lru.MoveToFront(el)
		c.stats.Hits++
		c.mu.Unlock()
		return el.Value.(*block).data, nil
	}
	if f, ok := c.pending[idx]; ok {
		c.stats.Hits++
		c.mu.Unlock()
		<-f.done
		if f.err != nil {
			return nil, f.err
		}
		start := (idx - f.first) * CacheBlockSize
		return f.data[start:min(start+CacheBlockSize, int64(len(f.data)))], nil
	}
	// Claim idx and the following missing, unclaimed blocks, but never
	// more than the cache holds.
	end := idx + 1
	for end <= last && end-idx < int64(c.max) {
		if _, ok := c.blocks[end]; ok {
			break
		}
		if _, ok := c.pending[end]; ok {
			break
		}
		end++
	}
	f := &fill{done: make(chan struct{}), first: idx}
	for i := idx; i < end; i++ {
		c.pending[i] = f
	}
	c.stats.Misses += end - idx
	c.stats.ReadCalls++
	c.mu.Unlock()

	// finish publishes the fill even if ReadAt panics, so that readers
	// waiting for these blocks get an error instead of waiting forever.
	f.err = errReadAborted
	defer c.finish(f, end)
	off := idx * CacheBlockSize
	buf := make([]byte, min(end*CacheBlockSize, c.size)-off)
	n, err := c.r.ReadAt(buf, off)
	if n == len(buf) {
		err = nil
	} else if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	f.data, f.n, f.err = buf, n, err
	if err != nil {
		return nil, err
	}
	return buf[:min(CacheBlockSize, int64(len(buf)))], nil
}
