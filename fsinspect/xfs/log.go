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

// String names the state: "clean", "dirty" or "unknown".
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
	logProbes       = 16  // blocks read at once per round of the head search
	logTailBlocks   = 16  // blocks read before the head to find an unmount record
	logHintBlocks   = 128 // blocks read from the superblock's LSN on
	logMaxRoundoff  = 256 << 10
)

// logState finds the head of the internal log (where the cycle number
// written in each block drops) and reports whether the record ending
// there is an unmount record.
//
// A clean unmount logs the superblock just before the unmount record,
// so on a v5 filesystem the head is usually within a few blocks of the
// superblock's LSN: one read there finds it. Otherwise the head search
// reads logProbes blocks per round side by side, so a remote image pays
// a few round trips, not one per step of a binary search.
func (fsys *FS) logState() LogState {
	g := &fsys.g
	if g.logStart == 0 || g.logRoundoff > logMaxRoundoff {
		return LogUnknown
	}
	start, err := fsys.daddr(g.logStart, g.logBlocks)
	if err != nil {
		return LogUnknown
	}
	l := &logReader{fsys: fsys, base: int64(start) * g.blockSize, n: int64(g.logBlocks) * g.blockSize / logBlock}
	first, ok := l.cycle(0)
	switch {
	case !ok:
		return LogUnknown
	case first == 0:
		return LogClean // a zeroed log holds nothing to replay
	}
	hint := fsys.g.sbLSN
	if hint == 0 && fsys.g.v5 {
		hint = uint64(first) << 32 // never written since mkfs: block 0
	}
	head, ok := l.headNear(hint, first)
	if !ok {
		if head, ok = l.searchHead(first); !ok {
			return LogUnknown
		}
	}
	return l.lastRecord(head, first)
}

// logReader reads the n basic blocks of the internal log at byte base.
type logReader struct {
	fsys    *FS
	base, n int64
}

// cycle returns the cycle number of log block b: the first word of a
// block, or the word after the magic in a record header.
func (l *logReader) cycle(b int64) (uint32, bool) {
	var buf [8]byte
	if readFull(l.fsys.r, buf[:], l.base+b*logBlock) != nil {
		return 0, false
	}
	return blockCycle(buf[:]), true
}

func blockCycle(b []byte) uint32 {
	be := binary.BigEndian
	if be.Uint32(b) == logMagic {
		return be.Uint32(b[4:])
	}
	return be.Uint32(b)
}

// headNear looks for the head in the logHintBlocks blocks from the block
// of lsn, which must carry the cycle first.
func (l *logReader) headNear(lsn uint64, first uint32) (int64, bool) {
	from := int64(uint32(lsn))
	if uint32(lsn>>32) != first || from >= l.n {
		return 0, false
	}
	// Past the superblock's record come at most the unmount record and
	// another, each padded to the roundoff.
	k := min(logHintBlocks+2*l.fsys.g.logRoundoff/logBlock, l.n-from)
	buf := make([]byte, k*logBlock)
	if readFull(l.fsys.r, buf, l.base+from*logBlock) != nil || blockCycle(buf) != first {
		return 0, false
	}
	for i := int64(1); i < k; i++ {
		if c := blockCycle(buf[i*logBlock:]); c != first {
			return from + i, c == first-1
		}
	}
	return 0, false
}

// searchHead finds the first block of the older cycle: blocks [0, head)
// carry cycle first, [head, n) cycle first-1; head is n when the whole
// log carries one cycle.
func (l *logReader) searchHead(first uint32) (int64, bool) {
	last, ok := l.cycle(l.n - 1)
	switch {
	case !ok:
		return 0, false
	case last == first:
		return l.n, true
	case last != first-1:
		return 0, false
	}
	lo, hi := int64(1), l.n-1
	for lo < hi {
		step := max((hi-lo)/logProbes, 1)
		var blks []int64
		for b := lo; b < hi; b += step {
			blks = append(blks, b)
		}
		cs, ok := l.cycles(blks)
		if !ok {
			return 0, false
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
	return hi, true
}

// cycles reads the cycle numbers of blks side by side.
func (l *logReader) cycles(blks []int64) ([]uint32, bool) {
	out := make([]uint32, len(blks))
	ok := true
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, b := range blks {
		wg.Go(func() {
			c, good := l.cycle(b)
			mu.Lock()
			out[i], ok = c, ok && good
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, ok
}

// lastRecord reads the blocks before head (wrapping to the end of the
// log) that an unmount record would fill, and finds the last record
// header of the cycle: an unmount record that ends at head means a clean
// log; no header there, a record too large to be one, a dirty log.
func (l *logReader) lastRecord(head int64, cycle uint32) LogState {
	fsys, base, n := l.fsys, l.base, l.n
	// An unmount record is a header (up to 9 blocks with a 256 KiB log
	// buffer) and one block of data, padded to the roundoff.
	k := min(max(logTailBlocks, fsys.g.logRoundoff/logBlock+9), n)
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
		// The kernel pads the header and data to the log's roundoff.
		round := fsys.g.logRoundoff
		if i+((hdrBlocks*logBlock+size+round-1)/round*round)/logBlock != k {
			// The record does not end at the head: a torn write, or a
			// head search misled by one.
			return LogUnknown
		}
		ops := be.Uint32(h[40:])
		if ops == 1 && i+hdrBlocks < k && buf[(i+hdrBlocks)*logBlock+9]&logUnmountTrans != 0 {
			return LogClean
		}
		return LogDirty
	}
	// No header in the blocks before the head: a record larger than an
	// unmount record.
	return LogDirty
}
