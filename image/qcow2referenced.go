package image

import (
	"encoding/binary"
	"io"
)

// qcow2OffsetMask keeps the host offset bits (9 to 55) of an L1 or
// refcount table entry.
const qcow2OffsetMask = 0x00fffffffffffe00

// qcow2Referenced returns the end of the furthest byte of the qcow2 file r
// (size bytes, headed by h, with the L1 table l1, nil when it could not be
// read) that its metadata points at, reading only the refcount table and
// one refcount block besides. It counts the header and
// backing file name, the L1 table, the refcount table, every L2 table and
// refcount block those tables name (whole clusters, as QEMU writes them),
// and the first byte of the last cluster whose refcount in the last
// refcount block is not zero (data and compressed clusters need not be
// whole: QEMU writes a compressed cluster's bytes only). It does not read
// the L2 tables, so a data cluster that they point at but the refcounts do
// not count is not seen. A table larger than maxTable bytes, or one that
// cannot be read, is counted by its own extent only.
func qcow2Referenced(r io.ReaderAt, size int64, h *qcow2Header, l1 []uint64, maxTable int64) int64 {
	cluster := uint64(h.clusterSize())
	end := uint64(h.headerLength)
	if h.backingName != "" {
		end = max(end, h.backingOffset+uint64(len(h.backingName)))
	}
	l1Bytes := uint64(h.l1Size) * 8
	end = max(end, h.l1Offset+l1Bytes, h.refcountOffset+h.refcountBytes)
	for _, e := range l1 {
		if off := e & qcow2OffsetMask; off != 0 {
			end = max(end, off+cluster)
		}
	}
	blocks := readTable(r, h.refcountOffset, h.refcountBytes, maxTable)
	last := -1
	for i, e := range blocks {
		if off := e & qcow2OffsetMask; off != 0 {
			end = max(end, off+cluster)
			last = i
		}
	}
	if last >= 0 {
		if k, ok := lastCounted(r, size, blocks[last]&qcow2OffsetMask, cluster, h.refcountOrder); ok {
			perBlock := cluster * 8 >> h.refcountOrder
			if n := uint64(last)*perBlock + k; n < 1<<62/cluster {
				end = max(end, n*cluster+1)
			} else {
				end = 1 << 62
			}
		}
	}
	return int64(min(end, 1<<62))
}

// readTable reads a table of n/8 big-endian 64-bit entries at off; nil
// when it is larger than maxTable bytes or cannot be read whole.
func readTable(r io.ReaderAt, off, n uint64, maxTable int64) []uint64 {
	if n == 0 || n > uint64(maxTable) || off > 1<<62 {
		return nil
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(off)); err != nil {
		return nil
	}
	t := make([]uint64, n/8)
	for i := range t {
		t[i] = binary.BigEndian.Uint64(b[i*8:])
	}
	return t
}

// lastCounted returns the index of the last non-zero refcount in the
// refcount block of cluster bytes at off, whose refcounts are 1<<order
// bits wide (packed from the low bits of each byte when narrower than a
// byte, big-endian when wider); false when there is none or the block
// cannot be read.
func lastCounted(r io.ReaderAt, size int64, off, cluster uint64, order uint32) (uint64, bool) {
	if !fitsIn(off, cluster, size) {
		return 0, false
	}
	b := make([]byte, cluster)
	if _, err := r.ReadAt(b, int64(off)); err != nil {
		return 0, false
	}
	bits := uint64(1) << order
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == 0 {
			continue
		}
		if bits >= 8 {
			return uint64(i) / (bits / 8), true
		}
		perByte := 8 / bits
		for sub := perByte - 1; ; sub-- {
			if b[i]>>(sub*bits)&(1<<bits-1) != 0 {
				return uint64(i)*perByte + sub, true
			}
		}
	}
	return 0, false
}
