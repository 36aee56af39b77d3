package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

func init() {
	registerFormat(containerFormat{Format: VDI, Match: matchVDI, Open: openVDI})
}

// The VirtualBox disk image: a 512-byte header (a text preheader, the
// signature, version 1.1 fields), a block map of little-endian uint32
// entries, and the data blocks the map points at.
const (
	vdiSignature      = 0xbeda107f
	vdiVersion11      = 0x00010001
	vdiHeaderLen      = 512
	vdiHeaderFields   = 0x48  // where the header proper starts
	vdiMinHeaderSize  = 0x180 // cbHeader of a version 1.1 header without LCHS geometry
	vdiTypeDynamic    = 1
	vdiTypeStatic     = 2
	vdiTypeUndo       = 3
	vdiTypeDiff       = 4
	vdiBlockFree      = 0xffffffff
	vdiBlockZero      = 0xfffffffe
	vdiMaxBlockSize   = 64 << 20
	vdiSectorSize     = 512
	vdiLinkageUUIDOff = 0x1a8
)

// matchVDI reports the preheader text and the signature.
func matchVDI(head []byte, _ io.ReaderAt, _ int64) bool {
	return bytes.HasPrefix(head, []byte("<<< ")) && len(head) >= 0x44 && binary.LittleEndian.Uint32(head[0x40:]) == vdiSignature
}

// A vdiHeader holds the fields of a VDI header that reading needs.
type vdiHeader struct {
	version, headerSize, imageType uint32
	blockMapAt, dataAt             uint32
	sectorSize                     uint32
	diskSize                       uint64
	blockSize, blockExtra          uint32
	blocks, allocated              uint32
	linked                         bool // a parent (linkage UUID) is named
}

func decodeVDIHeader(b []byte) vdiHeader {
	le32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	return vdiHeader{
		version:    le32(0x44),
		headerSize: le32(0x48),
		imageType:  le32(0x4c),
		blockMapAt: le32(0x154),
		dataAt:     le32(0x158),
		sectorSize: le32(0x168),
		diskSize:   binary.LittleEndian.Uint64(b[0x170:]),
		blockSize:  le32(0x178),
		blockExtra: le32(0x17c),
		blocks:     le32(0x180),
		allocated:  le32(0x184),
		linked:     !bytes.Equal(b[vdiLinkageUUIDOff:vdiLinkageUUIDOff+16], make([]byte, 16)),
	}
}

