package image

import (
	"container/list"
	"sync"
)

// vmdkCacheMinEntries is the least number of entries a vmdkCache holds,
// whatever their size.
const vmdkCacheMinEntries = 8

// A vmdkCacheKey names one cached piece of a VMDK: the grain table or
// (grain set) the inflated grain at file offset off of extent ext.
type vmdkCacheKey struct {
	ext   int
	off   int64
	grain bool
}

// A vmdkCache keeps the most recently used grain tables and inflated
// grains of one VMDK, at most max bytes of them (and at least
// vmdkCacheMinEntries). It is safe for concurrent use; two readers
// missing the same entry at once may both load it.
type vmdkCache struct {
	max int64

	mu    sync.Mutex
	used  int64
	lru   *list.List // of *vmdkCacheEntry, most recent first
	index map[vmdkCacheKey]*list.Element
}

type vmdkCacheEntry struct {
	key  vmdkCacheKey
	data any
	size int64
}

func newVMDKCache(maxBytes int64) *vmdkCache {
	return &vmdkCache{max: maxBytes, lru: list.New(), index: make(map[vmdkCacheKey]*list.Element)}
}

// get returns the entry cached under k, or nil.
func (c *vmdkCache) get(k vmdkCacheKey) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[k]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*vmdkCacheEntry).data
	}
	return nil
}

// put caches data, size bytes, under k and evicts the least recently
// used entries while the cache is over its bound.
func (c *vmdkCache) put(k vmdkCacheKey, data any, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[k]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.index[k] = c.lru.PushFront(&vmdkCacheEntry{key: k, data: data, size: size})
	c.used += size
	for c.used > c.max && c.lru.Len() > vmdkCacheMinEntries {
		old := c.lru.Remove(c.lru.Back()).(*vmdkCacheEntry)
		delete(c.index, old.key)
		c.used -= old.size
	}
}
