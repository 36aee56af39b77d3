package image

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Offsets of blocks a blockMap does not store: noBlock reads as zeros,
// parentBlock from the parent disk.
const (
	noBlock     = -1
	parentBlock = -2
)

// maxFileOffset bounds every file offset read from a VHD or VHDX table,
// so that offset arithmetic cannot overflow; no real file is 64 PiB.
const maxFileOffset = 1 << 56

// A blockMap is a virtual disk cut into blocks of equal size, each stored
// whole at a file offset or not stored at all (read as zeros): the data of
// a VHD, VHDX or VDI file once its block table is loaded. The table stays in
// memory and nothing else changes after open, so ReadAt is safe for
// concurrent use and costs one host read per run of blocks that lie
// end to end in the file.
type blockMap struct {
	format  Format
	r       io.ReaderAt
	size    int64   // bytes of the virtual disk
	block   int64   // bytes per block
	offsets []int64 // file offset of each block's data, noBlock or parentBlock

	// A differencing disk reads parentBlock blocks from parent, a disk
	// of the same size, and reads a partially present block sector by
	// sector, from the file where the block's sector bitmap has a 1 bit
	// (bit 0 of byte 0 first), from parent where it has a 0: partial
	// maps such a block to the file offset of its first bitmap byte.
	parent  io.ReaderAt
	sector  int64
	partial map[int64]int64
}

// ReadAt reads p at off of the virtual disk. A read past the end of the
// disk returns io.EOF; a block that runs past the end of the file is a
// *FormatError wrapping ErrTruncated.
func (m *blockMap) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, m.errorf(off, ErrFormat, "read at negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= m.size {
			return n, io.EOF
		}
		k, rel := at/m.block, at%m.block
		want := min(int64(len(p)-n), m.size-at)
		// Extend the run while the next block follows in the file (or
		// is, like this one, absent).
		run := m.block - rel // to the end of block k
		for j := k + 1; run < want && m.follows(k, j); j++ {
			run += m.block
		}
		run = min(run, want)
		q := p[n : n+int(run)]
		var err error
		switch bitmap, partial := m.partial[k]; {
		case m.offsets[k] == noBlock:
			clear(q)
		case m.offsets[k] == parentBlock:
			err = m.readParent(q, at)
		case partial:
			err = m.readPartial(q, k, rel, bitmap)
		default:
			if got, rerr := m.r.ReadAt(q, m.offsets[k]+rel); got < len(q) {
				return n + got, m.readError(at+int64(got), m.offsets[k]+rel+int64(got), rerr)
			}
		}
		if err != nil {
			return n, err
		}
		n += int(run)
	}
	return n, nil
}

// follows reports whether block j continues block k's run: both absent
// alike, or j stored right after k's data ends in the file, j-k blocks
// on. Partially present blocks make runs of their own.
func (m *blockMap) follows(k, j int64) bool {
	if j >= int64(len(m.offsets)) || m.partial[k] != 0 || m.partial[j] != 0 {
		return false
	}
	a, b := m.offsets[k], m.offsets[j]
	if a < 0 || b < 0 {
		return a == b
	}
	return b == a+(j-k)*m.block
}

// readParent fills q from the parent disk at virtual offset at.
func (m *blockMap) readParent(q []byte, at int64) error {
	if got, err := m.parent.ReadAt(q, at); got < len(q) {
		if err == nil || errors.Is(err, io.EOF) {
			return m.errorf(at+int64(got), ErrTruncated, "parent disk ends at virtual offset 0x%x", at+int64(got))
		}
		return err
	}
	return nil
}