// vdiError is a FormatError about a VDI file.
func vdiError(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: string(VDI), Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// validate checks the header against itself, the file's size and l,
// before the block map is read.
func (h vdiHeader) validate(size int64, l Limits) error {
	switch {
	case h.version != vdiVersion11:
		return vdiError(0x44, ErrUnsupported, "version %d.%d; only version 1.1 is read", h.version>>16, h.version&0xffff)
	case h.headerSize < vdiMinHeaderSize || h.headerSize > vdiHeaderLen-vdiHeaderFields:
		return vdiError(0x48, ErrFormat, "header size %d; %d to %d are valid", h.headerSize, vdiMinHeaderSize, vdiHeaderLen-vdiHeaderFields)
	case h.imageType == vdiTypeUndo || h.imageType == vdiTypeDiff || h.linked:
		return vdiError(0x4c, ErrUnsupported, "differencing image (type %d) is not read; merge it into its parent first", h.imageType)
	case h.imageType != vdiTypeDynamic && h.imageType != vdiTypeStatic:
		return vdiError(0x4c, ErrFormat, "unknown image type %d", h.imageType)
	case h.sectorSize != vdiSectorSize:
		return vdiError(0x168, ErrUnsupported, "sector size %d; only 512 is read", h.sectorSize)
	case h.blockSize < vdiSectorSize || h.blockSize > vdiMaxBlockSize || h.blockSize&(h.blockSize-1) != 0:
		return vdiError(0x178, ErrUnsupported, "block size %d; powers of two from 512 bytes to 64 MiB are read", h.blockSize)
	case h.blockExtra != 0:
		return vdiError(0x17c, ErrUnsupported, "%d bytes of extra data per block are not read", h.blockExtra)
	case h.diskSize > math.MaxInt64 || h.diskSize > uint64(h.blocks)*uint64(h.blockSize):
		return vdiError(0x170, ErrFormat, "disk of %d bytes does not fit in its %d blocks of %d bytes", h.diskSize, h.blocks, h.blockSize)
	case h.allocated > h.blocks:
		return vdiError(0x184, ErrFormat, "%d blocks allocated of %d", h.allocated, h.blocks)
	case int64(h.blocks)*4 > l.VDIBlockMapBytes:
		return vdiError(0x180, ErrUnsupported, "block map of %d entries is more than imgcheck reads (the vdi-block-map limit is %d bytes)", h.blocks, l.VDIBlockMapBytes)
	case h.blockMapAt < vdiHeaderFields+h.headerSize:
		return vdiError(0x154, ErrFormat, "block map at 0x%x overlaps the header", h.blockMapAt)
	case !fitsIn(uint64(h.blockMapAt), uint64(h.blocks)*4, size):
		return vdiError(0x154, ErrTruncated, "block map at 0x%x (%d entries) runs past end of file (size 0x%x)", h.blockMapAt, h.blocks, size)
	case uint64(h.dataAt) < uint64(h.blockMapAt)+uint64(h.blocks)*4:
		return vdiError(0x158, ErrFormat, "data at 0x%x overlaps the block map at 0x%x (%d entries)", h.dataAt, h.blockMapAt, h.blocks)
	}
	return nil
}

func (h vdiHeader) subformat() string {
	if h.imageType == vdiTypeStatic {
		return "static"
	}
	return "dynamic"
}

// openVDI opens the VDI r, size bytes: it validates the header, reads the
// whole block map and checks that each allocated block is used once and
// lies inside the file. Differencing images are refused.
func openVDI(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	// top counts the reads of r for Stats; the opener closes r.
	top := &readCounter{r: r}
	b := make([]byte, vdiHeaderLen)
	if size < vdiHeaderLen {
		return nil, vdiError(0, ErrTruncated, "file of %d bytes is shorter than the 512-byte header", size)
	}
	if n, err := top.ReadAt(b, 0); n < len(b) {
		return nil, vdiError(int64(n), ErrTruncated, "header: %v", err)
	}
	if !matchVDI(b, nil, 0) {
		return nil, vdiError(0x40, ErrFormat, "no VDI signature")
	}
	h := decodeVDIHeader(b)
	if err := h.validate(size, o.limits); err != nil {
		return nil, err
	}
	dataAt, block := int64(h.dataAt), int64(h.blockSize)
	raw := make([]byte, int64(h.blocks)*4)
	if n, err := top.ReadAt(raw, int64(h.blockMapAt)); n < len(raw) {
		return nil, vdiError(int64(h.blockMapAt)+int64(n), ErrTruncated, "block map: %v", err)
	}
	m := &blockMap{format: VDI, r: top, size: int64(h.diskSize), block: block, offsets: make([]int64, h.blocks)}
	used := make([]bool, h.allocated)
	referenced := int64(h.blockMapAt) + int64(len(raw))
	for i := range m.offsets {
		e := binary.LittleEndian.Uint32(raw[4*i:])
		if e == vdiBlockFree || e == vdiBlockZero {
			m.offsets[i] = noBlock
			continue
		}
		at := int64(h.blockMapAt) + 4*int64(i)
		if e >= h.allocated {
			return nil, vdiError(at, ErrFormat, "block %d is stored in data block %d, but only %d are allocated", i, e, h.allocated)
		}
		if used[e] {
			return nil, vdiError(at, ErrFormat, "block %d is stored in data block %d, which another block uses too", i, e)
		}
		used[e] = true
		m.offsets[i] = dataAt + int64(e)*block
		referenced = max(referenced, m.offsets[i]+block)
	}
	if referenced > size {
		return nil, vdiError(size, ErrTruncated, "block map points at data up to 0x%x, but the file ends at 0x%x", referenced, size)
	}
	return &container{
		Disk: m,
		Size: m.size,
		Layers: []Layer{
			{Format: VDI, Subformat: h.subformat(), Detail: h.subformat() + ", block " + clusterSizeString(block), Path: src.Name, FileSize: size},
			{Format: Raw, FileSize: -1},
		},
		Allocated:  size,
		Referenced: referenced,
		Closers:    []io.Closer{top},
	}, nil
}
