package image

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"
	"unicode/utf16"
)

// GPT bounds: the UEFI default is 128 entries of 128 bytes; more entries
// than the GPTEntries limit, or an array larger than maxGPTArray (or than
// that many 128-byte entries, if more), is refused.
const (
	maxGPTEntrySize = 4096
	maxGPTArray     = 4 << 20
)

// A gptHeader is a validated GPT header with its entry array.
type gptHeader struct {
	lba, alternate          uint64
	firstUsable, lastUsable uint64
	diskGUID                string
	revision                uint32
	entrySize               int
	entries                 []byte
}

// A gptFault says why a GPT header at some LBA is unusable.
type gptFault struct {
	what string // "header CRC mismatch", "entry array CRC mismatch", ...
	err  error  // sentinel
}

func (f *gptFault) Error() string { return f.what }

// probeGPT returns the sector size whose LBA 1 holds a GPT signature, or 0.
func probeGPT(r io.ReaderAt, size int64) int64 {
	for _, ss := range []int64{512, 4096} {
		if b, err := readBlock(r, size, ss, 8, "gpt", "GPT header"); err == nil && string(b) == "EFI PART" {
			return ss
		}
	}
	return 0
}

// readGPT decodes the GPT of a disk with sector size ss (0 when LBA 1 has
// no signature under either size, so only a backup can be found), reading
// at most maxEntries entries.
func readGPT(r io.ReaderAt, size int64, ss int64, m mbrSector, maxEntries int) (*Table, error) {
	var (
		h        *gptHeader
		perr     error
		notes    []string
		backupAt uint64
	)
	if ss != 0 {
		h, perr = readGPTHeader(r, size, ss, 1, maxEntries)
	} else {
		perr = &gptFault{what: "header signature missing", err: ErrFormat}
	}
	if perr != nil {
		var fault *gptFault
		if !errors.As(perr, &fault) {
			return nil, perr // an I/O error, not a damaged header
		}
		var berr error
		if h, ss, backupAt, berr = readBackupGPT(r, size, ss, maxEntries); berr != nil {
			return nil, &FormatError{
				Format: "gpt",
				Offset: max(ss, 512),
				Reason: fmt.Sprintf("GPT %s at LBA 1 and backup unreadable (LBA %d: %v)", fault.what, backupAt, berr),
				Err:    fault.err,
			}
		}
		notes = append(notes, fmt.Sprintf("primary GPT unusable (%s at LBA 1); using the backup at LBA %d", fault.what, backupAt))
	} else if _, berr := readGPTHeader(r, size, ss, h.alternate, maxEntries); berr != nil {
		notes = append(notes, fmt.Sprintf("backup GPT at LBA %d unusable: %v", h.alternate, berr))
	} else if last := uint64(size/ss) - 1; h.alternate != last {
		notes = append(notes, fmt.Sprintf("backup GPT at LBA %d, not at the last LBA %d (disk resized?)", h.alternate, last))
	}
	t := &Table{Scheme: GPT, SectorSize: int(ss), DiskGUID: h.diskGUID, Notes: notes}
	if perr == nil {
		t.BackupGPT = math.MaxInt64 // an alternate LBA beyond any disk
		if h.alternate < uint64(math.MaxInt64/ss) {
			t.BackupGPT = int64(h.alternate) * ss
		}
	}
	switch {
	case !m.valid:
		t.Notes = append(t.Notes, "no protective MBR")
	case hybridEntries(m) > 0:
		t.Notes = append(t.Notes, fmt.Sprintf("hybrid MBR: %d MBR entries besides the protective one", hybridEntries(m)))
	}
	if h.revision != 0x00010000 {
		t.Notes = append(t.Notes, fmt.Sprintf("GPT revision 0x%08x", h.revision))
	}
	gptPartitions(t, r, size, ss, h)
	checkLayout(t, size)
	return t, nil
}

// readBackupGPT looks for a valid backup GPT when the primary is damaged:
// at the last LBA, then at the LBA the damaged primary names (a disk grown
// after partitioning keeps its backup there). With ss 0 it tries 512- and
// 4096-byte sectors. It returns the header, its sector size and LBA.
func readBackupGPT(r io.ReaderAt, size, ss int64, maxEntries int) (*gptHeader, int64, uint64, error) {
	sizes := []int64{ss}
	if ss == 0 {
		sizes = []int64{512, 4096}
	}
	var (
		err  error
		last uint64
	)
	for _, s := range sizes {
		last = uint64(size/s) - 1
		lbas := []uint64{last}
		if b, rerr := readBlock(r, size, s, 40, "gpt", "GPT header"); rerr == nil && string(b[:8]) == "EFI PART" {
			if alt := binary.LittleEndian.Uint64(b[32:]); alt > 1 && alt < last {
				lbas = append(lbas, alt)
			}
		}
		for _, lba := range lbas {
			var h *gptHeader
			if h, err = readGPTHeader(r, size, s, lba, maxEntries); err == nil {
				return h, s, lba, nil
			}
		}
	}
	return nil, ss, last, err
}

func hybridEntries(m mbrSector) int {
	n := 0
	for _, e := range m.entries {
		if e.typ != 0 && e.typ != 0xee {
			n++
		}
	}
	return n
}

