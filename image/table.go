package image

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Scheme names a partitioning scheme.
type Scheme string

// Partitioning schemes. None means no table: the disk is one filesystem
// (or unknown bytes), described by a single pseudo-partition.
const (
	GPT  Scheme = "gpt"
	MBR  Scheme = "mbr"
	None Scheme = "none"
)

// A Table is a decoded partition table.
type Table struct {
	Scheme     Scheme
	SectorSize int         // logical sector size in bytes: 512 or 4096
	DiskGUID   string      // GPT disk GUID, or the MBR disk signature as 8 hex digits
	Partitions []Partition // in Index order
	// BackupGPT is the byte offset of the backup GPT header that the
	// primary header names (its alternate LBA), 0 for MBR or when the
	// backup had to stand in for a damaged primary.
	BackupGPT int64
	// Notes describe what was odd but readable: a bad primary GPT, a
	// hybrid MBR, partitions past the end of the disk, a looping EBR chain.
	Notes []string
}

// A Partition is one entry of a partition table.
type Partition struct {
	Index    int    // Linux numbering: GPT entry slot + 1; MBR 1-4, logical from 5
	Start    int64  // offset in bytes from the start of the disk
	Size     int64  // length in bytes
	Type     string // friendly name: "Linux filesystem", "EFI System", "Extended", ...
	TypeGUID string // GPT type GUID, upper case; "" for MBR
	MBRType  byte   // MBR type id; 0 for GPT
	UUID     string // GPT partition GUID, or the MBR PARTUUID ("1a2b3c4d-05")
	Name     string // GPT partition name
	Bootable bool   // MBR active flag, or GPT legacy BIOS bootable attribute
	Logical  bool   // an MBR logical partition inside an extended one

	r    io.ReaderAt
	disk int64
}

// ReadAt reads from the partition at off bytes from its start. A read past
// the end of the partition returns io.EOF; a read past the end of the disk
// inside the partition returns an error wrapping ErrTruncated.
func (p *Partition) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &FormatError{Format: "partition", Offset: off, Reason: fmt.Sprintf("partition %d: read at negative offset %d", p.Index, off), Err: ErrFormat}
	}
	if off >= p.Size {
		if len(b) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	var eof error
	if int64(len(b)) > p.Size-off {
		b, eof = b[:p.Size-off], io.EOF
	}
	abs := p.Start + off
	n, err := p.r.ReadAt(b, abs)
	if n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			return n, &FormatError{
				Format: "partition",
				Offset: abs + int64(n),
				Reason: fmt.Sprintf("partition %d: read at 0x%x runs past end of disk (size 0x%x)", p.Index, abs+int64(n), p.disk),
				Err:    ErrTruncated,
			}
		}
		return n, err
	}
	return n, eof
}

// Open returns a new reader over the partition; each call has its own
// offset.
func (p *Partition) Open() *io.SectionReader { return io.NewSectionReader(p, 0, p.Size) }

// ReadTable decodes the partition table of the disk r, which is size bytes
// long. A GPT is used when the MBR protects it (or there is no MBR); a
// damaged primary GPT falls back to the backup with a Note. A disk with no
// table has Scheme None and one partition covering it. It applies
// DefaultLimits; see ReadTableLimits.
func ReadTable(r io.ReaderAt, size int64) (*Table, error) {
	return ReadTableLimits(r, size, DefaultLimits())
}

