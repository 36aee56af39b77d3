package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt marks a database file, or a write-ahead log, that breaks the
// file format.
var ErrCorrupt = errors.New("corrupt SQLite database")

// ErrTooLarge marks a value over File.MaxValue.
var ErrTooLarge = errors.New("SQLite value too large")

// DefaultMaxValue is the largest value read when File.MaxValue is 0:
// SQLite's own default limit on the length of a string or blob.
const DefaultMaxValue = 1_000_000_000

const (
	headerSize = 100
	magic      = "SQLite format 3\x00"
)

var be = binary.BigEndian

// A File is an SQLite database opened for reading. Its methods may be
// called from several goroutines at once.
type File struct {
	r        io.ReaderAt
	size     int64
	pageSize int64
	usable   int64  // page size less the reserved bytes at the end of each page
	pages    uint32 // database size in pages
	utf16    binary.ByteOrder
	wal      map[uint32]int64 // page number → offset in walR of its latest committed copy
	walR     io.ReaderAt

	// MaxValue is the largest string or blob Rows reads; a longer one
	// is an error wrapping ErrTooLarge, returned before the value is
	// read. 0 means DefaultMaxValue.
	MaxValue int64
}

// corrupt is an ErrCorrupt naming the page where the fault is (0: the
// database header).
func corrupt(page uint32, format string, args ...any) error {
	if page == 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%w: page %d: %s", ErrCorrupt, page, fmt.Sprintf(format, args...))
}

// NewFile opens the database r of size bytes. wal, when not nil, is the
// database's write-ahead log (its -wal file) of walSize bytes: the pages
// of its last valid commit are read from it instead of from r, as SQLite
// reads them after recovering the log. A log with a bad header or
// checksums holds no valid commit and changes nothing, as in SQLite.
func NewFile(r io.ReaderAt, size int64, wal io.ReaderAt, walSize int64) (*File, error) {
	if size < 0 || walSize < 0 {
		return nil, errors.New("sqlite: negative size")
	}
	if size < headerSize {
		return nil, corrupt(0, "file of %d bytes, shorter than the database header", size)
	}
	h := make([]byte, headerSize)
	if _, err := r.ReadAt(h, 0); err != nil {
		return nil, err
	}
	ps, err := pageSize(h)
	if err != nil {
		return nil, err
	}
	f := &File{r: r, size: size, pageSize: ps}
	f.pages = uint32(min(size/ps, 1<<32-1))
	if wal != nil {
		if err := f.readWAL(wal, walSize); err != nil {
			return nil, err
		}
	}
	page1 := make([]byte, ps)
	if err := f.readPage(1, page1); err != nil {
		return nil, err
	}
	if err := f.checkHeader(page1[:headerSize]); err != nil {
		return nil, err
	}
	return f, nil
}

// pageSize returns the page size the database header h declares.
func pageSize(h []byte) (int64, error) {
	if string(h[:16]) != magic {
		return 0, corrupt(0, "not an SQLite 3 database (bad magic)")
	}
	ps := int64(be.Uint16(h[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return 0, corrupt(0, "page size %d", ps)
	}
	return ps, nil
}

// checkHeader validates the database header h, as read from the latest
// copy of page 1, and sets the fields it decides.
func (f *File) checkHeader(h []byte) error {
	ps, err := pageSize(h)
	if err != nil {
		return err
	}
	if ps != f.pageSize {
		return corrupt(0, "page size %d in the write-ahead log's page 1, %d in the file", ps, f.pageSize)
	}
	if v := h[19]; v != 1 && v != 2 {
		return fmt.Errorf("%w: file format read version %d", errors.ErrUnsupported, v)
	}
	f.usable = ps - int64(h[20])
	if f.usable < 480 {
		return corrupt(0, "%d reserved bytes in pages of %d", h[20], ps)
	}
	if h[21] != 64 || h[22] != 32 || h[23] != 32 {
		return corrupt(0, "payload fractions %d, %d, %d, not 64, 32, 32", h[21], h[22], h[23])
	}
	// The in-header size counts when it is valid (written by a version
	// that keeps it: its change counter matches version-valid-for) and
	// not beyond what the file and log hold.
	if n := be.Uint32(h[28:]); n != 0 && be.Uint32(h[24:]) == be.Uint32(h[92:]) && n < f.pages {
		f.pages = n
	}
	switch enc := be.Uint32(h[56:]); enc {
	case 0, 1:
	case 2:
		f.utf16 = binary.LittleEndian
	case 3:
		f.utf16 = binary.BigEndian
	default:
		return corrupt(0, "text encoding %d", enc)
	}
	return nil
}

// readPage reads page n (numbered from 1) into b, from the write-ahead
// log when it holds a committed copy.
func (f *File) readPage(n uint32, b []byte) error {
	if n == 0 || n > f.pages {
		return corrupt(n, "outside the database (%d pages)", f.pages)
	}
	if off, ok := f.wal[n]; ok {
		return readFull(f.walR, b, off)
	}
	off := int64(n-1) * f.pageSize
	if off+f.pageSize > f.size {
		return corrupt(n, "past the end of the file (%d bytes)", f.size)
	}
	return readFull(f.r, b, off)
}

// readFull reads len(b) bytes at off; a short read is an error.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
