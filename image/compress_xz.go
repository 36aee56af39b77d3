package image

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz"
)

// The xz decoder allocates whatever LZMA2 dictionary a block header
// declares, up to 4 GiB. An xzGuard sits between an xz upload and the
// decoder: it passes the file on unchanged while walking its structure
// (stream headers, block headers, LZMA2 chunk headers, indexes, footers,
// stream padding; the xz file format 1.2.0) and stops before passing on
// a block header whose dictionary is over its limit. It decodes nothing:
// LZMA2 chunks say how long they are.
type xzGuard struct {
	r       xzSource
	peek    *bufio.Reader // r, for the padding between streams; nil: one stream only
	max     int64         // the largest dictionary allowed
	off     int64         // bytes of the upload walked so far
	pending []byte        // walked structure not yet passed on
	body    int64         // LZMA2 data to pass on before the next structure
	next    func() error
	err     error // sticky: io.EOF at the clean end
	check   int   // bytes of the current stream's check field
	block   int64 // bytes of the current block so far
	records uint64
	index   int64 // bytes of the current index so far
}

// An XZDictError is an xz block declaring a dictionary over the limit
// (Limits.XZDictionary for an upload).
type XZDictError struct {
	Offset    int64 // of the block header
	Dict, Max int64
}

func (e *XZDictError) Error() string {
	return fmt.Sprintf("xz block at 0x%x declares a %s dictionary, over the xz-dictionary limit of %s", e.Offset, byteSize(e.Dict), byteSize(e.Max))
}

var (
	errXZStructure = errors.New("xz: malformed stream structure")
	xzMagic        = []byte("\xfd7zXZ\x00")
)

// xzSource is what an xzGuard reads from.
type xzSource interface {
	io.Reader
	io.ByteReader
}

// newXZGuard returns a reader of the xz upload r (one stream or several,
// with padding between them) that fails with an *XZDictError instead of
// passing on a dictionary over max bytes.
func newXZGuard(r io.Reader, max int64) *xzGuard {
	b := bufio.NewReaderSize(r, 64<<10)
	g := &xzGuard{r: b, peek: b, max: max}
	g.next = g.streamHeader
	return g
}

// NewXZStreamReader decodes the one xz stream at the start of r and
// reads r exactly to the end of its footer, not a byte beyond, so that
// whatever follows (the next segment of an initramfs) can be read from r.
// A block declaring a dictionary over maxDict bytes is refused with an
// *XZDictError before anything is allocated.
func NewXZStreamReader(r XZSource, maxDict int64) (io.Reader, error) {
	g := &xzGuard{r: r, max: maxDict}
	g.next = g.streamHeader
	return xz.ReaderConfig{SingleStream: true}.NewReader(g)
}

// XZSource is what NewXZStreamReader reads: an io.Reader that can also
// read a byte at a time (a *bufio.Reader reads ahead of the stream's end).
type XZSource = xzSource

