package image

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
)

func init() {
	registerFormat(containerFormat{
		Format: VHD,
		Match: func(head []byte, r io.ReaderAt, size int64) bool {
			if len(head) >= len(vhdCookie) && string(head[:len(vhdCookie)]) == vhdCookie {
				return true
			}
			_, ok := fixedVHDFooter(r, size)
			return ok
		},
		Open: openVHD,
	})
}

// The VHD layout (Virtual Hard Disk Image Format Specification, 2006): a
// 512-byte big-endian footer at the end of the file, copied to offset 0
// in a dynamic disk, which also has a 1024-byte dynamic header and a BAT
// of 32-bit sector numbers; each block is a sector bitmap followed by the
// block's data.
const (
	vhdCookie        = "conectix"
	vhdSparseCookie  = "cxsparse"
	vhdFooterLen     = 512
	vhdDynHeaderLen  = 1024
	vhdFixed         = 2
	vhdDynamic       = 3
	vhdDifferencing  = 4
	vhdUnallocated   = 0xFFFFFFFF
	vhdSector        = 512
	vhdMaxBlockSize  = 1 << 30
	vhdParentNameLen = 512 // UTF-16BE parent name in the dynamic header
)

// A vhdFooter is the decoded hard disk footer.
type vhdFooter struct {
	at          int64  // where it was read
	dataOffset  uint64 // the dynamic header, for a dynamic disk
	currentSize uint64
	diskType    uint32
}

// vhdChecksumOK checks the ones' complement of the byte sum of b, the
// checksum field at field taken as zero.
func vhdChecksumOK(b []byte, field int) bool {
	var sum uint32
	for i, c := range b {
		if i < field || i >= field+4 {
			sum += uint32(c)
		}
	}
	return ^sum == binary.BigEndian.Uint32(b[field:])
}

// readVHDFooter reads the footer at off, which must have the cookie and
// a good checksum.
func readVHDFooter(r io.ReaderAt, size, off int64) (*vhdFooter, error) {
	b, err := readStructure(VHD, r, size, off, vhdFooterLen, "footer")
	if err != nil {
		return nil, err
	}
	if string(b[:8]) != vhdCookie {
		return nil, vhdError(off, ErrFormat, "no %q footer at 0x%x", vhdCookie, off)
	}
	if !vhdChecksumOK(b, 64) {
		return nil, vhdError(off+64, ErrChecksum, "footer at 0x%x fails its checksum", off)
	}
	return &vhdFooter{
		at:          off,
		dataOffset:  binary.BigEndian.Uint64(b[16:]),
		currentSize: binary.BigEndian.Uint64(b[48:]),
		diskType:    binary.BigEndian.Uint32(b[60:]),
	}, nil
}

// fixedVHDFooter returns the footer of a fixed VHD: a valid footer at the
// end of the file, of type fixed, whose disk (whole sectors) fills the
// rest of the file exactly. Anything less leaves the file raw, so that a raw disk ending
// in stray "conectix" bytes is not taken for a VHD.
func fixedVHDFooter(r io.ReaderAt, size int64) (*vhdFooter, bool) {
	if r == nil || size < vhdFooterLen {
		return nil, false
	}
	f, err := readVHDFooter(r, size, size-vhdFooterLen)
	if err != nil || f.diskType != vhdFixed || f.currentSize != uint64(size-vhdFooterLen) || f.currentSize%vhdSector != 0 {
		return nil, false
	}
	return f, true
}

// openVHD opens a fixed or dynamic VHD; differencing disks are refused.
// The virtual size is the footer's current size in whole sectors, as
// Hyper-V and the specification read it. qemu-img reads the CHS geometry
// instead for files from Virtual PC, a shorter disk when the two differ
// (TestVHDSizeFromFooter); for the files qemu-img writes they agree.
func openVHD(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	layer := Layer{Format: VHD, Path: src.Name, FileSize: size}
	if f, ok := fixedVHDFooter(r, size); ok {
		layer.Subformat, layer.Detail = "fixed", "fixed"
		return &container{
			Disk:       io.NewSectionReader(r, 0, int64(f.currentSize)),
			Size:       int64(f.currentSize),
			Layers:     []Layer{layer, {Format: Raw, FileSize: -1}},
			Allocated:  size,
			Referenced: size,
		}, nil
	}
	// A dynamic disk's footer copy at 0 survives a cut file; the footer
	// at the end is the one a writer updates last.
	f, err := readVHDFooter(r, size, 0)
	if err != nil {
		var errTail error
		if f, errTail = readVHDFooter(r, size, size-vhdFooterLen); errTail != nil {
			if !errors.Is(err, ErrChecksum) && size > vhdFooterLen {
				err = errTail
			}
			return nil, err
		}
	}
	switch f.diskType {
	case vhdDynamic, vhdDifferencing:
	case vhdFixed:
		return nil, vhdError(f.at+48, ErrFormat, "fixed disk of %d bytes does not fill the file (%d bytes with its footer)", f.currentSize, size)
	default:
		return nil, vhdError(f.at+60, ErrUnsupported, "disk type %d is not fixed (2), dynamic (3) or differencing (4)", f.diskType)
	}
	return openDynamicVHD(r, size, f, layer, o.limits.VHDBATEntries)
}

