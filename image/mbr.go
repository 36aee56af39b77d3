package image

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// An mbrEntry is one 16-byte MBR or EBR partition entry.
type mbrEntry struct {
	status  byte
	typ     byte
	lba     uint32
	sectors uint32
}

// An mbrSector is a decoded sector 0.
type mbrSector struct {
	valid      bool // 0x55AA signature and sane status bytes
	protective bool // an entry of type 0xEE
	diskSig    string
	entries    [4]mbrEntry
}

func (m *mbrSector) empty() bool {
	for _, e := range m.entries {
		if e.typ != 0 {
			return false
		}
	}
	return true
}

// plausible reports whether the MBR has entries and each lies inside a
// disk of size bytes, starting after sector 0.
func (m *mbrSector) plausible(size int64) bool {
	for _, e := range m.entries {
		if e.typ != 0 && (e.lba == 0 || e.sectors == 0 || (int64(e.lba)+int64(e.sectors))*512 > size) {
			return false
		}
	}
	return !m.empty()
}

func parseEntries(b []byte) [4]mbrEntry {
	var es [4]mbrEntry
	for i := range es {
		e := b[446+16*i : 446+16*(i+1)]
		es[i] = mbrEntry{status: e[0], typ: e[4], lba: binary.LittleEndian.Uint32(e[8:]), sectors: binary.LittleEndian.Uint32(e[12:])}
	}
	return es
}

// parseMBR decodes sector 0. It is valid when it ends in 0x55AA and every
// status byte is 0x00 or 0x80, which tells a table from boot code.
func parseMBR(b []byte) mbrSector {
	m := mbrSector{entries: parseEntries(b), diskSig: fmt.Sprintf("%08x", binary.LittleEndian.Uint32(b[440:]))}
	m.valid = b[510] == 0x55 && b[511] == 0xaa
	for _, e := range m.entries {
		if e.status != 0 && e.status != 0x80 {
			m.valid = false
		}
		if e.typ == 0xee {
			m.protective = true
		}
	}
	return m
}

func isExtended(typ byte) bool { return typ == 0x05 || typ == 0x0f || typ == 0x85 }

// readMBR decodes an MBR table with its logical partitions, following at
// most maxEBR links of each EBR chain.
func readMBR(r io.ReaderAt, size int64, m mbrSector, maxEBR int) *Table {
	ss := int64(512)
	if mbrScore(r, size, m, 4096) > mbrScore(r, size, m, 512) {
		ss = 4096
	}
	t := &Table{Scheme: MBR, SectorSize: int(ss), DiskGUID: m.diskSig}
	next := 5
	for i, e := range m.entries {
		if e.typ == 0 {
			continue
		}
		if e.sectors == 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("MBR entry %d (type 0x%02x) has no sectors; ignored", i+1, e.typ))
			continue
		}
		p := mbrPartition(r, size, m.diskSig, i+1, e, 0, ss)
		t.Partitions = append(t.Partitions, p)
		if isExtended(e.typ) {
			next = readEBRChain(t, r, size, m.diskSig, uint64(e.lba), uint64(e.sectors), ss, next, maxEBR)
		}
	}
	sort.SliceStable(t.Partitions, func(i, j int) bool { return t.Partitions[i].Index < t.Partitions[j].Index })
	checkLayout(t, size)
	return t
}

// mbrPartition builds a Partition from an entry whose LBA is relative to
// base (an EBR, or 0 for the MBR).
func mbrPartition(r io.ReaderAt, size int64, diskSig string, index int, e mbrEntry, base uint64, ss int64) Partition {
	start, length, _ := lbaRange(base+uint64(e.lba), uint64(e.sectors), ss)
	return Partition{
		Index:    index,
		Start:    start,
		Size:     length,
		Type:     mbrTypeName(e.typ),
		MBRType:  e.typ,
		UUID:     fmt.Sprintf("%s-%02x", diskSig, index),
		Bootable: e.status == 0x80,
		Logical:  base != 0,
		r:        r,
		disk:     size,
	}
}

// readEBRChain appends the logical partitions of the extended partition at
// LBA ext (length sectors long), numbering them from next, and returns the
// next free number. The chain is followed at most maxEBR links and never
// visits an EBR twice; where it stops early a Note says why.
func readEBRChain(t *Table, r io.ReaderAt, size int64, diskSig string, ext, length uint64, ss int64, next, maxEBR int) int {
	seen := make(map[uint64]bool)
	for ebr := ext; ; {
		if len(seen) == maxEBR {
			t.Notes = append(t.Notes, fmt.Sprintf("EBR chain of the extended partition at LBA %d is longer than %d links (the ebr-links limit); stopped", ext, maxEBR))
			return next
		}
		if seen[ebr] {
			t.Notes = append(t.Notes, fmt.Sprintf("EBR chain loops back to LBA %d; stopped", ebr))
			return next
		}
		seen[ebr] = true
		off, _, ok := lbaRange(ebr, 1, ss)
		if !ok {
			t.Notes = append(t.Notes, fmt.Sprintf("EBR at LBA %d is beyond any disk; chain stopped", ebr))
			return next
		}
		b, err := readBlock(r, size, off, 512, "mbr", fmt.Sprintf("EBR at LBA %d", ebr))
		if err != nil {
			t.Notes = append(t.Notes, fmt.Sprintf("EBR at LBA %d unreadable (%v); chain stopped", ebr, err))
			return next
		}
		if b[510] != 0x55 || b[511] != 0xaa {
			t.Notes = append(t.Notes, fmt.Sprintf("EBR at LBA %d has no 0x55AA signature; chain stopped", ebr))
			return next
		}
		es := parseEntries(b)
		if e := es[0]; e.typ != 0 && e.sectors != 0 {
			p := mbrPartition(r, size, diskSig, next, e, ebr, ss)
			if ebr+uint64(e.lba)+uint64(e.sectors) > ext+length {
				t.Notes = append(t.Notes, fmt.Sprintf("logical partition %d extends past its extended partition", next))
			}
			t.Partitions = append(t.Partitions, p)
			next++
		}
		link := es[1]
		if !isExtended(link.typ) || link.sectors == 0 {
			return next
		}
		ebr = ext + uint64(link.lba)
	}
}

// mbrScore says how well sector size ss explains the table: one point for
// each partition that fits the disk and holds a known filesystem or, for
// an extended partition, an EBR signature.
func mbrScore(r io.ReaderAt, size int64, m mbrSector, ss int64) int {
	score := 0
	for _, e := range m.entries {
		start, length, ok := lbaRange(uint64(e.lba), uint64(e.sectors), ss)
		if e.typ == 0 || !ok || start+length > size {
			continue
		}
		if isExtended(e.typ) {
			if b, err := readBlock(r, size, start, 512, "mbr", "EBR"); err == nil && b[510] == 0x55 && b[511] == 0xaa {
				score++
			}
			continue
		}
		if Sniff(io.NewSectionReader(r, start, length), length) != "" {
			score++
		}
	}
	return score
}
