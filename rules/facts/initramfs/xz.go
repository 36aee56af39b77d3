package initramfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/imgcheck/imgcheck/image"
	"github.com/ulikunitz/xz/lzma"
)

// The xz container (tukaani.org's xz-file-format-1.2.1): a 12-byte stream
// header, blocks (a header naming the filters, LZMA2 data, padding to 4
// bytes, a check), an index (its first byte 0), a 12-byte stream footer.
const (
	xzMagic       = "\xfd7zXZ\x00"
	xzFooterMagic = "YZ"
	xzLZMA2       = 0x21
)

// xzReader decodes one xz stream whose blocks use the LZMA2 filter alone
// (xz's default, what mkinitramfs, dracut and mkinitcpio write), reading
// exactly to the end of the stream footer. A block whose dictionary is
// larger than maxDict is refused before anything is allocated.
type xzReader struct {
	r       *posReader
	maxDict int64
	check   int       // bytes of each block's check field
	block   io.Reader // the current block's LZMA2 data, nil between blocks
	start   int64     // where the current block began
	blocks  int
	err     error
}

func newXZReader(r *posReader, maxDict int64) *xzReader {
	x := &xzReader{r: r, maxDict: maxDict}
	x.err = x.streamHeader()
	return x
}

func (x *xzReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, x.err
	}
	for empty := 0; x.err == nil; empty++ {
		if empty == 100 {
			return 0, io.ErrNoProgress
		}
		if x.block == nil {
			x.err = x.nextBlock()
			continue
		}
		n, err := x.block.Read(p)
		if err == io.EOF {
			x.block, err = nil, x.endBlock()
		}
		if err != nil {
			x.err = x.fail(err)
		}
		if n > 0 || x.err != nil {
			return n, x.err
		}
	}
	return 0, x.err
}

func (x *xzReader) fail(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*image.FormatError](err); ok || err == io.EOF || errors.Is(err, ErrCap) {
		return err
	}
	if err == io.ErrUnexpectedEOF {
		return x.bad(image.ErrTruncated, "stream ends early at 0x%x", x.r.pos)
	}
	return &image.FormatError{Format: "xz", Offset: x.r.pos, Reason: fmt.Sprintf("at 0x%x: %v", x.r.pos, err), Err: image.ErrFormat}
}

