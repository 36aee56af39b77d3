package image

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// The hosted sparse extent header (VMware's SparseExtentHeader, little
// endian): a 512-byte sector at the start of the file, or for a
// streamOptimized file whose grain directory follows its grains, also in
// the footer, the second of the file's last three sectors.
const (
	vmdkMagic     = "KDMV"
	vmdkCOWDMagic = "COWD" // ESX vmfsSparse, refused
	vmdkSector    = 512

	vmdkFlagRGD       = 1 << 1  // a redundant grain directory is kept
	vmdkFlagZeroGrain = 1 << 2  // grain table entry 1 means a zero grain
	vmdkFlagMarkers   = 1 << 17 // grains and tables follow markers

	vmdkGDAtEnd        = ^uint64(0) // gdOffset: read the footer instead
	vmdkDeflate        = 1          // compressAlgorithm; the header's compressed-grains flag is not consulted, as by qemu
	vmdkMaxGrainBytes  = 2 << 20
	vmdkMaxGTEntries   = 512
	vmdkMarkerEOS      = 0
	vmdkMarkerFooter   = 3
	vmdkMaxDescriptor  = 1 << 20 // bytes of descriptor text read, embedded or not
	vmdkGrainMarkerLen = 12      // lba (8 bytes) and size (4 bytes) before a compressed grain
)

// A vmdkHeader is the decoded header of a hosted sparse extent. Offsets
// and sizes are in sectors, as stored.
type vmdkHeader struct {
	version      uint32
	flags        uint32
	capacity     uint64
	grainSectors uint64
	descOffset   uint64
	descSectors  uint64
	gtEntries    uint32
	rgdOffset    uint64
	gdOffset     uint64
	overhead     uint64
	compression  uint16
	footer       bool // read from the footer at the end of the file
}

func decodeVMDKHeader(b []byte) vmdkHeader {
	le32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	le64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	return vmdkHeader{
		version:      le32(4),
		flags:        le32(8),
		capacity:     le64(12),
		grainSectors: le64(20),
		descOffset:   le64(28),
		descSectors:  le64(36),
		gtEntries:    le32(44),
		rgdOffset:    le64(48),
		gdOffset:     le64(56),
		overhead:     le64(64),
		compression:  binary.LittleEndian.Uint16(b[77:]),
	}
}

