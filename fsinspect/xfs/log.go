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
	// Read block 0 (its cycle is the newest) and the window at the
	// superblock's LSN side by side.
	hint := int64(uint32(g.sbLSN))
	if hint >= l.n {
		hint = 0
	}
	var first uint32
	var ok bool
	var wg sync.WaitGroup
	wg.Go(func() { first, ok = l.cycle(0) })
	l.readWindow(hint)
	wg.Wait()
	switch {
	case !ok:
		return LogUnknown
	case first == 0:
		return LogClean // a zeroed log holds nothing to replay
	}
	hintCycle := uint32(g.sbLSN >> 32)
	if g.sbLSN == 0 && g.v5 {
		hintCycle = first // never written since mkfs: block 0
	}
	head, ok := l.headNear(hint, hintCycle, first)
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
	// win holds the blocks from winFrom on, read where the head is
	// expected; nil if that read failed.
	win     []byte
	winFrom int64
}

// readWindow reads the blocks where a clean log's head is expected: past
// the superblock's record come at most the unmount record and another,
// each padded to the roundoff.
func (l *logReader) readWindow(hint int64) {
	// Start early enough for lastRecord to find the record before the
	// head in the window too.
	from := max(hint-l.tailBlocks(), 0)
	k := min(hint-from+logHintBlocks+2*l.fsys.g.logRoundoff/logBlock, l.n-from)
	buf := make([]byte, k*logBlock)
	if readFull(l.fsys.r, buf, l.base+from*logBlock) == nil {
		l.win, l.winFrom = buf, from
	}
}

// blocks returns log blocks [b, b+k), from the window when it holds them.
func (l *logReader) blocks(b, k int64) ([]byte, bool) {
	if b >= l.winFrom && (b-l.winFrom+k)*logBlock <= int64(len(l.win)) {
		return l.win[(b-l.winFrom)*logBlock : (b-l.winFrom+k)*logBlock], true
	}
	buf := make([]byte, k*logBlock)
	return buf, readFull(l.fsys.r, buf, l.base+b*logBlock) == nil
}

// cycle returns the cycle number of log block b: the first word of a
// block, or the word after the magic in a record header. It reads the
// block (never the window), so calls may run side by side.
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

// headNear looks for the head in the window from block hint on, which
// must carry the cycle first, as the superblock's LSN (of cycle
// hintCycle) says.
func (l *logReader) headNear(hint int64, hintCycle, first uint32) (int64, bool) {
	i := hint - l.winFrom
	if hintCycle != first || i < 0 || (i+1)*logBlock > int64(len(l.win)) || blockCycle(l.win[i*logBlock:]) != first {
		return 0, false
	}
	for i++; i < int64(len(l.win))/logBlock; i++ {
		if c := blockCycle(l.win[i*logBlock:]); c != first {
			return l.winFrom + i, c == first-1
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

// tailBlocks is how many blocks before the head lastRecord reads: as
// many as an unmount record fills, a header (up to 9 blocks with a
// 256 KiB log buffer) and one block of data padded to the roundoff.
func (l *logReader) tailBlocks() int64 {
	return min(max(logTailBlocks, l.fsys.g.logRoundoff/logBlock+9), l.n)
}

// lastRecord reads the blocks before head (wrapping to the end of the
// log) that an unmount record would fill, and finds the last record
// header of the cycle: an unmount record that ends at head means a clean
// log; no header there, a record too large to be one, a dirty log.
func (l *logReader) lastRecord(head int64, cycle uint32) LogState {
	fsys, base, n := l.fsys, l.base, l.n
	k := l.tailBlocks()
	// Block i of buf is log block (head-k+i) mod n.
	var buf []byte
	if from := head - k; from >= 0 {
		var ok bool
		if buf, ok = l.blocks(from, k); !ok {
			return LogUnknown
		}
	} else {
		buf = make([]byte, k*logBlock)
		if readFull(fsys.r, buf[:-from*logBlock], base+(n+from)*logBlock) != nil {
			return LogUnknown
		}
		if readFull(fsys.r, buf[-from*logBlock:], base) != nil {
			return LogUnknown
		}
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
