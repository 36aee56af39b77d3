package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// qcow2Magic starts every qcow2 file.
const qcow2Magic = "QFI\xfb"

// Limits imgcheck applies to a qcow2 header before anything else reads it.
const (
	qcow2MinClusterBits = 9  // 512-byte clusters
	qcow2MaxClusterBits = 21 // 2 MiB clusters
	qcow2MaxBackingName = 1023
	qcow2MaxExtensions  = 256
)

// Incompatible feature bits (QEMU docs/interop/qcow2.txt).
const (
	qcow2Dirty        = 1 << 0
	qcow2Corrupt      = 1 << 1
	qcow2ExternalData = 1 << 2
	qcow2Compression  = 1 << 3
	qcow2ExtendedL2   = 1 << 4
)

// Header extension types imgcheck looks at.
const (
	qcow2ExtEnd          = 0x00000000
	qcow2ExtFeatureNames = 0x6803f857
)

// qcow2Header holds the validated header fields of one qcow2 file.
type qcow2Header struct {
	version         uint32
	backingOffset   uint64
	backingName     string // "" when the image has no backing file
	clusterBits     uint32
	size            uint64 // virtual disk size in bytes
	l1Size          uint32
	l1Offset        uint64
	incompatible    uint64
	headerLength    uint32
	compressionType byte // 0 zlib (raw deflate), 1 zstd
	refcountOffset  uint64
	refcountBytes   uint64 // the refcount table's clusters, in bytes
	refcountOrder   uint32 // refcounts are 1<<refcountOrder bits wide
}

func (h *qcow2Header) clusterSize() int64 { return 1 << h.clusterBits }

func (h *qcow2Header) extendedL2() bool { return h.incompatible&qcow2ExtendedL2 != 0 }

// compressionName names h's compression type as qemu-img info does.
func (h *qcow2Header) compressionName() string {
	if h.compressionType == 1 {
		return "zstd"
	}
	return "zlib"
}

// detail describes h for the container chain:
// "qcow2 v3, zstd, cluster 64 KiB".
func (h *qcow2Header) detail() string {
	s := fmt.Sprintf("qcow2 v%d, %s, cluster %s", h.version, h.compressionName(), clusterSizeString(h.clusterSize()))
	if h.extendedL2() {
		s += ", extended L2"
	}
	return s
}

