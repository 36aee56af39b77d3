package image

import (
	"container/list"
	"errors"
	"io"
	"sync"

	qimage "github.com/lima-vm/go-qcow2reader/image"
)

// The least number of clusters one image's cluster cache holds, whatever
// their size, and the step by which a cached compressed cluster grows.
const (
	clusterCacheMinSize = 8
	inflateStep         = 16 << 10
)

// A clusterCache sits in front of go-qcow2reader and keeps the most
// recently used clusters. Each library read looks up an L2 table, and the
// library keeps only 16 of them, decoded anew on every miss; so a stored
// cluster is read whole, in one call, and then served from memory. A
// compressed cluster must be inflated from its start to reach any byte of
// it, so the cache keeps its inflated prefix and grows it (at least
// doubling) when a read needs more: a cluster is inflated about once, and
// only as far as reads go. With extended L2 entries the library's cluster
// status is too costly to ask, so every cluster is grown as a prefix.
//
// It is safe for concurrent use; two readers missing the same cluster at
// once may both read it.
type clusterCache struct {
	img      qimage.Image // the virtual disk
	size     int64
	cluster  int64
	prefixes bool // grow every cluster as a prefix, without asking its status
	max      int
	runs     *qcow2Runs // reads clusters side by side in the file at once; nil for none

	mu    sync.Mutex
	lru   *list.List // of *cachedCluster, most recent first
	index map[int64]*list.Element
}

type cachedCluster struct {
	n    int64  // cluster number
	data []byte // the inflated prefix of the cluster
}

// newClusterCache caches img, a virtual disk of size bytes in clusters
// of cluster bytes, holding at most maxBytes (and at least
// clusterCacheMinSize clusters). runs, when not nil, reads the clusters of
// a read that follow each other in the file with one call.
func newClusterCache(img qimage.Image, size, cluster int64, prefixes bool, maxBytes int64, runs *qcow2Runs) *clusterCache {
	return &clusterCache{
		runs:     runs,
		img:      img,
		size:     size,
		cluster:  cluster,
		prefixes: prefixes,
		max:      int(max(clusterCacheMinSize, maxBytes/cluster)),
		lru:      list.New(),
		index:    make(map[int64]*list.Element),
	}
}

// clusterWorkers bounds how many clusters of one read are read at once.
const clusterWorkers = 8

// ReadAt reads p at off, cluster by cluster. The clusters of a read that
// spans several are read side by side: over the network each costs a
// round trip (its L2 table, then its data), and they do not depend on
// each other; and those that follow each other in the file are read with
// one call first (readRuns).
func (c *clusterCache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, qcow2Error(off, ErrFormat, "read at negative offset %d", off)
	}
	// The pieces of p, one per cluster, up to the end of the disk.
	type piece struct {
		k, rel int64
		p      []byte
		n      int
		err    error
	}
	var pieces []piece
	for n := 0; n < len(p) && off+int64(n) < c.size; {
		at := off + int64(n)
		k, rel := at/c.cluster, at%c.cluster
		m := int(min(int64(len(p)-n), c.clusterLen(k)-rel))
		pieces = append(pieces, piece{k: k, rel: rel, p: p[n : n+m]})
		n += m
	}
	if len(pieces) > 1 && c.runs != nil {
		c.readRuns(pieces[0].k, min(len(pieces), c.max))
	}
	if len(pieces) == 1 {
		pieces[0].n, pieces[0].err = c.readCluster(pieces[0].k, pieces[0].p, pieces[0].rel)
	} else {
		var wg sync.WaitGroup
		sem := make(chan struct{}, clusterWorkers)
		for i := range pieces {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				pc := &pieces[i]
				pc.n, pc.err = c.readCluster(pc.k, pc.p, pc.rel)
			})
		}
		wg.Wait()
	}
	n := 0
	for _, pc := range pieces {
		n += pc.n
		if pc.err != nil {
			return n, pc.err
		}
		if pc.n < len(pc.p) {
			return n, io.ErrUnexpectedEOF
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// clusterLen is the length of cluster k, shorter at the end of the disk.
func (c *clusterCache) clusterLen(k int64) int64 { return min(c.cluster, c.size-k*c.cluster) }

// readCluster fills p from cluster k at rel bytes into it.
func (c *clusterCache) readCluster(k int64, p []byte, rel int64) (int, error) {
	need := rel + int64(len(p))
	old := c.lookup(k)
	if int64(len(old)) >= need {
		return copy(p, old[rel:]), nil
	}
	start, length := k*c.cluster, c.clusterLen(k)
	grow := length
	if old != nil || c.prefixes {
		grow = prefixLen(need, int64(len(old)), length)
	} else {
		ext, err := c.status(start)
		if err != nil {
			return 0, err
		}
		if ext.Compressed {
			grow = prefixLen(need, 0, length)
		}
	}
	data := make([]byte, grow)
	if _, err := c.read(data, start); err != nil {
		return 0, err
	}
	c.store(k, data)
	return copy(p, data[rel:]), nil
}

// prefixLen is how far to inflate a cluster of length bytes of which have
// are cached and a read needs need: need rounded up to inflateStep, and at
// least twice have, so that a cluster is inflated O(1) times.
func prefixLen(need, have, length int64) int64 {
	return min(length, max((need+inflateStep-1)/inflateStep*inflateStep, 2*have))
}

// lookup returns the cached prefix of cluster k, or nil.
func (c *clusterCache) lookup(k int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[k]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedCluster).data
	}
	return nil
}

// store caches data as the prefix of cluster k, unless a longer one is
// already cached, and evicts the least recently used cluster when full.
func (c *clusterCache) store(k int64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[k]; ok {
		cc := e.Value.(*cachedCluster)
		if len(data) > len(cc.data) {
			cc.data = data
		}
		c.lru.MoveToFront(e)
		return
	}
	c.index[k] = c.lru.PushFront(&cachedCluster{n: k, data: data})
	if c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedCluster)
		delete(c.index, old.n)
	}
}

// status asks the library whether the cluster at start is compressed,
// here or in the backing file it comes from.
func (c *clusterCache) status(start int64) (ext qimage.Extent, err error) {
	defer c.recoverRead(start, &err)
	ext, err = c.img.Extent(start, c.clusterLen(start/c.cluster))
	if err != nil {
		return ext, qcow2Error(start, ErrFormat, "cluster at virtual offset 0x%x: %v", start, err)
	}
	return ext, nil
}

// read fills p from the library at off, turning a short read, an error
// and any panic on a hostile file into a FormatError.
func (c *clusterCache) read(p []byte, off int64) (n int, err error) {
	defer c.recoverRead(off, &err)
	n, err = c.img.ReadAt(p, off)
	if n == len(p) {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return n, qcow2Error(off+int64(n), ErrTruncated, "reading %d bytes at virtual offset 0x%x: only %d readable (file truncated?)", len(p), off, n)
	}
	return n, qcow2Error(off, ErrFormat, "reading virtual offset 0x%x: %v", off, err)
}

// recoverRead turns a panic in the library into a FormatError in *err.
func (c *clusterCache) recoverRead(off int64, err *error) {
	if v := recover(); v != nil {
		*err = qcow2Error(off, ErrFormat, "qcow2 reader failed at virtual offset 0x%x: %v", off, v)
	}
}