func (x *xzReader) bad(sentinel error, format string, args ...any) error {
	return &image.FormatError{Format: "xz", Offset: x.r.pos, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// read reads exactly len(p) bytes of the container.
func (x *xzReader) read(p []byte) error {
	_, err := io.ReadFull(x.r, p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return x.fail(err)
}

func (x *xzReader) streamHeader() error {
	var h [12]byte
	if err := x.read(h[:]); err != nil {
		return err
	}
	if string(h[:6]) != xzMagic {
		return x.bad(image.ErrFormat, "no stream header magic")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return x.bad(image.ErrUnsupported, "stream flags %#x %#x", h[6], h[7])
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return x.bad(image.ErrChecksum, "stream header CRC32 mismatch")
	}
	x.check = checkSize(h[7] & 0x0f)
	return nil
}

// checkSize is the size of a check field by its type (0: none, 1: CRC32,
// 4: CRC64, 10: SHA-256, others reserved with sizes by range).
func checkSize(t byte) int {
	if t == 0 {
		return 0
	}
	return 4 << ((t - 1) / 3)
}

// nextBlock reads a block header and starts its LZMA2 data, or reads the
// index and footer and ends the stream with io.EOF.
func (x *xzReader) nextBlock() error {
	x.start = x.r.pos
	size, err := x.r.ReadByte()
	if err != nil {
		return x.fail(io.ErrUnexpectedEOF)
	}
	if size == 0 {
		return x.indexAndFooter()
	}
	h := make([]byte, (int(size)+1)*4)
	h[0] = size
	if err := x.read(h[1:]); err != nil {
		return err
	}
	body, sum := h[:len(h)-4], binary.LittleEndian.Uint32(h[len(h)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return x.bad(image.ErrChecksum, "block header at 0x%x: CRC32 mismatch", x.start)
	}
	flags, rest := body[1], body[2:]
	if flags&0x3c != 0 {
		return x.bad(image.ErrUnsupported, "block header at 0x%x: reserved flags %#x", x.start, flags)
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} { // compressed and uncompressed sizes
		if present {
			if _, n := binary.Uvarint(rest); n <= 0 {
				return x.bad(image.ErrFormat, "block header at 0x%x: bad size field", x.start)
			} else {
				rest = rest[n:]
			}
		}
	}
	if flags&3 != 0 {
		return x.bad(image.ErrUnsupported, "block at 0x%x: %d filters (only LZMA2 alone is read)", x.start, flags&3+1)
	}
	id, n := binary.Uvarint(rest)
	if n <= 0 || id != xzLZMA2 || len(rest) < n+2 || rest[n] != 1 {
		return x.bad(image.ErrUnsupported, "block at 0x%x: filter %#x (only LZMA2 alone is read)", x.start, id)
	}
	dict, err := lzma2Dict(rest[n+1])
	if err != nil {
		return x.bad(image.ErrFormat, "block at 0x%x: %v", x.start, err)
	}
	if dict > x.maxDict {
		return fmt.Errorf("%w: xz block at 0x%x needs a dictionary of %d bytes, over the %d-byte memory limit", ErrCap, x.start, dict, x.maxDict)
	}
	lr, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(x.r)
	if err != nil {
		return x.fail(err)
	}
	x.block = lr
	x.blocks++
	return nil
}

// lzma2Dict decodes the LZMA2 dictionary-size property byte.
func lzma2Dict(b byte) (int64, error) {
	switch {
	case b > 40:
		return 0, fmt.Errorf("LZMA2 dictionary property %d", b)
	case b == 40:
		return 1<<32 - 1, nil
	}
	return int64(2|b&1) << (b/2 + 11), nil
}

// endBlock skips the block padding and its check.
func (x *xzReader) endBlock() error {
	n := pad4(x.r.pos - x.start)
	pad := make([]byte, int(n)+x.check)
	if err := x.read(pad); err != nil {
		return err
	}
	for _, b := range pad[:n] {
		if b != 0 {
			return x.bad(image.ErrFormat, "block at 0x%x: non-zero padding", x.start)
		}
	}
	return nil
}

// indexAndFooter reads the index (its indicator byte already read): one
// record per block read, padding, CRC32; then the footer. It returns
// io.EOF at the stream's end.
func (x *xzReader) indexAndFooter() error {
	idx := []byte{0}
	readVarint := func() (uint64, error) {
		var v uint64
		for i := 0; i < 9; i++ {
			b, err := x.r.ReadByte()
			if err != nil {
				return 0, x.fail(io.ErrUnexpectedEOF)
			}
			idx = append(idx, b)
			v |= uint64(b&0x7f) << (7 * i)
			if b < 0x80 {
				return v, nil
			}
		}
		return 0, x.bad(image.ErrFormat, "index at 0x%x: bad number", x.start)
	}
	records, err := readVarint()
	if err != nil {
		return err
	}
	if records != uint64(x.blocks) {
		return x.bad(image.ErrFormat, "index at 0x%x lists %d blocks, the stream holds %d", x.start, records, x.blocks)
	}
	for range 2 * records {
		if _, err := readVarint(); err != nil {
			return err
		}
	}
	tail := make([]byte, int(pad4(int64(len(idx))))+4)
	if err := x.read(tail); err != nil {
		return err
	}
	idx = append(idx, tail[:len(tail)-4]...)
	if crc32.ChecksumIEEE(idx) != binary.LittleEndian.Uint32(tail[len(tail)-4:]) {
		return x.bad(image.ErrChecksum, "index at 0x%x: CRC32 mismatch", x.start)
	}
	var f [12]byte
	if err := x.read(f[:]); err != nil {
		return err
	}
	if string(f[10:]) != xzFooterMagic || crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[:4]) {
		return x.bad(image.ErrFormat, "bad stream footer at 0x%x", x.r.pos-12)
	}
	return io.EOF
}
