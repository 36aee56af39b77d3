package xfs

import (
	"encoding/binary"
	"sync"
)

// LogState is what the internal log says about the last unmount.
type LogState int

const (
	// LogUnknown: the log is external, or its head or last record could
	// not be decoded.
	LogUnknown LogState = iota
	// LogClean: the last record before the head is an unmount record (or
	// the log is zeroed): nothing needs recovery.
	LogClean
	// LogDirty: the log ends in transactions that were never replayed;
	// reads see the filesystem without them.
	LogDirty
)

func (s LogState) String() string {
	switch s {
	case LogClean:
		return "clean"
	case LogDirty:
		return "dirty"
	}
	return "unknown"
}

// Log record layout: 512-byte basic blocks; a record header block starts
// with the magic and holds the cycle at byte 4, the length at 12, the
// operation count at 40 and the header size at 320. Every other block
// starts with its cycle number. An operation header holds its flags at
// byte 9.
const (
	logBlock        = 512
	logMagic        = 0xfeedbabe
	logHeaderCycle  = 32 << 10 // bytes of record data one header block describes
	logUnmountTrans = 0x20
	logProbes       = 16 // blocks read at once per round of the head search
	logTailBlocks   = 16 // blocks read before the head to find the last record
)

// logState finds the head of the internal log (where the cycle number
// written in each block drops) and reports whether the record ending
// there is an unmount record. The head search reads logProbes blocks per
// round side by side, so a remote image pays a few round trips, not one
// per step of a binary search.
func (fsys *FS) logState() LogState {
	g := &fsys.g
	if g.logStart == 0 {
		return LogUnknown
	}
	start, err := fsys.daddr(g.logStart, g.logBlocks)
	if err != nil {
		return LogUnknown
	}
	base := int64(start) * g.blockSize
	n := int64(g.logBlocks) * g.blockSize / logBlock
	cycles := func(blks []int64) ([]uint32, bool) {
		out := make([]uint32, len(blks))
		ok := true
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, b := range blks {
			wg.Go(func() {
				c, good := fsys.logCycle(base, b)
				mu.Lock()
				out[i], ok = c, ok && good
				mu.Unlock()
			})
		}
		wg.Wait()
		return out, ok
	}
	ends, ok := cycles([]int64{0, n - 1})
	if !ok {
		return LogUnknown
	}
	first, last := ends[0], ends[1]
	if first == 0 {
		return LogClean // a zeroed log holds nothing to replay
	}
	head := n // the first block of the older cycle; n when none is
	if first != last {
		if last != first-1 {
			return LogUnknown
		}
		// Blocks [0, head) carry cycle first, [head, n) cycle last.
		lo, hi := int64(1), n-1
		for lo < hi {
			step := max((hi-lo)/logProbes, 1)
			var blks []int64
			for b := lo; b < hi; b += step {
				blks = append(blks, b)
			}
			cs, ok := cycles(blks)
			if !ok {
				return LogUnknown
			}
			i := 0
			for i < len(cs) && cs[i] == first {
				i++
			}
			if i < len(cs) {
				hi = blks[i]
			}
			if i > 0 {
				lo = blks[i-1] + 1
			}
		}
		head = hi
	}
	return fsys.lastRecord(base, n, head, first)
}

// logCycle returns the cycle number of log block b.
func (fsys *FS) logCycle(base, b int64) (uint32, bool) {
	var buf [8]byte
	if readFull(fsys.r, buf[:], base+b*logBlock) != nil {
		return 0, false
	}
	be := binary.BigEndian
	if be.Uint32(buf[:]) == logMagic {
		return be.Uint32(buf[4:]), true
	}
	return be.Uint32(buf[:]), true
}

// lastRecord reads the logTailBlocks blocks before head (wrapping to the
// end of the log) and finds the last record header of the cycle: an
// unmount record that ends at head means a clean log.
func (fsys *FS) lastRecord(base, n, head int64, cycle uint32) LogState {
	k := min(logTailBlocks, n)
	buf := make([]byte, k*logBlock)
	// Block i of buf is log block (head-k+i) mod n.
	from := head - k
	if from < 0 {
		if readFull(fsys.r, buf[:-from*logBlock], base+(n+from)*logBlock) != nil {
			return LogUnknown
		}
		if readFull(fsys.r, buf[-from*logBlock:], base) != nil {
			return LogUnknown
		}
	} else if readFull(fsys.r, buf, base+from*logBlock) != nil {
		return LogUnknown
	}
	be := binary.BigEndian
	for i := k - 1; i >= 0; i-- {
		h := buf[i*logBlock : (i+1)*logBlock]
		if be.Uint32(h) != logMagic {
			continue
		}
		if be.Uint32(h[4:]) != cycle {
			return LogUnknown
		}
		size := int64(be.Uint32(h[12:]))
		hdrBlocks := int64(1)
		if hs := int64(be.Uint32(h[320:])); be.Uint32(h[8:])&2 != 0 && hs > logHeaderCycle {
			hdrBlocks = (hs + logHeaderCycle - 1) / logHeaderCycle
		}
		if i+hdrBlocks+(size+logBlock-1)/logBlock != k {
			// The record does not end at the head: a torn write, or a
			// head search misled by one.
			return LogDirty
		}
		ops := be.Uint32(h[40:])
		if ops == 1 && i+hdrBlocks < k && buf[(i+hdrBlocks)*logBlock+9]&logUnmountTrans != 0 {
			return LogClean
		}
		return LogDirty
	}
	// No header in the blocks before the head: a large transaction.
	return LogDirty
}