// readPartial fills q from the partially present block k at rel bytes into
// it, run by run of sectors that its bitmap, at file offset bitmap, puts
// in the file or in the parent.
func (m *blockMap) readPartial(q []byte, k, rel, bitmap int64) error {
	first, last := rel/m.sector, (rel+int64(len(q))-1)/m.sector
	bits, err := readStructure(m.format, m.r, maxFileOffset, bitmap+first/8, last/8-first/8+1, "sector bitmap")
	if err != nil {
		return err
	}
	present := func(s int64) bool { return bits[s/8-first/8]>>(s%8)&1 != 0 }
	for done := int64(0); done < int64(len(q)); {
		s := (rel + done) / m.sector
		e := s + 1 // the run of sectors alike is [s, e)
		for e <= last && present(e) == present(s) {
			e++
		}
		end := min(e*m.sector-rel, int64(len(q)))
		part, at := q[done:end], k*m.block+rel+done
		if present(s) {
			if got, err := m.r.ReadAt(part, m.offsets[k]+rel+done); got < len(part) {
				return m.readError(at+int64(got), m.offsets[k]+rel+done+int64(got), err)
			}
		} else if err := m.readParent(part, at); err != nil {
			return err
		}
		done = end
	}
	return nil
}

// readError describes a short read that stopped at virtual offset virt,
// file offset file.
func (m *blockMap) readError(virt, file int64, err error) error {
	k := virt / m.block
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return m.errorf(file, ErrTruncated, "block %d (virtual offset 0x%x) at file offset 0x%x runs past end of file", k, k*m.block, m.offsets[k])
	}
	return m.errorf(file, err, "reading block %d at file offset 0x%x: %v", k, m.offsets[k], err)
}

func (m *blockMap) errorf(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: string(m.format), Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// blockLen is the virtual length of block k: shorter at the end of the
// disk.
func (m *blockMap) blockLen(k int64) int64 { return min(m.block, m.size-k*m.block) }

// A fileRange is a span of the file that some structure occupies.
type fileRange struct {
	what     string
	off, len int64
}

// check validates the stored blocks and the file's own structures
// against each other: no two may share a byte. (They may lie past the end
// of the file: such a file was cut short, which referenced and reads
// report.) It returns the
// end of the furthest byte the blocks and structures reference. prefix
// is how many bytes of the file a block occupies before the data starts
// (a VHD block's sector bitmap), covered by the overlap check too.
func (m *blockMap) check(structures []fileRange, prefix int64) (referenced int64, err error) {
	ranges := slices.Clone(structures)
	for k, off := range m.offsets {
		if off >= 0 {
			ranges = append(ranges, fileRange{fmt.Sprintf("block %d", k), off - prefix, prefix + m.blockLen(int64(k))})
		}
	}
	slices.SortStableFunc(ranges, func(a, b fileRange) int {
		if a.off != b.off {
			return cmp.Compare(a.off, b.off)
		}
		return cmp.Compare(a.len, b.len)
	})
	for i, r := range ranges {
		if r.off < 0 {
			return 0, m.errorf(r.off, ErrFormat, "%s at negative file offset", r.what)
		}
		referenced = max(referenced, r.off+r.len)
		if i > 0 && ranges[i-1].off+ranges[i-1].len > r.off {
			p := ranges[i-1]
			return 0, m.errorf(r.off, ErrFormat, "%s at file offset 0x%x overlaps %s at 0x%x (0x%x bytes)", r.what, r.off, p.what, p.off, p.len)
		}
	}
	return referenced, nil
}

// readStructure reads n bytes at off, a structure named what of a file of
// the given format, which must lie within the file's size bytes.
func readStructure(format Format, r io.ReaderAt, size, off, n int64, what string) ([]byte, error) {
	fail := func(at int64, sentinel error, f string, args ...any) error {
		return &FormatError{Format: string(format), Offset: at, Reason: fmt.Sprintf(f, args...), Err: sentinel}
	}
	if !fitsIn(uint64(off), uint64(n), size) {
		return nil, fail(off, ErrTruncated, "%s at 0x%x (0x%x bytes) runs past end of file (size 0x%x)", what, off, n, size)
	}
	b := make([]byte, n)
	if m, err := r.ReadAt(b, off); m < len(b) {
		if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fail(off+int64(m), ErrTruncated, "%s at 0x%x runs past end of file", what, off)
		}
		return nil, fail(off, err, "reading %s at 0x%x: %v", what, off, err)
	}
	return b, nil
}
