package facts

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts/sqlite"
)

// maxRPMHeader bounds one header blob, which is read whole: real ones
// are at most a few MiB.
const maxRPMHeader = 32 << 20

// errBlobCap is a header blob over maxRPMHeader.
var errBlobCap = fmt.Errorf("%w: an rpm header over %d MiB, cap reached", fsinspect.ErrTooLarge, maxRPMHeader>>20)

// sqliteValues calls each with the header blobs of the rpmdb.sqlite at
// guest path p (r, of size bytes), one row of its Packages table at a
// time, read in place with the commits its write-ahead log (p-wal, at
// most max bytes) holds, if there is one. A blob over maxRPMHeader is
// refused before it is read.
func (f *Facts) sqliteValues(p string, r io.ReaderAt, size, max int64, each func([]byte) error) error {
	var wal io.ReaderAt
	var walSize int64
	if ok, err := IsRegular(f.guest, p+"-wal"); err != nil {
		return err
	} else if ok {
		w, n, done, err := f.openAt(p+"-wal", max)
		if err != nil {
			return fmt.Errorf("its write-ahead log %s-wal: %w", path.Base(p), err)
		}
		defer done()
		wal, walSize = w, n
	}
	db, err := sqlite.NewFile(r, size, wal, walSize)
	if err != nil {
		return err
	}
	db.MaxValue = maxRPMHeader
	err = db.Rows("Packages", func(_ int64, v []any) error {
		if len(v) < 2 {
			return fmt.Errorf("rpm database: a Packages row of %d columns, want 2", len(v))
		}
		blob, ok := v[1].([]byte)
		if !ok {
			return fmt.Errorf("rpm database: a Packages row whose header is not a blob")
		}
		return each(blob)
	})
	if errors.Is(err, sqlite.ErrTooLarge) {
		return errBlobCap
	}
	return err
}

// Berkeley DB hash database layout, as far as rpm's Packages uses it.
const (
	bdbHashMagic    = 0x00061561
	bdbPageHeader   = 26
	bdbHashUnsorted = 2  // hash page, before BDB 4.6
	bdbHashPage     = 13 // sorted hash page
	bdbOverflow     = 7  // overflow page holding part of a value
	bdbHashOffPage  = 3  // hash item pointing to an overflow chain
	bdbHashOffSize  = 12
)

// errBDB marks a Berkeley DB structure that cannot be read.
var errBDB = errors.New("corrupt Berkeley DB")