// ReadTableLimits is ReadTable with the GPTEntries and EBRLinks of l: a GPT
// with more entries is refused with an error wrapping ErrUnsupported, and
// an EBR chain is followed at most EBRLinks links, with a Note where it
// stops.
func ReadTableLimits(r io.ReaderAt, size int64, l Limits) (*Table, error) {
	l = l.orDefaults()
	if size < 0 {
		return nil, &FormatError{Format: "table", Offset: -1, Reason: fmt.Sprintf("negative disk size %d", size), Err: ErrFormat}
	}
	if size < 512 {
		return noTable(r, size), nil
	}
	sector0, err := readBlock(r, size, 0, 512, "mbr", "MBR")
	if err != nil {
		return nil, err
	}
	m := parseMBR(sector0)
	ss := probeGPT(r, size)
	switch {
	case m.valid && m.protective, ss != 0 && (!m.valid || m.empty()):
		return readGPT(r, size, ss, m, l.GPTEntries)
	case (!m.valid || !m.plausible(size)) && bareFilesystem(r, size):
		// A FAT boot sector also ends in 0x55AA, with boot code where
		// the partition entries would be.
		return noTable(r, size), nil
	case m.valid && !m.empty():
		t := readMBR(r, size, m, l.EBRLinks)
		if ss != 0 {
			t.Notes = append(t.Notes, "GPT header at LBA 1 ignored: the MBR has no protective (0xEE) entry")
		}
		return t, nil
	case m.valid:
		return &Table{Scheme: MBR, SectorSize: 512, DiskGUID: m.diskSig}, nil
	}
	return noTable(r, size), nil
}

// bareFilesystem reports whether a filesystem starts at sector 0. An ISO
// 9660 image does not count: isohybrid images carry a real MBR.
func bareFilesystem(r io.ReaderAt, size int64) bool {
	fs := Sniff(r, size)
	return fs != "" && fs != "iso9660"
}

// noTable describes a disk without a partition table.
func noTable(r io.ReaderAt, size int64) *Table {
	return &Table{
		Scheme:     None,
		SectorSize: 512,
		Partitions: []Partition{{Index: 1, Start: 0, Size: size, Type: "whole disk", r: r, disk: size}},
	}
}

// readBlock reads n bytes at off after checking that they lie inside the
// disk, so no count from the disk is trusted before it is bounded.
func readBlock(r io.ReaderAt, size, off, n int64, format, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > size || n > size-off {
		return nil, &FormatError{
			Format: format,
			Offset: off,
			Reason: fmt.Sprintf("%s at 0x%x (0x%x bytes) runs past end of disk (size 0x%x)", what, off, n, size),
			Err:    ErrTruncated,
		}
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FormatError{Format: format, Offset: off, Reason: fmt.Sprintf("%s at 0x%x: disk ends early", what, off), Err: ErrTruncated}
		}
		return nil, err
	}
	return b, nil
}

// lbaRange converts a first LBA and a sector count to bytes, reporting
// false when they do not fit in an int64.
func lbaRange(first, count uint64, ss int64) (start, length int64, ok bool) {
	limit := uint64(math.MaxInt64 / ss)
	if first > limit || count > limit || first+count > limit {
		return 0, 0, false
	}
	return int64(first) * ss, int64(count) * ss, true
}

// checkLayout adds Notes for partitions past the end of the disk and for
// overlapping partitions. Extended MBR containers are not compared with
// the logical partitions inside them.
func checkLayout(t *Table, size int64) {
	for _, p := range t.Partitions {
		if p.Start+p.Size > size {
			t.Notes = append(t.Notes, fmt.Sprintf("partition %d (bytes 0x%x-0x%x) extends past the end of the disk (size 0x%x)", p.Index, p.Start, p.Start+p.Size, size))
		}
	}
	idx := make([]int, 0, len(t.Partitions))
	for i, p := range t.Partitions {
		if p.Type != "Extended" && p.Size > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return t.Partitions[idx[a]].Start < t.Partitions[idx[b]].Start })
	end, last := int64(-1), -1
	for _, i := range idx {
		p := t.Partitions[i]
		if last >= 0 && p.Start < end {
			t.Notes = append(t.Notes, fmt.Sprintf("partitions %d and %d overlap", t.Partitions[last].Index, p.Index))
		}
		if e := p.Start + p.Size; e > end {
			end, last = e, i
		}
	}
}
