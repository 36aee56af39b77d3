package image

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// The on-disk structures of an LVM2 physical volume (lvm2's
// lib/label/label.h and lib/format_text/layout.h): a 32-byte label header
// in one of the first four sectors, the PV header after it with the lists
// of data and metadata areas, and at the start of each metadata area a
// 512-byte header whose raw locations point at the text metadata inside
// the area, a circular buffer.
const (
	lvmLabelID      = "LABELONE"
	lvmLabelType    = "LVM2 001"
	lvmLabelSectors = 4
	lvmMDAMagic     = " LVM2 x[5A%r0N*>"
	lvmMDAHeader    = 512
	lvmInitialCRC   = 0xf597a6cf
	lvmUUIDLen      = 32
	// lvmMaxAreas bounds each disk_locn list: a PV header fits in its
	// sector after the label, so no list can be longer.
	lvmMaxAreas = 512 / 16
	// rawLocnIgnored marks a metadata area lvm2 keeps but ignores
	// (pvchange --metadataignore).
	rawLocnIgnored = 1
)

// lvmCRC is lvm2's calc_crc: the reflected CRC-32 (IEEE polynomial)
// update started from initial and without the final inversion, so a
// running value carries across pieces of a buffer.
func lvmCRC(initial uint32, b []byte) uint32 {
	return ^crc32.Update(^initial, crc32.IEEETable, b)
}

// A pvLabel is a decoded label and PV header: the PV's UUID and its
// metadata areas. (The data area and device size it also holds are
// taken from the VG metadata, which lvm2 keeps authoritative.)
type pvLabel struct {
	uuid string // 32 characters, no dashes
	mdas []diskArea
}

// A diskArea is one disk_locn: an offset and size in bytes from the start
// of the PV (size 0 for a data area means "to the end").
type diskArea struct{ offset, size uint64 }

// findPVLabel looks for an LVM2 label in the first four sectors of r (a
// partition or disk of size bytes). It returns nil, nil when there is
// none, and an error wrapping ErrChecksum or ErrFormat when a label is
// there but damaged.
func findPVLabel(r io.ReaderAt, size int64, name string) (*pvLabel, error) {
	n := min(size, lvmLabelSectors*512) &^ 511
	if n == 0 {
		return nil, nil
	}
	b, err := readBlock(r, size, 0, n, "lvm", name+": label sectors")
	if err != nil {
		return nil, err
	}
	for s := int64(0); s < n/512; s++ {
		sec := b[s*512 : (s+1)*512]
		if string(sec[:8]) != lvmLabelID {
			continue
		}
		return parsePVLabel(sec, s, name)
	}
	return nil, nil
}

// parsePVLabel decodes the label sector sec, found at sector s.
func parsePVLabel(sec []byte, s int64, name string) (*pvLabel, error) {
	off := s * 512
	bad := func(sentinel error, format string, args ...any) error {
		return &FormatError{Format: "lvm", Offset: off, Reason: fmt.Sprintf("%s: LVM2 label at sector %d: %s", name, s, fmt.Sprintf(format, args...)), Err: sentinel}
	}
	if at := binary.LittleEndian.Uint64(sec[8:]); at != uint64(s) {
		return nil, bad(ErrFormat, "claims to be at sector %d", at)
	}
	if want, got := binary.LittleEndian.Uint32(sec[16:]), lvmCRC(lvmInitialCRC, sec[20:]); want != got {
		return nil, bad(ErrChecksum, "CRC 0x%08x, computed 0x%08x", want, got)
	}
	if t := string(sec[24:32]); t != lvmLabelType {
		return nil, bad(ErrUnsupported, "label type %q (only %q is read)", strings.TrimRight(t, "\x00"), lvmLabelType)
	}
	hdr := int(binary.LittleEndian.Uint32(sec[20:]))
	// The PV header: UUID, device size, then two zero-terminated
	// disk_locn lists.
	if hdr < 32 || hdr > 512-lvmUUIDLen-8-32 {
		return nil, bad(ErrFormat, "PV header offset %d outside the sector", hdr)
	}
	l := &pvLabel{uuid: string(sec[hdr : hdr+lvmUUIDLen])}
	if !validUUIDChars(l.uuid) {
		return nil, bad(ErrFormat, "PV UUID %q has characters outside [0-9A-Za-z]", l.uuid)
	}
	p := hdr + lvmUUIDLen + 8
	var lists [2][]diskArea
	for i := range lists {
		for {
			if p+16 > len(sec) || len(lists[i]) > lvmMaxAreas {
				return nil, bad(ErrFormat, "PV header area lists run past the sector")
			}
			a := diskArea{binary.LittleEndian.Uint64(sec[p:]), binary.LittleEndian.Uint64(sec[p+8:])}
			p += 16
			if a.offset == 0 {
				break
			}
			lists[i] = append(lists[i], a)
		}
	}
	if len(lists[0]) == 0 {
		return nil, bad(ErrFormat, "no data area")
	}
	l.mdas = lists[1]
	return l, nil
}

