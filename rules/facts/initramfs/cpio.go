package initramfs

import (
	"fmt"
	"io"

	"github.com/imgcheck/imgcheck/image"
)

// A cpio "newc" header is the magic 070701 (070702 with a checksum) and 13
// eight-digit hex fields, 110 bytes; the name follows with its NUL, padded
// so that header and name end on a 4-byte boundary, then the data, padded
// the same way.
const (
	cpioHeaderSize = 110
	cpioTrailer    = "TRAILER!!!"
	// field offsets within the header
	cpioMode     = 14
	cpioFileSize = 54
	cpioNameSize = 94
)

// entry is one cpio member as the walk sees it.
type entry struct {
	name string
	mode uint32 // the st_mode field: type and permission bits
	size int64
}

// isRegular reports whether e is a regular file (S_IFREG).
func (e entry) isRegular() bool { return e.mode&0o170000 == 0o100000 }

// cpioReader reads newc headers from r, skipping each member's data. pos
// counts the bytes of r consumed, for error offsets.
type cpioReader struct {
	r       *posReader
	pos     int64
	format  string // names the stream in errors: "cpio", "cpio in gzip"
	maxName int
	hdr     [cpioHeaderSize]byte
}

// nextWithin reads the header of the next member, its name, and skips its
// data and padding. It returns io.EOF after the trailer, and ErrCap
// without reading on when the member would take more than left bytes.
func (c *cpioReader) nextWithin(left int64) (entry, error) {
	start := c.pos
	if m, _ := c.r.br.Peek(6); len(m) == 6 && !isNewc(m) {
		return entry{}, c.fail(start, image.ErrFormat, fmt.Sprintf("no newc header magic at 0x%x (%q)", start, m))
	}
	if err := c.full(c.hdr[:]); err != nil {
		return entry{}, err
	}
	var f [13]uint32
	for i := range f {
		v, ok := parseHex(c.hdr[6+8*i : 14+8*i])
		if !ok {
			return entry{}, c.fail(start, image.ErrFormat, fmt.Sprintf("header at 0x%x: field %d is not hexadecimal (%q)", start, i+1, c.hdr[6+8*i:14+8*i]))
		}
		f[i] = v
	}
	e := entry{mode: f[(cpioMode-6)/8], size: int64(f[(cpioFileSize-6)/8])}
	nameSize := int64(f[(cpioNameSize-6)/8])
	switch {
	case nameSize < 1:
		return entry{}, c.fail(start, image.ErrFormat, fmt.Sprintf("header at 0x%x: name size 0", start))
	case nameSize > int64(c.maxName)+1:
		return entry{}, c.fail(start, ErrCap, fmt.Sprintf("header at 0x%x: name of %d bytes over the cap of %d", start, nameSize-1, c.maxName))
	}
	name := make([]byte, nameSize+pad4(cpioHeaderSize+nameSize))
	if err := c.full(name); err != nil {
		return entry{}, err
	}
	if name[nameSize-1] != 0 {
		return entry{}, c.fail(start, image.ErrFormat, fmt.Sprintf("header at 0x%x: name is not NUL-terminated", start))
	}
	e.name = string(name[:nameSize-1])
	skip := e.size + pad4(e.size)
	if c.pos-start+skip > left {
		return entry{}, fmt.Errorf("%w: member %q at 0x%x of %s holds %d bytes, more than the initramfs limit leaves", ErrCap, e.name, start, c.format, e.size)
	}
	n, err := io.CopyN(io.Discard, c.r, skip)
	c.pos += n
	if err != nil {
		return entry{}, c.short(err)
	}
	if e.name == cpioTrailer {
		return entry{}, io.EOF
	}
	return e, nil
}

// full reads len(p) bytes, a short read being a truncated archive.
func (c *cpioReader) full(p []byte) error {
	n, err := io.ReadFull(c.r, p)
	c.pos += int64(n)
	if err != nil {
		return c.short(err)
	}
	return nil
}

// short turns an early end of the stream into a truncation error; other
// errors (a cap, a corrupt compressed stream) pass through.
func (c *cpioReader) short(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return c.fail(c.pos, image.ErrTruncated, fmt.Sprintf("archive ends inside a member at 0x%x", c.pos))
	}
	return err
}

func (c *cpioReader) fail(off int64, sentinel error, reason string) error {
	return &image.FormatError{Format: c.format, Offset: off, Reason: reason, Err: sentinel}
}

// isNewc reports whether a header starts with newc's magic, 070701, or
// 070702 (with checksums), both of which the kernel reads.
func isNewc(m []byte) bool {
	return string(m[:5]) == "07070" && (m[5] == '1' || m[5] == '2')
}

// parseHex parses eight hex digits strictly.
func parseHex(b []byte) (uint32, bool) {
	var v uint32
	for _, ch := range b {
		switch {
		case '0' <= ch && ch <= '9':
			ch -= '0'
		case 'a' <= ch && ch <= 'f':
			ch -= 'a' - 10
		case 'A' <= ch && ch <= 'F':
			ch -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(ch)
	}
	return v, true
}

// pad4 returns how many bytes bring n to a multiple of 4.
func pad4(n int64) int64 { return (4 - n%4) % 4 }