// bdbValues walks the hash pages of a Berkeley DB hash database of size
// bytes in order, and calls each with every value stored off-page (the
// rpm header blobs) as it finds it. Every overflow page may belong to
// one chain only, so the work is bounded by the file's pages; an item
// outside its page, a chain through a page that is not an overflow page
// and a value over maxRPMHeader are refused.
func bdbValues(r io.ReaderAt, size int64, each func([]byte) error) error {
	meta := make([]byte, 512)
	if size < int64(len(meta)) {
		return fmt.Errorf("%w: %d bytes", errBDB, size)
	}
	if _, err := r.ReadAt(meta, 0); err != nil {
		return err
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch {
	case order.Uint32(meta[12:]) == bdbHashMagic:
	case binary.BigEndian.Uint32(meta[12:]) == bdbHashMagic:
		order = binary.BigEndian
	default:
		return fmt.Errorf("%w: not a hash database", errBDB)
	}
	ps := int64(order.Uint32(meta[20:]))
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return fmt.Errorf("%w: page size %d", errBDB, ps)
	}
	pages := size / ps
	last := int64(order.Uint32(meta[32:]))
	owned := make([]bool, pages)
	page, op := make([]byte, ps), make([]byte, ps)
	inOrder := bufio.NewReaderSize(io.NewSectionReader(r, 0, pages*ps), int(min(pages*ps, 1<<20)))
	for p := int64(0); p <= last && p < pages; p++ {
		if _, err := io.ReadFull(inOrder, page); err != nil {
			return err
		}
		if t := page[25]; t != bdbHashUnsorted && t != bdbHashPage {
			continue
		}
		entries := int64(order.Uint16(page[20:]))
		if bdbPageHeader+2*entries > ps {
			return fmt.Errorf("%w: page %d: %d entries", errBDB, p, entries)
		}
		for i := int64(1); i < entries; i += 2 {
			idx := int64(order.Uint16(page[bdbPageHeader+2*i:]))
			if idx >= ps {
				return fmt.Errorf("%w: page %d: item offset %d", errBDB, p, idx)
			}
			if page[idx] != bdbHashOffPage {
				continue
			}
			if idx+bdbHashOffSize > ps {
				return fmt.Errorf("%w: page %d: item offset %d", errBDB, p, idx)
			}
			var v []byte
			for pg := int64(order.Uint32(page[idx+4:])); pg != 0; {
				if pg >= pages || owned[pg] {
					return fmt.Errorf("%w: overflow chain from page %d reaches page %d twice or outside the file", errBDB, p, pg)
				}
				owned[pg] = true
				if _, err := r.ReadAt(op, pg*ps); err != nil {
					return err
				}
				if op[25] != bdbOverflow {
					return fmt.Errorf("%w: page %d in an overflow chain has type %d", errBDB, pg, op[25])
				}
				next := int64(order.Uint32(op[16:]))
				end := ps
				if next == 0 {
					end = bdbPageHeader + int64(order.Uint16(op[22:]))
					if end > ps {
						return fmt.Errorf("%w: overflow page %d: length past the page", errBDB, pg)
					}
				}
				if int64(len(v))+end-bdbPageHeader > maxRPMHeader {
					return errBlobCap
				}
				v = append(v, op[bdbPageHeader:end]...)
				pg = next
			}
			if err := each(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// NDB layout (rpm lib/backend/ndb/rpmpkg.c), as far as the package blobs go.
const (
	ndbHeaderMagic  = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic    = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic    = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbHeaderSize   = 32
	ndbEntrySize    = 16 // a slot, a blob header and the block unit
	ndbSlotsPerPage = 4096 / ndbEntrySize
	ndbMaxSlotPages = 2048
)

// errNDB marks an NDB structure that cannot be read.
var errNDB = errors.New("corrupt NDB rpm database")

// ndbValues calls each with the header blobs of an NDB Packages.db of
// size bytes, read one at a time. A bad slot or blob magic, a blob
// outside the file and a blob over maxRPMHeader are refused.
func ndbValues(r io.ReaderAt, size int64, each func([]byte) error) error {
	le := binary.LittleEndian
	head := make([]byte, ndbHeaderSize)
	if size < ndbHeaderSize {
		return fmt.Errorf("%w: bad header", errNDB)
	}
	if _, err := r.ReadAt(head, 0); err != nil {
		return err
	}
	if le.Uint32(head) != ndbHeaderMagic || le.Uint32(head[4:]) != 0 {
		return fmt.Errorf("%w: bad header", errNDB)
	}
	pages := int64(le.Uint32(head[12:]))
	if pages < 1 || pages > ndbMaxSlotPages {
		return fmt.Errorf("%w: %d slot pages", errNDB, pages)
	}
	n := (pages*ndbSlotsPerPage - 2) * ndbEntrySize
	if ndbHeaderSize+n > size {
		return fmt.Errorf("%w: slot table past the end of the file", errNDB)
	}
	slots := make([]byte, n)
	if _, err := r.ReadAt(slots, ndbHeaderSize); err != nil {
		return err
	}
	h := make([]byte, ndbEntrySize)
	for i := 0; i < len(slots); i += ndbEntrySize {
		s := slots[i:]
		if le.Uint32(s) != ndbSlotMagic {
			return fmt.Errorf("%w: slot %d: bad magic", errNDB, i/ndbEntrySize)
		}
		pkg := le.Uint32(s[4:])
		if pkg == 0 {
			continue
		}
		off := int64(le.Uint32(s[8:])) * ndbEntrySize
		if off+ndbEntrySize > size {
			return fmt.Errorf("%w: slot %d: block past the end of the file", errNDB, i/ndbEntrySize)
		}
		if _, err := r.ReadAt(h, off); err != nil {
			return err
		}
		n := int64(le.Uint32(h[12:]))
		if le.Uint32(h) != ndbBlobMagic || le.Uint32(h[4:]) != pkg || off+ndbEntrySize+n > size {
			return fmt.Errorf("%w: slot %d: bad blob header", errNDB, i/ndbEntrySize)
		}
		if n > maxRPMHeader {
			return errBlobCap
		}
		blob := make([]byte, n)
		if _, err := r.ReadAt(blob, off+ndbEntrySize); err != nil {
			return err
		}
		if err := each(blob); err != nil {
			return err
		}
	}
	return nil
}