// validUUIDChars reports whether s holds only the characters lvm2 puts in
// its UUIDs.
func validUUIDChars(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// readMetadataText reads the committed text metadata of the metadata area
// a of a PV of size bytes: the area header (magic, version, CRC), its
// first raw location, and the text it points at, which may wrap from the
// end of the area back to just after the header; the text's CRC is
// checked. It returns nil, nil when the area holds no metadata (an orphan
// PV, or an ignored area). maxText bounds the text.
func readMetadataText(r io.ReaderAt, size int64, a diskArea, maxText int64, name string) ([]byte, error) {
	bad := func(off int64, sentinel error, format string, args ...any) error {
		return &FormatError{Format: "lvm", Offset: off, Reason: fmt.Sprintf("%s: metadata area at 0x%x: %s", name, a.offset, fmt.Sprintf(format, args...)), Err: sentinel}
	}
	if a.offset > uint64(size) || a.size > uint64(size)-a.offset || a.size < 2*lvmMDAHeader {
		return nil, bad(int64(min(a.offset, uint64(size))), ErrTruncated, "0x%x bytes do not fit in the PV (size 0x%x)", a.size, size)
	}
	start, areaSize := int64(a.offset), int64(a.size)
	h, err := readBlock(r, size, start, lvmMDAHeader, "lvm", name+": metadata area header")
	if err != nil {
		return nil, err
	}
	if string(h[4:20]) != lvmMDAMagic {
		return nil, bad(start, ErrFormat, "bad magic %q", h[4:20])
	}
	if want, got := binary.LittleEndian.Uint32(h), lvmCRC(lvmInitialCRC, h[4:]); want != got {
		return nil, bad(start, ErrChecksum, "header CRC 0x%08x, computed 0x%08x", want, got)
	}
	if v := binary.LittleEndian.Uint32(h[20:]); v != 1 {
		return nil, bad(start, ErrUnsupported, "metadata format version %d (only 1 is read)", v)
	}
	if s := binary.LittleEndian.Uint64(h[24:]); s != a.offset {
		return nil, bad(start, ErrFormat, "header names its start 0x%x", s)
	}
	if s := binary.LittleEndian.Uint64(h[32:]); s != a.size {
		return nil, bad(start, ErrFormat, "header names its size 0x%x, the PV header 0x%x", s, a.size)
	}
	// The first raw location is the committed metadata.
	off, n := binary.LittleEndian.Uint64(h[40:]), binary.LittleEndian.Uint64(h[48:])
	sum, flags := binary.LittleEndian.Uint32(h[56:]), binary.LittleEndian.Uint32(h[60:])
	if off == 0 || flags&rawLocnIgnored != 0 {
		return nil, nil
	}
	ring := uint64(areaSize - lvmMDAHeader)
	switch {
	case off < lvmMDAHeader || off >= uint64(areaSize):
		return nil, bad(start, ErrFormat, "metadata text at offset 0x%x outside the area (0x%x bytes)", off, areaSize)
	case n == 0 || n > ring:
		return nil, bad(start, ErrFormat, "metadata text of 0x%x bytes in an area of 0x%x", n, areaSize)
	case int64(n) > maxText:
		return nil, bad(start, ErrUnsupported, "metadata text of %d bytes is over the limit of %d", n, maxText)
	}
	first := min(n, uint64(areaSize)-off)
	text := make([]byte, n)
	if _, err := r.ReadAt(text[:first], start+int64(off)); err != nil {
		return nil, bad(start+int64(off), ErrTruncated, "reading metadata text: %v", err)
	}
	if first < n { // wrapped to just after the header
		if _, err := r.ReadAt(text[first:], start+lvmMDAHeader); err != nil {
			return nil, bad(start+lvmMDAHeader, ErrTruncated, "reading wrapped metadata text: %v", err)
		}
	}
	if got := lvmCRC(lvmInitialCRC, text); got != sum {
		return nil, bad(start+int64(off), ErrChecksum, "metadata text CRC 0x%08x, computed 0x%08x", sum, got)
	}
	return text, nil
}
