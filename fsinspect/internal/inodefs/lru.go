package inodefs

import (
	"container/list"
	"sync"
)

// LRU is a mutex-guarded least-recently-used cache bounded by the total
// cost of its values.
type LRU[K comparable, V any] struct {
	mu   sync.Mutex
	max  int
	cost int
	ll   list.List
	m    map[K]*list.Element
}

type lruItem[K comparable, V any] struct {
	key  K
	val  V
	cost int
}

// NewLRU returns an empty cache holding values of total cost up to max.
func NewLRU[K comparable, V any](max int) *LRU[K, V] {
	return &LRU[K, V]{max: max, m: make(map[K]*list.Element)}
}

// Get returns the value cached for k, marking it recently used.
func (c *LRU[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruItem[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Add caches v for k with the given cost, evicting the least recently
// used values to stay within the bound. A value costlier than the whole
// cache is not kept.
func (c *LRU[K, V]) Add(k K, v V, cost int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cost > c.max {
		return
	}
	if e, ok := c.m[k]; ok {
		it := e.Value.(*lruItem[K, V])
		c.cost += cost - it.cost
		it.val, it.cost = v, cost
		c.ll.MoveToFront(e)
	} else {
		c.m[k] = c.ll.PushFront(&lruItem[K, V]{k, v, cost})
		c.cost += cost
	}
	for c.cost > c.max {
		e := c.ll.Back()
		it := e.Value.(*lruItem[K, V])
		c.ll.Remove(e)
		delete(c.m, it.key)
		c.cost -= it.cost
	}
}
