package image

import (
	"encoding/binary"
	"io"
	"sync"
)

// qcow2Runs finds where the standard clusters of a qcow2 file lie in the
// file, so that clusters of a read that lie side by side there are read
// with one call: go-qcow2reader reads a cluster a call, and over the
// network a call is a request. Anything but a plain allocated cluster
// (compressed, zero, unallocated, in a backing file, or with extended L2
// entries) is left to the library, and so is every fault: a mapping that
// cannot be read or looks wrong only means the clusters are read one by
// one, by the library, which reports the fault.
type qcow2Runs struct {
	r         io.ReaderAt // the qcow2 file
	fileSize  int64
	cluster   int64
	l1        []uint64
	l2Entries int64 // entries of one L2 table
}

// newQCOW2Runs returns the run finder of the qcow2 file r of size bytes
// headed by h whose L1 table is l1; nil when it cannot help (extended L2
// entries, no L1 table read).
func newQCOW2Runs(r io.ReaderAt, size int64, h *qcow2Header, l1 []uint64) *qcow2Runs {
	if h.extendedL2() || l1 == nil {
		return nil
	}
	return &qcow2Runs{r: r, fileSize: size, cluster: h.clusterSize(), l1: l1, l2Entries: h.clusterSize() / 8}
}

// qcow2PlainEntry keeps the bits a plain allocated L2 entry may have: its
// host offset and the copied flag (compressed, zero and reserved bits
// clear).
const qcow2PlainEntry = qcow2OffsetMask | 1<<63

// hosts returns the file offsets of the n clusters from first on, -1 for
// each one that is not a plain allocated cluster inside the file.
func (m *qcow2Runs) hosts(first int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = -1
	}
	be := binary.BigEndian
	for i := 0; i < n; {
		k := first + int64(i)
		l1i, within := k/m.l2Entries, k%m.l2Entries
		cnt := int(min(int64(n-i), m.l2Entries-within))
		if l1i < int64(len(m.l1)) {
			table := m.l1[l1i] & qcow2OffsetMask
			b := make([]byte, cnt*8)
			if table != 0 && table%uint64(m.cluster) == 0 && fitsIn(table, uint64(m.cluster), m.fileSize) {
				if _, err := m.r.ReadAt(b, int64(table)+within*8); err != nil {
					clear(b)
				}
			}
			for j := range cnt {
				e := be.Uint64(b[j*8:])
				off := e & qcow2OffsetMask
				if e&^qcow2PlainEntry == 0 && off != 0 && off%uint64(m.cluster) == 0 && fitsIn(off, uint64(m.cluster), m.fileSize) {
					out[i+j] = int64(off)
				}
			}
		}
		i += cnt
	}
	return out
}

// maxRunBytes bounds what one call reads: with clusterWorkers calls at
// once and each cluster copied out of its call's buffer, a read holds at
// most 16 MiB besides the cache.
const maxRunBytes = 1 << 20

// readRuns reads the clusters first to first+n-1 of c that are neither
// cached whole nor alone in their run, a run of clusters that follow
// each other in the file with one call, the runs side by side, and
// caches them. Clusters it does not read are left to readCluster.
func (c *clusterCache) readRuns(first int64, n int) {
	// Only the span from the first to the last cluster missing is mapped.
	missing := make([]bool, n)
	lo, hi := n, -1
	for i := range missing {
		if k := first + int64(i); int64(len(c.lookup(k))) < c.clusterLen(k) {
			missing[i] = true
			lo, hi = min(lo, i), i
		}
	}
	if hi-lo < 1 {
		return
	}
	hosts := c.runs.hosts(first+int64(lo), hi-lo+1)
	type run struct{ k, host, n int64 }
	var runs []run
	for i := lo; i <= hi; i++ {
		k := first + int64(i)
		if !missing[i] || hosts[i-lo] < 0 {
			continue
		}
		if last := len(runs) - 1; last >= 0 && runs[last].k+runs[last].n == k && runs[last].host+runs[last].n*c.cluster == hosts[i-lo] && (runs[last].n+1)*c.cluster <= maxRunBytes {
			runs[last].n++
			continue
		}
		runs = append(runs, run{k, hosts[i-lo], 1})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, clusterWorkers)
	for _, r := range runs {
		if r.n < 2 {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			buf := make([]byte, (r.n-1)*c.cluster+c.clusterLen(r.k+r.n-1))
			if n, _ := c.runs.r.ReadAt(buf, r.host); n < len(buf) {
				return
			}
			for j := range r.n {
				start := j * c.cluster
				c.store(r.k+j, append([]byte(nil), buf[start:start+c.clusterLen(r.k+j)]...))
			}
		})
	}
	wg.Wait()
}
