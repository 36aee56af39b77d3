package image

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// The fixed layout of a VHDX file (MS-VHDX 2.2): a 64 KiB file type
// identifier, two 4 KiB headers at 64 and 128 KiB, two copies of the 64
// KiB region table at 192 and 256 KiB, all within the first MiB.
const (
	vhdxMagic        = "vhdxfile"
	vhdxHeaderAt1    = 64 << 10
	vhdxHeaderAt2    = 128 << 10
	vhdxHeaderLen    = 4 << 10
	vhdxRegionAt1    = 192 << 10
	vhdxRegionAt2    = 256 << 10
	vhdxRegionLen    = 64 << 10
	vhdxReserved     = 1 << 20 // the header area: the first MiB
	vhdxAlign        = 1 << 20 // regions and blocks are MiB-aligned
	vhdxMaxEntries   = 2047    // in the region and metadata tables
	vhdxMetaTableLen = 64 << 10
	vhdxMetaItemMin  = 64 << 10  // metadata items start after the table
	vhdxMetaPrefetch = 128 << 10 // the table and the items after it
	vhdxMaxDiskSize  = 64 << 40  // 64 TiB, the format's largest disk
	vhdxMinBlockSize = 1 << 20   // block sizes: powers of two from 1 MiB
	vhdxMaxBlockSize = 256 << 20
	vhdxSectorBits   = 1 << 23  // sectors one sector bitmap block covers
	vhdxMaxLocator   = 64 << 10 // largest parent locator item read
	vhdxMaxLocKeys   = 256      // most parent locator entries scanned
	vhdxMaxPathLen   = 1024     // characters of a parent path shown
	vhdxCRCField     = 4        // offset of the CRC in headers and region tables
)

// Region and metadata item GUIDs (MS-VHDX 2.3, 2.6).
var (
	vhdxBATRegion      = parseGUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
	vhdxMetadataRegion = parseGUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxFileParameters = parseGUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxVirtualSize    = parseGUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxPage83         = parseGUID("BECA12AB-B2E6-4523-93EF-C309E000C746")
	vhdxLogicalSector  = parseGUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	vhdxPhysicalSector = parseGUID("CDA348C7-445D-4471-9CC9-E9885251C556")
	vhdxParentLocator  = parseGUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
)

// A vhdxGUID is a GUID as stored on disk, its first three fields
// little-endian.
type vhdxGUID [16]byte

// parseGUID converts the text form of a GUID to its on-disk bytes.
func parseGUID(s string) vhdxGUID {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("image: bad GUID " + s)
	}
	var g vhdxGUID
	copy(g[:], b)
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5], g[6], g[7] = b[5], b[4], b[7], b[6]
	return g
}