// vmdkError is a FormatError about a VMDK file.
func vmdkError(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: string(VMDK), Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// readVMDKHeader reads and validates the header of the sparse extent r,
// size bytes, taking it from the footer when the header's grain directory
// is at the end of the file. name is "" for the image file itself, or the
// extent file's name for errors.
func readVMDKHeader(r io.ReaderAt, size int64, name string, l Limits) (vmdkHeader, error) {
	in := vmdkIn(name)
	if size < vmdkSector {
		return vmdkHeader{}, vmdkError(0, ErrTruncated, "sparse extent%s of %d bytes is shorter than its 512-byte header", in, size)
	}
	b := make([]byte, vmdkSector)
	if err := vmdkReadFull(r, b, 0, size, "header"+in); err != nil {
		return vmdkHeader{}, err
	}
	if string(b[:4]) != vmdkMagic {
		return vmdkHeader{}, vmdkError(0, ErrFormat, "sparse extent%s does not start with %q", in, vmdkMagic)
	}
	h := decodeVMDKHeader(b)
	if h.gdOffset == vmdkGDAtEnd {
		var err error
		if h, err = readVMDKFooter(r, size, in); err != nil {
			return vmdkHeader{}, err
		}
	}
	return h, h.validate(size, in, l)
}

// readVMDKFooter reads the header copy in the footer of a streamOptimized
// file: a footer marker, the header, an end-of-stream marker.
func readVMDKFooter(r io.ReaderAt, size int64, in string) (vmdkHeader, error) {
	const footerLen = 3 * vmdkSector
	if size < vmdkSector+footerLen {
		return vmdkHeader{}, vmdkError(0, ErrTruncated, "header%s puts the grain directory in a footer, but the file of %d bytes has no room for one", in, size)
	}
	at := size - footerLen
	b := make([]byte, footerLen)
	if err := vmdkReadFull(r, b, at, size, "footer"+in); err != nil {
		return vmdkHeader{}, err
	}
	marker, hdr, eos := b[:vmdkSector], b[vmdkSector:2*vmdkSector], b[2*vmdkSector:]
	switch {
	case binary.LittleEndian.Uint32(marker[8:]) != 0 || binary.LittleEndian.Uint32(marker[12:]) != vmdkMarkerFooter:
		return vmdkHeader{}, vmdkError(at, ErrTruncated, "no footer marker at 0x%x%s, 1536 bytes before the end, where the header's grain directory offset (GD_AT_END) says the footer is: the file is cut short or corrupt", at, in)
	case string(hdr[:4]) != vmdkMagic:
		return vmdkHeader{}, vmdkError(at+vmdkSector, ErrFormat, "footer header at 0x%x%s does not start with %q", at+vmdkSector, in, vmdkMagic)
	case binary.LittleEndian.Uint64(eos) != 0 || binary.LittleEndian.Uint32(eos[8:]) != 0 || binary.LittleEndian.Uint32(eos[12:]) != vmdkMarkerEOS:
		return vmdkHeader{}, vmdkError(at+2*vmdkSector, ErrFormat, "no end-of-stream marker in the last sector%s", in)
	}
	h := decodeVMDKHeader(hdr)
	if h.gdOffset == vmdkGDAtEnd {
		return vmdkHeader{}, vmdkError(at+vmdkSector+56, ErrFormat, "footer header%s also says its grain directory is in the footer", in)
	}
	h.footer = true
	return h, nil
}

// validate checks the header's fields against each other and against the
// size of the file, before any table is read.
func (h vmdkHeader) validate(size int64, in string, l Limits) error {
	hdrAt := int64(0)
	if h.footer {
		hdrAt = size - 2*vmdkSector
	}
	field := func(off int64) int64 { return hdrAt + off }
	switch {
	case h.version < 1 || h.version > 3:
		return vmdkError(field(4), ErrUnsupported, "sparse extent%s has version %d; versions 1 to 3 are read", in, h.version)
	case h.compression > vmdkDeflate:
		return vmdkError(field(77), ErrUnsupported, "sparse extent%s uses compression algorithm %d; only deflate (1) is read", in, h.compression)
	case h.compressed() && h.flags&vmdkFlagMarkers == 0:
		return vmdkError(field(8), ErrUnsupported, "sparse extent%s has compressed grains without grain markers", in)
	case h.capacity == 0:
		return vmdkError(field(12), ErrUnsupported, "sparse extent%s has capacity 0 (a descriptor in a sparse header is not read)", in)
	case h.capacity > uint64(math.MaxInt64)/vmdkSector:
		return vmdkError(field(12), ErrFormat, "sparse extent%s claims a capacity of %d sectors, more than 2^63 bytes", in, h.capacity)
	case h.grainSectors == 0 || h.grainSectors&(h.grainSectors-1) != 0:
		return vmdkError(field(20), ErrFormat, "sparse extent%s has a grain of %d sectors, not a power of two", in, h.grainSectors)
	case h.grainSectors > vmdkMaxGrainBytes/vmdkSector:
		return vmdkError(field(20), ErrUnsupported, "sparse extent%s has a grain of %d sectors; grains up to %s are read", in, h.grainSectors, clusterSizeString(vmdkMaxGrainBytes))
	case h.gtEntries == 0 || h.gtEntries > vmdkMaxGTEntries:
		return vmdkError(field(44), ErrFormat, "sparse extent%s has %d entries per grain table; 1 to 512 are valid", in, h.gtEntries)
	case h.overhead > uint64(size)/vmdkSector:
		return vmdkError(field(64), ErrTruncated, "sparse extent%s has %d sectors of metadata (overHead) but the file holds only %d bytes", in, h.overhead, size)
	}
	if h.descSectors > 0 && (h.descOffset > uint64(size) || h.descSectors > uint64(size) || !fitsIn(h.descOffset*vmdkSector, h.descSectors*vmdkSector, size)) {
		return vmdkError(field(28), ErrTruncated, "embedded descriptor%s at sector %d (%d sectors) runs past end of file (size 0x%x)", in, h.descOffset, h.descSectors, size)
	}
	gdBytes := h.gdEntries() * 4
	if gdBytes > uint64(l.VMDKGrainDirBytes) {
		return vmdkError(field(56), ErrUnsupported, "grain directory%s of %d entries is more than imgcheck reads (the vmdk-grain-dir limit is %d bytes)", in, h.gdEntries(), l.VMDKGrainDirBytes)
	}
	if h.gdOffset > uint64(size) || !fitsIn(h.gdOffset*vmdkSector, gdBytes, size) {
		return vmdkError(field(56), ErrTruncated, "grain directory%s at sector %d (%d bytes) runs past end of file (size 0x%x)", in, h.gdOffset, gdBytes, size)
	}
	if h.flags&vmdkFlagRGD != 0 && (h.rgdOffset > uint64(size) || !fitsIn(h.rgdOffset*vmdkSector, gdBytes, size)) {
		return vmdkError(field(48), ErrTruncated, "redundant grain directory%s at sector %d (%d bytes) runs past end of file (size 0x%x)", in, h.rgdOffset, gdBytes, size)
	}
	return nil
}

func (h vmdkHeader) compressed() bool   { return h.compression == vmdkDeflate }
func (h vmdkHeader) grainBytes() int64  { return int64(h.grainSectors) * vmdkSector }
func (h vmdkHeader) gtBytes() int64     { return int64(h.gtEntries) * 4 }
func (h vmdkHeader) gtSpan() uint64     { return uint64(h.gtEntries) * h.grainSectors }
func (h vmdkHeader) gdEntries() uint64  { return (h.capacity + h.gtSpan() - 1) / h.gtSpan() }
func (h vmdkHeader) zeroGrains() bool   { return h.flags&vmdkFlagZeroGrain != 0 }
func (h vmdkHeader) virtualSize() int64 { return int64(h.capacity) * vmdkSector }

// subformat is the variant the header alone implies.
func (h vmdkHeader) subformat() string {
	if h.compressed() {
		return "streamOptimized"
	}
	return "monolithicSparse"
}

// vmdkIn names an extent file in an error, ` in "name"`, or nothing for
// the image file itself.
func vmdkIn(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" in %q", vmdkQuote(name))
}

// vmdkReadFull fills b from r at off, a FormatError wrapping ErrTruncated
// if the file of size bytes ends first.
func vmdkReadFull(r io.ReaderAt, b []byte, off, size int64, what string) error {
	if off < 0 || !fitsIn(uint64(off), uint64(len(b)), size) {
		return vmdkError(off, ErrTruncated, "%s at 0x%x (0x%x bytes) runs past end of file (size 0x%x)", what, off, len(b), size)
	}
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return vmdkError(off+int64(n), ErrTruncated, "%s at 0x%x: file ends after 0x%x bytes", what, off, n)
	}
	return err
}
