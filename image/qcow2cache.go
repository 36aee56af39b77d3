package image

import (
	"container/list"
	"errors"
	"io"
	"sync"
)

// clusterCacheBytes bounds the memory of one image's cluster cache.
const (
	clusterCacheBytes   = 32 << 20
	clusterCacheMinSize = 8 // clusters, whatever their size
)

// A clusterCache reads a virtual disk in whole, aligned clusters and keeps
// the most recently used ones, so that a compressed cluster is inflated
// once however many small reads fall in it. It is safe for concurrent use;
// two readers missing the same cluster at once may both read it.
type clusterCache struct {
	r       io.ReaderAt // the virtual disk
	size    int64
	cluster int64
	max     int

	mu    sync.Mutex
	lru   *list.List // of *cachedCluster, most recent first
	index map[int64]*list.Element
}

type cachedCluster struct {
	n    int64 // cluster number
	data []byte
}

// newClusterCache caches r, a virtual disk of size bytes, in clusters of
// cluster bytes, holding at most clusterCacheBytes (and at least
// clusterCacheMinSize clusters).
func newClusterCache(r io.ReaderAt, size, cluster int64) *clusterCache {
	return &clusterCache{
		r:       r,
		size:    size,
		cluster: cluster,
		max:     max(clusterCacheMinSize, int(clusterCacheBytes/cluster)),
		lru:     list.New(),
		index:   make(map[int64]*list.Element),
	}
}

// ReadAt reads from the cached clusters, reading missing ones whole.
func (c *clusterCache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, qcow2Error(off, ErrFormat, "read at negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= c.size {
			return n, io.EOF
		}
		data, err := c.get(at / c.cluster)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[at%c.cluster:])
	}
	return n, nil
}

// get returns cluster number k, reading it on a miss.
func (c *clusterCache) get(k int64) ([]byte, error) {
	c.mu.Lock()
	if e, ok := c.index[k]; ok {
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*cachedCluster).data, nil
	}
	c.mu.Unlock()

	data, err := c.read(k)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[k]; ok { // another reader got there first
		c.lru.MoveToFront(e)
		return e.Value.(*cachedCluster).data, nil
	}
	c.index[k] = c.lru.PushFront(&cachedCluster{n: k, data: data})
	if c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedCluster)
		delete(c.index, old.n)
	}
	return data, nil
}

// read reads cluster k (shorter at the end of the disk) from the
// library, turning its errors, and any panic on a hostile file, into
// FormatErrors.
func (c *clusterCache) read(k int64) (data []byte, err error) {
	start := k * c.cluster
	data = make([]byte, min(c.cluster, c.size-start))
	defer func() {
		if v := recover(); v != nil {
			data, err = nil, qcow2Error(start, ErrFormat, "reading cluster at virtual offset 0x%x: qcow2 reader failed: %v", start, v)
		}
	}()
	n, err := c.r.ReadAt(data, start)
	if n == len(data) {
		return data, nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, qcow2Error(start+int64(n), ErrTruncated, "cluster at virtual offset 0x%x: only %d of %d bytes readable (file truncated?)", start, n, len(data))
	}
	return nil, qcow2Error(start, ErrFormat, "reading cluster at virtual offset 0x%x: %v", start, err)
}