// String prints g in its text form.
func (g vhdxGUID) String() string { return guid(g[:]) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// vhdxChecksumOK checks the CRC-32C of a header or region table, computed
// with its own checksum field (bytes 4-7) taken as zero.
func vhdxChecksumOK(b []byte) bool {
	want := binary.LittleEndian.Uint32(b[vhdxCRCField:])
	c := crc32.Update(0, castagnoli, b[:vhdxCRCField])
	c = crc32.Update(c, castagnoli, make([]byte, 4))
	c = crc32.Update(c, castagnoli, b[vhdxCRCField+4:])
	return c == want
}

// A vhdxHeader is the current one of the file's two headers.
type vhdxHeader struct {
	at        int64 // file offset of the header in use
	seq       uint64
	logGUID   vhdxGUID
	dataWrite vhdxGUID // changes whenever the disk's data does
	logLength uint32
	logOffset uint64
}

// readVHDXHeader reads both headers and returns the valid one with the
// higher sequence number.
func readVHDXHeader(r io.ReaderAt, size int64) (*vhdxHeader, error) {
	var best *vhdxHeader
	var faults []string
	for _, at := range []int64{vhdxHeaderAt1, vhdxHeaderAt2} {
		b, err := readStructure(VHDX, r, size, at, vhdxHeaderLen, "header")
		if err != nil {
			return nil, err
		}
		switch {
		case string(b[:4]) != "head":
			faults = append(faults, fmt.Sprintf("header at 0x%x has no \"head\" signature", at))
			continue
		case !vhdxChecksumOK(b):
			faults = append(faults, fmt.Sprintf("header at 0x%x fails its CRC-32C", at))
			continue
		case binary.LittleEndian.Uint16(b[66:]) != 1:
			faults = append(faults, fmt.Sprintf("header at 0x%x has version %d, not 1", at, binary.LittleEndian.Uint16(b[66:])))
			continue
		}
		h := &vhdxHeader{at: at, seq: binary.LittleEndian.Uint64(b[8:])}
		copy(h.logGUID[:], b[48:64])
		copy(h.dataWrite[:], b[32:48])
		h.logLength = binary.LittleEndian.Uint32(b[68:])
		h.logOffset = binary.LittleEndian.Uint64(b[72:])
		if best == nil || h.seq > best.seq {
			best = h
		}
	}
	if best == nil {
		sentinel := ErrFormat
		if strings.Contains(strings.Join(faults, ""), "CRC") {
			sentinel = ErrChecksum
		}
		return nil, vhdxError(vhdxHeaderAt1, sentinel, "no valid header: %s", strings.Join(faults, "; "))
	}
	return best, nil
}

// A vhdxRegion is an entry of the region table.
type vhdxRegion struct {
	id       vhdxGUID
	offset   int64
	length   int64
	required bool
}

// readVHDXRegions reads the region table, from its second copy when the
// first fails its checksum, and returns the BAT and metadata regions
// and every region's file range. An unknown region marked required is
// refused.
func readVHDXRegions(r io.ReaderAt, size int64) (bat, meta vhdxRegion, ranges []fileRange, err error) {
	var b []byte
	var tableAt int64
	for _, at := range []int64{vhdxRegionAt1, vhdxRegionAt2} {
		if b, err = readStructure(VHDX, r, size, at, vhdxRegionLen, "region table"); err != nil {
			return bat, meta, nil, err
		}
		if string(b[:4]) == "regi" && vhdxChecksumOK(b) {
			tableAt = at
			break
		}
		b = nil
	}
	if b == nil {
		return bat, meta, nil, vhdxError(vhdxRegionAt1, ErrChecksum, "both region tables (at 0x%x and 0x%x) lack their signature or fail their CRC-32C", vhdxRegionAt1, vhdxRegionAt2)
	}
	n := binary.LittleEndian.Uint32(b[8:])
	if n > vhdxMaxEntries {
		return bat, meta, nil, vhdxError(tableAt+8, ErrFormat, "region table claims %d entries (at most %d)", n, vhdxMaxEntries)
	}
	for i := range int64(n) {
		e := b[16+32*i:]
		var reg vhdxRegion
		copy(reg.id[:], e[:16])
		off, length := binary.LittleEndian.Uint64(e[16:]), binary.LittleEndian.Uint32(e[24:])
		reg.offset, reg.length, reg.required = int64(off), int64(length), binary.LittleEndian.Uint32(e[28:])&1 != 0
		where := tableAt + 16 + 32*i
		if off%vhdxAlign != 0 || length%vhdxAlign != 0 || off < vhdxReserved || off >= maxFileOffset || length == 0 {
			return bat, meta, nil, vhdxError(where, ErrFormat, "region %s at 0x%x, 0x%x bytes, is not a non-empty MiB-aligned range after the first MiB", reg.id, off, length)
		}
		switch reg.id {
		case vhdxBATRegion, vhdxMetadataRegion:
			dup := &bat
			if reg.id == vhdxMetadataRegion {
				dup = &meta
			}
			if dup.length != 0 {
				return bat, meta, nil, vhdxError(where, ErrFormat, "region table lists region %s twice", reg.id)
			}
			*dup = reg
		default:
			if reg.required {
				return bat, meta, nil, vhdxError(where, ErrUnsupported, "unknown required region %s", reg.id)
			}
		}
		name := "region " + reg.id.String()
		switch reg.id {
		case vhdxBATRegion:
			name = "BAT region"
		case vhdxMetadataRegion:
			name = "metadata region"
		}
		ranges = append(ranges, fileRange{name, reg.offset, reg.length})
	}
	if bat.length == 0 || meta.length == 0 {
		return bat, meta, nil, vhdxError(tableAt, ErrFormat, "region table lacks the BAT or the metadata region")
	}
	return bat, meta, ranges, nil
}

// vhdxParams are the metadata items a reader needs.
type vhdxParams struct {
	blockSize      int64
	leaveAllocated bool
	hasParent      bool
	diskSize       int64
	logicalSector  int64
	physicalSector int64
	parent         map[string]string // the parent locator's entries
}

// readVHDXMetadata reads the metadata table and its items from the
// region meta, refusing unknown required items.
func readVHDXMetadata(r io.ReaderAt, size int64, meta vhdxRegion) (*vhdxParams, error) {
	table, err := readStructure(VHDX, r, size, meta.offset, vhdxMetaTableLen, "metadata table")
	if err != nil {
		return nil, err
	}
	if string(table[:8]) != "metadata" {
		return nil, vhdxError(meta.offset, ErrFormat, "metadata table at 0x%x has no \"metadata\" signature", meta.offset)
	}
	n := binary.LittleEndian.Uint16(table[10:])
	if n > vhdxMaxEntries {
		return nil, vhdxError(meta.offset+10, ErrFormat, "metadata table claims %d entries (at most %d)", n, vhdxMaxEntries)
	}
	items := map[vhdxGUID][]byte{}
	for i := range int64(n) {
		e := table[32+32*i:]
		var id vhdxGUID
		copy(id[:], e[:16])
		off, length, flags := int64(binary.LittleEndian.Uint32(e[16:])), int64(binary.LittleEndian.Uint32(e[20:])), binary.LittleEndian.Uint32(e[24:])
		where := meta.offset + 32 + 32*i
		known := id == vhdxFileParameters || id == vhdxVirtualSize || id == vhdxPage83 || id == vhdxLogicalSector || id == vhdxPhysicalSector || id == vhdxParentLocator
		if !known {
			if flags&4 != 0 {
				return nil, vhdxError(where, ErrUnsupported, "unknown required metadata item %s", id)
			}
			continue
		}
		if _, dup := items[id]; dup {
			return nil, vhdxError(where, ErrFormat, "metadata item %s listed twice", id)
		}
		if length == 0 || off < vhdxMetaItemMin || off+length > meta.length || (id == vhdxParentLocator && length > vhdxMaxLocator) {
			return nil, vhdxError(where, ErrFormat, "metadata item %s at 0x%x, %d bytes, lies outside the metadata region (0x%x bytes)", id, off, length, meta.length)
		}
		if items[id], err = readStructure(VHDX, r, size, meta.offset+off, length, "metadata item "+id.String()); err != nil {
			return nil, err
		}
	}
	return parseVHDXParams(items, meta.offset)
}

// parseVHDXParams decodes and checks the metadata items.
func parseVHDXParams(items map[vhdxGUID][]byte, at int64) (*vhdxParams, error) {
	need := func(id vhdxGUID, name string, n int) ([]byte, error) {
		b := items[id]
		if len(b) < n {
			return nil, vhdxError(at, ErrFormat, "metadata lacks the %s item (or it is shorter than %d bytes)", name, n)
		}
		return b, nil
	}
	p := &vhdxParams{}
	fp, err := need(vhdxFileParameters, "file parameters", 8)
	if err != nil {
		return nil, err
	}
	p.blockSize = int64(binary.LittleEndian.Uint32(fp))
	flags := binary.LittleEndian.Uint32(fp[4:])
	p.leaveAllocated, p.hasParent = flags&1 != 0, flags&2 != 0
	vs, err := need(vhdxVirtualSize, "virtual disk size", 8)
	if err != nil {
		return nil, err
	}
	diskSize := binary.LittleEndian.Uint64(vs)
	ls, err := need(vhdxLogicalSector, "logical sector size", 4)
	if err != nil {
		return nil, err
	}
	ps, err := need(vhdxPhysicalSector, "physical sector size", 4)
	if err != nil {
		return nil, err
	}
	p.logicalSector, p.physicalSector = int64(binary.LittleEndian.Uint32(ls)), int64(binary.LittleEndian.Uint32(ps))
	switch {
	case p.blockSize < vhdxMinBlockSize || p.blockSize > vhdxMaxBlockSize || p.blockSize&(p.blockSize-1) != 0:
		return nil, vhdxError(at, ErrFormat, "block size %d is not a power of two from 1 MiB to 256 MiB", p.blockSize)
	case p.logicalSector != 512 && p.logicalSector != 4096:
		return nil, vhdxError(at, ErrFormat, "logical sector size %d is neither 512 nor 4096", p.logicalSector)
	case p.physicalSector != 512 && p.physicalSector != 4096:
		return nil, vhdxError(at, ErrFormat, "physical sector size %d is neither 512 nor 4096", p.physicalSector)
	case diskSize > vhdxMaxDiskSize:
		return nil, vhdxError(at, ErrFormat, "virtual disk size %d is over the format's 64 TiB", diskSize)
	case diskSize%uint64(p.logicalSector) != 0:
		return nil, vhdxError(at, ErrFormat, "virtual disk size %d is not a multiple of the %d-byte logical sector", diskSize, p.logicalSector)
	}
	p.diskSize = int64(diskSize)
	if p.hasParent {
		p.parent = parseVHDXLocator(items[vhdxParentLocator])
	}
	return p, nil
}

// parseVHDXLocator decodes the key-value entries of a parent locator
// item (MS-VHDX 2.6.2.6): parent_linkage, relative_path, volume_path,
// absolute_win32_path. Malformed entries are skipped; values are cut to
// vhdxMaxPathLen characters.
func parseVHDXLocator(loc []byte) map[string]string {
	values := map[string]string{}
	if len(loc) < 20 {
		return values
	}
	n := min(int(binary.LittleEndian.Uint16(loc[18:])), vhdxMaxLocKeys, (len(loc)-20)/12)
	str := func(off uint32, length uint16) string {
		if uint64(off)+uint64(length) > uint64(len(loc)) || length%2 != 0 {
			return ""
		}
		b := loc[off : off+uint32(length)]
		u := make([]uint16, min(len(b)/2, vhdxMaxPathLen))
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u))
	}
	for i := range n {
		e := loc[20+12*i:]
		key := str(binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint16(e[8:]))
		values[key] = str(binary.LittleEndian.Uint32(e[4:]), binary.LittleEndian.Uint16(e[10:]))
	}
	return values
}

// vhdxParentName is the parent's path for messages: the relative path,
// else the absolute or volume path, else a note that there is none.
func vhdxParentName(loc map[string]string) string {
	for _, k := range []string{"relative_path", "absolute_win32_path", "volume_path"} {
		if v := loc[k]; v != "" {
			return v
		}
	}
	return "(no path in its parent locator)"
}

// vhdxError is a FormatError about a VHDX file.
func vhdxError(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: string(VHDX), Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// isZero reports whether g is all zeros.
func (g vhdxGUID) isZero() bool { return g == vhdxGUID{} }
