package sqlite

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Write-ahead log layout (https://www.sqlite.org/fileformat2.html#walformat).
const (
	walMagicLE      = 0x377f0682 // checksums over little-endian words
	walMagicBE      = 0x377f0683 // checksums over big-endian words
	walVersion      = 3007000
	walHeaderSize   = 32
	walFrameHdrSize = 24
)

// readWAL finds the frames of the last valid commit of the log w of size
// bytes, as SQLite's recovery does: frames are read in order while their
// salts match the header's and their cumulative checksums hold; the
// pages of the frames up to the last commit frame among them are the
// database's latest, and that commit frame's size is the database's.
// A log whose header is bad or whose first commit is invalid changes
// nothing.
func (f *File) readWAL(w io.ReaderAt, size int64) error {
	if size < walHeaderSize {
		return nil
	}
	h := make([]byte, walHeaderSize)
	if err := readFull(w, h, 0); err != nil {
		return err
	}
	var order binary.ByteOrder
	switch be.Uint32(h) {
	case walMagicLE:
		order = binary.LittleEndian
	case walMagicBE:
		order = binary.BigEndian
	default:
		return nil
	}
	if v := be.Uint32(h[4:]); v != walVersion {
		return fmt.Errorf("%w: write-ahead log format %d", errors.ErrUnsupported, v)
	}
	s0, s1 := walChecksum(order, 0, 0, h[:24])
	if s0 != be.Uint32(h[24:]) || s1 != be.Uint32(h[28:]) {
		return nil
	}
	if ps := int64(be.Uint32(h[8:])); ps != f.pageSize {
		return fmt.Errorf("%w: write-ahead log of pages of %d bytes, database of %d", ErrCorrupt, ps, f.pageSize)
	}
	frame := make([]byte, walFrameHdrSize+f.pageSize)
	in := bufio.NewReaderSize(io.NewSectionReader(w, walHeaderSize, size-walHeaderSize), int(min(size, 1<<20)))
	pending := map[uint32]int64{}
	// Pages past the file's end can only come from the log: a commit
	// size beyond both reads as the part that exists.
	last := f.pages
	for off := int64(walHeaderSize); off+int64(len(frame)) <= size; off += int64(len(frame)) {
		if _, err := io.ReadFull(in, frame); err != nil {
			return err
		}
		page := be.Uint32(frame)
		if page == 0 || string(frame[8:16]) != string(h[16:24]) {
			break
		}
		s0, s1 = walChecksum(order, s0, s1, frame[:8])
		s0, s1 = walChecksum(order, s0, s1, frame[walFrameHdrSize:])
		if s0 != be.Uint32(frame[16:]) || s1 != be.Uint32(frame[20:]) {
			break
		}
		pending[page] = off + walFrameHdrSize
		last = max(last, page)
		if commit := be.Uint32(frame[4:]); commit != 0 {
			if f.wal == nil {
				f.wal = map[uint32]int64{}
			}
			for p, o := range pending {
				f.wal[p] = o
			}
			clear(pending)
			f.pages = min(commit, last)
		}
	}
	f.walR = w
	return nil
}

// walChecksum continues the log's checksum s0, s1 over b, a whole number
// of pairs of 32-bit words in the given byte order.
func walChecksum(order binary.ByteOrder, s0, s1 uint32, b []byte) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}