func (g *xzGuard) Read(p []byte) (int, error) {
	for len(g.pending) == 0 && g.body == 0 {
		if g.err != nil {
			return 0, g.err
		}
		g.err = g.next()
	}
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	n, err := g.r.Read(p[:min(int64(len(p)), g.body)])
	g.body -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// read reads the next n bytes of a structure.
func (g *xzGuard) read(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// pass queues walked bytes to be passed on.
func (g *xzGuard) pass(b []byte) {
	g.pending = append(g.pending, b...)
	g.off += int64(len(b))
}

// readVarint reads an xz multibyte integer, queued to be passed on.
func (g *xzGuard) readVarint() (uint64, int, error) {
	var v uint64
	for i := range 9 {
		c, err := g.r.ReadByte()
		if err != nil {
			return 0, 0, io.ErrUnexpectedEOF
		}
		g.pass([]byte{c})
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errXZStructure
}

func (g *xzGuard) streamHeader() error {
	b, err := g.read(12)
	if err != nil {
		return err
	}
	if !bytes.Equal(b[:6], xzMagic) {
		return errXZStructure
	}
	g.check = xzCheckSize(b[7] & 0x0f)
	g.pass(b)
	g.next = g.blockOrIndex
	return nil
}

// xzCheckSize is the size of the check field of check type id.
func xzCheckSize(id byte) int {
	return [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}[id]
}

func (g *xzGuard) blockOrIndex() error {
	b, err := g.read(1)
	if err != nil {
		return err
	}
	if b[0] == 0 { // the index indicator
		g.pass(b)
		count, n, err := g.readVarint()
		if err != nil {
			return err
		}
		g.records, g.index, g.next = count, 1+int64(n), g.indexRecords
		return nil
	}
	rest, err := g.read(int(b[0])*4 + 3)
	if err != nil {
		return err
	}
	header := append(b, rest...)
	dict, err := lzma2Dictionary(header)
	if err != nil {
		return err
	}
	if dict > g.max {
		return &XZDictError{Offset: g.off, Dict: dict, Max: g.max}
	}
	g.pass(header)
	g.block, g.next = int64(len(header)), g.chunk
	return nil
}

// lzma2Dictionary returns the dictionary size the LZMA2 filter of the
// block header h declares: after the flags, the optional compressed and
// uncompressed sizes, then each filter's ID, properties size and
// properties; LZMA2 (ID 0x21) has one byte of properties.
func lzma2Dictionary(h []byte) (int64, error) {
	flags := h[1]
	if flags&0x3c != 0 {
		return 0, errXZStructure
	}
	r := bytes.NewReader(h[2 : len(h)-4])
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} { // the two sizes
		if !present {
			continue
		}
		if _, err := binary.ReadUvarint(r); err != nil {
			return 0, errXZStructure
		}
	}
	for range flags&3 + 1 {
		id, err1 := binary.ReadUvarint(r)
		size, err2 := binary.ReadUvarint(r)
		if err1 != nil || err2 != nil || size > uint64(r.Len()) {
			return 0, errXZStructure
		}
		props := make([]byte, size)
		r.Read(props)
		if id == 0x21 && size == 1 && props[0] <= 40 {
			if props[0] == 40 {
				return 1<<32 - 1, nil
			}
			return int64(2|props[0]&1) << (props[0]/2 + 11), nil
		}
	}
	return 0, errXZStructure
}

func (g *xzGuard) chunk() error {
	c, err := g.read(1)
	if err != nil {
		return err
	}
	switch control := c[0]; {
	case control == 0x00: // end of the block's data: padding, then check
		g.pass(c)
		g.block++
		tail, err := g.read(int(-g.block&3) + g.check)
		if err != nil {
			return err
		}
		g.pass(tail)
		g.next = g.blockOrIndex
	case control == 0x01 || control == 0x02: // stored chunk
		h, err := g.read(2)
		if err != nil {
			return err
		}
		g.pass(append(c, h...))
		g.body = int64(binary.BigEndian.Uint16(h)) + 1
		g.block += 3 + g.body
	case control >= 0x80: // LZMA chunk, with new properties from reset 2
		n := 4
		if control>>5&3 >= 2 {
			n++
		}
		h, err := g.read(n)
		if err != nil {
			return err
		}
		g.pass(append(c, h...))
		g.body = int64(binary.BigEndian.Uint16(h[2:])) + 1
		g.block += 1 + int64(n) + g.body
	default:
		return errXZStructure
	}
	return nil
}

// indexRecords walks up to 1024 index records per call, then the index
// padding, its CRC32 and the stream footer.
func (g *xzGuard) indexRecords() error {
	for range 1024 {
		if g.records == 0 {
			tail, err := g.read(int(-g.index&3) + 4 + 12)
			if err != nil {
				return err
			}
			g.pass(tail)
			g.next = g.streamPadding
			return nil
		}
		for range 2 {
			_, n, err := g.readVarint()
			if err != nil {
				return err
			}
			g.index += int64(n)
		}
		g.records--
	}
	return nil
}

// streamPadding walks the zero padding after a stream: then comes the end
// of the upload or another stream. A guard of one stream ends there.
func (g *xzGuard) streamPadding() error {
	if g.peek == nil {
		return io.EOF
	}
	b, err := g.peek.Peek(len(xzMagic))
	switch {
	case len(b) == 0:
		return err // io.EOF at the end of the upload
	case len(b) >= 4 && bytes.Equal(b[:4], make([]byte, 4)):
		pad, _ := g.read(4)
		g.pass(pad)
	case bytes.Equal(b, xzMagic):
		g.next = g.streamHeader
	default:
		return errXZStructure
	}
	return nil
}