// openDynamicVHD reads the dynamic header and the BAT a footer f points
// at; the BAT stays in memory (at most limit entries).
func openDynamicVHD(r io.ReaderAt, size int64, f *vhdFooter, layer Layer, limit int) (*container, error) {
	if f.dataOffset >= maxFileOffset {
		return nil, vhdError(f.at+16, ErrFormat, "dynamic header offset 0x%x is beyond any file", f.dataOffset)
	}
	hAt := int64(f.dataOffset)
	h, err := readStructure(VHD, r, size, hAt, vhdDynHeaderLen, "dynamic header")
	if err != nil {
		return nil, err
	}
	if string(h[:8]) != vhdSparseCookie {
		return nil, vhdError(hAt, ErrFormat, "dynamic header at 0x%x has no %q cookie", hAt, vhdSparseCookie)
	}
	if !vhdChecksumOK(h, 36) {
		return nil, vhdError(hAt+36, ErrChecksum, "dynamic header at 0x%x fails its checksum", hAt)
	}
	if f.diskType == vhdDifferencing {
		return nil, vhdError(hAt+64, ErrUnsupported, "differencing disk with parent %q: reading through a parent is not supported; merge it into its parent first (qemu-img convert -O vpc)", vhdParentName(h[64:64+vhdParentNameLen]))
	}
	tableAt, entries, block := binary.BigEndian.Uint64(h[16:]), int64(binary.BigEndian.Uint32(h[28:])), int64(binary.BigEndian.Uint32(h[32:]))
	diskSize := int64(f.currentSize/vhdSector) * vhdSector
	switch {
	case block < vhdSector || block > vhdMaxBlockSize || block&(block-1) != 0:
		return nil, vhdError(hAt+32, ErrFormat, "block size %d is not a power of two from 512 bytes to 1 GiB", block)
	case tableAt >= maxFileOffset:
		return nil, vhdError(hAt+16, ErrFormat, "BAT offset 0x%x is beyond any file", tableAt)
	case f.currentSize >= maxFileOffset:
		return nil, vhdError(f.at+48, ErrFormat, "current size %d is beyond any disk", f.currentSize)
	}
	blocks := (diskSize + block - 1) / block
	if blocks > entries {
		return nil, vhdError(hAt+28, ErrFormat, "BAT of %d entries is too small for a %d-byte disk in %d-byte blocks (%d blocks)", entries, diskSize, block, blocks)
	}
	if blocks > int64(limit) {
		return nil, vhdError(hAt+28, ErrUnsupported, "BAT of %d entries is over %d (the vhd-bat limit)", blocks, limit)
	}
	raw, err := readStructure(VHD, r, size, int64(tableAt), blocks*4, "BAT")
	if err != nil {
		return nil, err
	}
	bitmap := (block/vhdSector/8 + vhdSector - 1) / vhdSector * vhdSector
	m := &blockMap{format: VHD, r: r, size: diskSize, block: block, offsets: make([]int64, blocks)}
	for k := range blocks {
		s := binary.BigEndian.Uint32(raw[4*k:])
		if s == vhdUnallocated {
			m.offsets[k] = noBlock
			continue
		}
		m.offsets[k] = int64(s)*vhdSector + bitmap
	}
	referenced, err := m.check([]fileRange{
		{"footer copy", 0, vhdFooterLen},
		{"dynamic header", hAt, vhdDynHeaderLen},
		{"BAT", int64(tableAt), (entries*4 + vhdSector - 1) / vhdSector * vhdSector},
	}, bitmap)
	if err != nil {
		return nil, err
	}
	layer.Subformat = "dynamic"
	layer.Detail = "dynamic, block " + clusterSizeString(block)
	return &container{
		Disk:       m,
		Size:       diskSize,
		Layers:     []Layer{layer, {Format: Raw, FileSize: -1}},
		Allocated:  size,
		Referenced: referenced,
	}, nil
}

// vhdParentName decodes the NUL-padded UTF-16BE parent name.
func vhdParentName(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.BigEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// vhdError is a FormatError about a VHD file.
func vhdError(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: string(VHD), Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}