// clusterSizeString prints a power-of-two size as bytes, KiB or MiB.
func clusterSizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// qcow2Error is a FormatError about a qcow2 file.
func qcow2Error(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: "qcow2", Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// fitsIn reports whether [off, off+n) lies within a file of size bytes,
// without overflow.
func fitsIn(off, n uint64, size int64) bool {
	return size >= 0 && off <= uint64(size) && n <= uint64(size)-off
}

// readQCOW2Header reads and validates the header of the qcow2 file r of
// fileSize bytes: magic, version, cluster size, that the L1 and refcount
// tables lie inside the file and the L1 table covers the virtual size
// without exceeding maxL1 bytes, and the incompatible feature bits.
// Refused features are errors that wrap ErrUnsupported.
func readQCOW2Header(r io.ReaderAt, fileSize, maxL1 int64) (*qcow2Header, error) {
	var b [112]byte
	n, err := r.ReadAt(b[:], 0)
	if n < 72 {
		if err == nil || err == io.EOF {
			return nil, qcow2Error(int64(n), ErrTruncated, "header truncated: file is %d bytes", fileSize)
		}
		return nil, qcow2Error(0, err, "reading header: %v", err)
	}
	be := binary.BigEndian
	if string(b[:4]) != qcow2Magic {
		return nil, qcow2Error(0, ErrFormat, "bad magic % x", b[:4])
	}
	h := &qcow2Header{
		version:       be.Uint32(b[4:]),
		backingOffset: be.Uint64(b[8:]),
		clusterBits:   be.Uint32(b[20:]),
		size:          be.Uint64(b[24:]),
		l1Size:        be.Uint32(b[36:]),
		l1Offset:      be.Uint64(b[40:]),
		headerLength:  72,
		refcountOrder: 4,
	}
	backingSize := be.Uint32(b[16:])
	crypt := be.Uint32(b[32:])
	refcountOffset := be.Uint64(b[48:])
	refcountClusters := be.Uint32(b[56:])

	if h.version != 2 && h.version != 3 {
		return nil, qcow2Error(4, ErrUnsupported, "version %d is not supported (only 2 and 3)", h.version)
	}
	if h.clusterBits < qcow2MinClusterBits || h.clusterBits > qcow2MaxClusterBits {
		return nil, qcow2Error(20, ErrFormat, "cluster bits %d out of range %d..%d", h.clusterBits, qcow2MinClusterBits, qcow2MaxClusterBits)
	}
	cluster := uint64(h.clusterSize())
	if h.version == 3 {
		if n < 104 {
			return nil, qcow2Error(int64(n), ErrTruncated, "version 3 header truncated: file is %d bytes", fileSize)
		}
		h.incompatible = be.Uint64(b[72:])
		h.headerLength = be.Uint32(b[100:])
		if h.headerLength < 104 || h.headerLength%8 != 0 || uint64(h.headerLength) > cluster {
			return nil, qcow2Error(100, ErrFormat, "header length %d invalid (cluster %d bytes)", h.headerLength, cluster)
		}
		if h.headerLength > 104 {
			if n < 105 {
				return nil, qcow2Error(int64(n), ErrTruncated, "header truncated: file is %d bytes", fileSize)
			}
			h.compressionType = b[104]
		}
		if h.refcountOrder = be.Uint32(b[96:]); h.refcountOrder > 6 {
			return nil, qcow2Error(96, ErrFormat, "refcount order %d invalid (at most 6)", h.refcountOrder)
		}
	}
	if crypt != 0 {
		method := map[uint32]string{1: "AES", 2: "LUKS"}[crypt]
		if method == "" {
			method = fmt.Sprintf("method %d", crypt)
		}
		return nil, qcow2Error(32, ErrUnsupported, "encrypted qcow2 is not supported (%s)", method)
	}
	if err := h.checkFeatures(r, fileSize); err != nil {
		return nil, err
	}
	if h.size == 0 {
		return nil, qcow2Error(24, ErrFormat, "virtual size is 0")
	}

	// The L1 table: aligned, inside the file, bounded, and big enough to
	// map every cluster of the virtual disk.
	l1Bytes := uint64(h.l1Size) * 8
	switch {
	case h.l1Offset == 0 || h.l1Offset%cluster != 0:
		return nil, qcow2Error(40, ErrFormat, "L1 table offset 0x%x not cluster-aligned", h.l1Offset)
	case l1Bytes > uint64(maxL1):
		return nil, qcow2Error(36, ErrFormat, "L1 table of %d entries exceeds %s (the qcow2-l1 limit)", h.l1Size, byteSize(maxL1))
	case !fitsIn(h.l1Offset, l1Bytes, fileSize):
		return nil, qcow2Error(int64(min(h.l1Offset, 1<<62)), ErrTruncated, "L1 table at 0x%x (%d bytes) runs past end of file (size 0x%x)", h.l1Offset, l1Bytes, fileSize)
	}
	l2Entries := cluster / 8
	if h.extendedL2() {
		l2Entries = cluster / 16
	}
	perL1 := l2Entries * cluster // bytes of virtual disk one L1 entry maps
	if need := (h.size-1)/perL1 + 1; need > uint64(h.l1Size) {
		return nil, qcow2Error(36, ErrFormat, "L1 table of %d entries too small for virtual size %d (needs %d)", h.l1Size, h.size, need)
	}

	// The refcount table: aligned and inside the file.
	rtBytes := uint64(refcountClusters) * cluster
	switch {
	case refcountOffset == 0 || refcountOffset%cluster != 0:
		return nil, qcow2Error(48, ErrFormat, "refcount table offset 0x%x not cluster-aligned", refcountOffset)
	case refcountClusters == 0:
		return nil, qcow2Error(56, ErrFormat, "refcount table has no clusters")
	case !fitsIn(refcountOffset, rtBytes, fileSize):
		return nil, qcow2Error(int64(min(refcountOffset, 1<<62)), ErrTruncated, "refcount table at 0x%x (%d bytes) runs past end of file (size 0x%x)", refcountOffset, rtBytes, fileSize)
	}
	h.refcountOffset, h.refcountBytes = refcountOffset, rtBytes

	if h.backingOffset != 0 && backingSize != 0 {
		name, err := readBackingName(r, h.backingOffset, backingSize, cluster)
		if err != nil {
			return nil, err
		}
		h.backingName = name
	}
	return h, nil
}

// checkFeatures refuses the incompatible features imgcheck cannot honour:
// a dirty or corrupt image, an external data file, an unknown compression
// type and any bit it does not know, named from the image's own feature
// name table when it has one.
func (h *qcow2Header) checkFeatures(r io.ReaderAt, fileSize int64) error {
	f := h.incompatible
	switch {
	case f&qcow2Dirty != 0:
		return qcow2Error(72, ErrUnsupported, "image is marked dirty (not closed cleanly); run qemu-img check -r all on a copy first")
	case f&qcow2Corrupt != 0:
		return qcow2Error(72, ErrUnsupported, "image is marked corrupt; run qemu-img check on it")
	case f&qcow2ExternalData != 0:
		return qcow2Error(72, ErrUnsupported, "external data files are not supported")
	}
	if (f&qcow2Compression != 0) != (h.compressionType != 0) {
		return qcow2Error(104, ErrFormat, "compression type %d disagrees with the compression type feature bit", h.compressionType)
	}
	if h.compressionType > 1 {
		return qcow2Error(104, ErrUnsupported, "compression type %d is not supported (only zlib and zstd)", h.compressionType)
	}
	unknown := f &^ (qcow2Compression | qcow2ExtendedL2)
	if unknown == 0 {
		return nil
	}
	bit := 0
	for unknown&(1<<bit) == 0 {
		bit++
	}
	name := h.featureName(r, fileSize, bit)
	if name == "" {
		name = fmt.Sprintf("bit %d", bit)
	} else {
		name = fmt.Sprintf("%q (bit %d)", name, bit)
	}
	return qcow2Error(72, ErrUnsupported, "unknown incompatible feature %s is not supported", name)
}

// featureName looks up an incompatible feature bit in the image's feature
// name table extension; "" if the image does not name it.
func (h *qcow2Header) featureName(r io.ReaderAt, fileSize int64, bit int) string {
	off := uint64(h.headerLength)
	end := min(uint64(h.clusterSize()), uint64(max(fileSize, 0)))
	for range qcow2MaxExtensions {
		var tl [8]byte
		if !fitsIn(off, 8, int64(end)) {
			return ""
		}
		if _, err := r.ReadAt(tl[:], int64(off)); err != nil {
			return ""
		}
		typ, length := binary.BigEndian.Uint32(tl[:]), uint64(binary.BigEndian.Uint32(tl[4:]))
		off += 8
		if typ == qcow2ExtEnd || !fitsIn(off, length, int64(end)) {
			return ""
		}
		if typ == qcow2ExtFeatureNames {
			data := make([]byte, length)
			if _, err := r.ReadAt(data, int64(off)); err != nil {
				return ""
			}
			for e := data; len(e) >= 48; e = e[48:] {
				if e[0] == 0 && int(e[1]) == bit {
					return string(bytes.TrimRight(e[2:48], "\x00"))
				}
			}
		}
		off += (length + 7) &^ 7
	}
	return ""
}

// readBackingName reads the backing file name, which must lie inside the
// first cluster and be at most 1023 bytes.
func readBackingName(r io.ReaderAt, off uint64, n uint32, cluster uint64) (string, error) {
	if n > qcow2MaxBackingName || !fitsIn(off, uint64(n), int64(cluster)) {
		return "", qcow2Error(8, ErrFormat, "backing file name at 0x%x (%d bytes) outside the first cluster or longer than %d bytes", off, n, qcow2MaxBackingName)
	}
	name := make([]byte, n)
	if _, err := r.ReadAt(name, int64(off)); err != nil {
		return "", qcow2Error(int64(off), ErrTruncated, "reading backing file name: %v", err)
	}
	return string(name), nil
}