// readGPTHeader reads and validates the GPT header at lba and its entry
// array, of at most maxEntries entries. Damage is a *gptFault; a failed
// read is returned as is.
func readGPTHeader(r io.ReaderAt, size, ss int64, lba uint64, maxEntries int) (*gptHeader, error) {
	off, _, ok := lbaRange(lba, 1, ss)
	if lba == 0 || !ok || off+ss > size {
		return nil, &gptFault{what: fmt.Sprintf("header LBA %d beyond the end of the disk", lba), err: ErrTruncated}
	}
	b, err := readBlock(r, size, off, ss, "gpt", "GPT header")
	if err != nil {
		return nil, err
	}
	if string(b[:8]) != "EFI PART" {
		return nil, &gptFault{what: "header signature missing", err: ErrFormat}
	}
	hsize := binary.LittleEndian.Uint32(b[12:])
	if hsize < 92 || int64(hsize) > ss {
		return nil, &gptFault{what: fmt.Sprintf("header size %d out of range", hsize), err: ErrFormat}
	}
	hdr := append([]byte(nil), b[:hsize]...)
	want := binary.LittleEndian.Uint32(hdr[16:])
	clear(hdr[16:20])
	if crc32.ChecksumIEEE(hdr) != want {
		return nil, &gptFault{what: "header CRC mismatch", err: ErrChecksum}
	}
	h := &gptHeader{
		lba:         lba,
		revision:    binary.LittleEndian.Uint32(b[8:]),
		alternate:   binary.LittleEndian.Uint64(b[32:]),
		firstUsable: binary.LittleEndian.Uint64(b[40:]),
		lastUsable:  binary.LittleEndian.Uint64(b[48:]),
		diskGUID:    guid(b[56:72]),
	}
	if my := binary.LittleEndian.Uint64(b[24:]); my != lba {
		return nil, &gptFault{what: fmt.Sprintf("header at LBA %d says it is at LBA %d", lba, my), err: ErrFormat}
	}
	if h.firstUsable > h.lastUsable+1 {
		return nil, &gptFault{what: fmt.Sprintf("first usable LBA %d after last usable LBA %d", h.firstUsable, h.lastUsable), err: ErrFormat}
	}
	arrayLBA := binary.LittleEndian.Uint64(b[72:])
	count := binary.LittleEndian.Uint32(b[80:])
	esize := binary.LittleEndian.Uint32(b[84:])
	if esize < 128 || esize%128 != 0 || esize > maxGPTEntrySize {
		return nil, &gptFault{what: fmt.Sprintf("entry size %d is not a multiple of 128 up to %d", esize, maxGPTEntrySize), err: ErrFormat}
	}
	switch maxArray := max(maxGPTArray, uint64(maxEntries)*128); {
	case uint64(count) > uint64(maxEntries):
		return nil, &gptFault{what: fmt.Sprintf("%d entries of %d bytes is more than imgcheck reads (the gpt-entries limit is %d)", count, esize, maxEntries), err: ErrUnsupported}
	case uint64(count)*uint64(esize) > maxArray:
		return nil, &gptFault{what: fmt.Sprintf("%d entries of %d bytes is more than imgcheck reads (an entry array of at most %s)", count, esize, byteSize(int64(maxArray))), err: ErrUnsupported}
	}
	n := int64(count) * int64(esize)
	aoff, _, ok := lbaRange(arrayLBA, 1, ss)
	if !ok || aoff > size || n > size-aoff {
		return nil, &gptFault{what: fmt.Sprintf("entry array at LBA %d runs past the end of the disk", arrayLBA), err: ErrTruncated}
	}
	if h.entries, err = readBlock(r, size, aoff, n, "gpt", "GPT entry array"); err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(h.entries) != binary.LittleEndian.Uint32(b[88:]) {
		return nil, &gptFault{what: "entry array CRC mismatch", err: ErrChecksum}
	}
	h.entrySize = int(esize)
	return h, nil
}

// gptPartitions decodes the used entries of h into t.
func gptPartitions(t *Table, r io.ReaderAt, size, ss int64, h *gptHeader) {
	for i := 0; i+h.entrySize <= len(h.entries); i += h.entrySize {
		e := h.entries[i : i+h.entrySize]
		typ := guid(e[0:16])
		if typ == "00000000-0000-0000-0000-000000000000" {
			continue
		}
		index := i/h.entrySize + 1
		first, last := binary.LittleEndian.Uint64(e[32:]), binary.LittleEndian.Uint64(e[40:])
		if last < first {
			t.Notes = append(t.Notes, fmt.Sprintf("partition %d ends (LBA %d) before it starts (LBA %d); ignored", index, last, first))
			continue
		}
		start, length, ok := lbaRange(first, last-first+1, ss)
		if !ok {
			t.Notes = append(t.Notes, fmt.Sprintf("partition %d (LBA %d-%d) is beyond any disk; ignored", index, first, last))
			continue
		}
		if first < h.firstUsable || last > h.lastUsable {
			t.Notes = append(t.Notes, fmt.Sprintf("partition %d (LBA %d-%d) lies outside the usable LBAs %d-%d", index, first, last, h.firstUsable, h.lastUsable))
		}
		t.Partitions = append(t.Partitions, Partition{
			Index:    index,
			Start:    start,
			Size:     length,
			Type:     gptTypeName(typ),
			TypeGUID: typ,
			UUID:     guid(e[16:32]),
			Name:     utf16Name(e[56:128]),
			Bootable: binary.LittleEndian.Uint64(e[48:])&(1<<2) != 0,
			r:        r,
			disk:     size,
		})
	}
}

// guid formats a GPT GUID (little-endian first three fields) in upper case.
func guid(b []byte) string {
	return strings.ToUpper(fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16]))
}

// utf16Name decodes a NUL-terminated UTF-16LE partition name.
func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
