package facts

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	_ "github.com/glebarez/go-sqlite" // pure-Go "sqlite" driver used by go-rpmdb's SQLite backend

	"github.com/imgcheck/imgcheck/fsinspect"
)

// What go-rpmdb may be given: it holds one header blob whole while it
// parses it, and every package's file lists until it returns, so both
// are bounded before it runs.
const (
	maxRPMHeader  = 32 << 20 // one header blob
	maxRPMHeaders = 96 << 20 // all the header blobs of the database
)

// checkRPMBlobs reads the header blobs of the database file at host path p
// (a private temporary copy) one at a time, and rejects those go-rpmdb
// cannot parse in bounded time or memory.
func checkRPMBlobs(p, name string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var total int64
	n := 0
	check := func(blob []byte) error {
		if total += int64(len(blob)); total > maxRPMHeaders {
			return fmt.Errorf("%w: rpm headers over %d MiB, cap reached", fsinspect.ErrTooLarge, maxRPMHeaders>>20)
		}
		if err := checkHeaderBlob(blob); err != nil {
			return fmt.Errorf("rpm header %d: %w", n, err)
		}
		n++
		return nil
	}
	switch name {
	case "Packages":
		return bdbValues(f, st.Size(), check)
	case "Packages.db":
		return ndbValues(f, st.Size(), check)
	case "rpmdb.sqlite":
		return sqliteValues(p, check)
	}
	return nil
}

// errBlobCap is a header blob over maxRPMHeader.
var errBlobCap = fmt.Errorf("%w: an rpm header over %d MiB, cap reached", fsinspect.ErrTooLarge, maxRPMHeader>>20)

// sqliteValues calls each with the header blobs of an rpmdb.sqlite.
func sqliteValues(p string, each func([]byte) error) error {
	db, err := sql.Open("sqlite", p)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("SELECT blob FROM Packages")
	if err != nil {
		return fmt.Errorf("rpm database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return fmt.Errorf("rpm database: %w", err)
		}
		if len(blob) > maxRPMHeader {
			return errBlobCap
		}
		if err := each(blob); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rpm database: %w", err)
	}
	return nil
}

// Berkeley DB hash database layout, as far as go-rpmdb walks it.
const (
	bdbHashMagic    = 0x00061561
	bdbPageHeader   = 26
	bdbHashUnsorted = 2  // hash page, before BDB 4.6
	bdbHashPage     = 13 // sorted hash page
	bdbOverflow     = 7  // overflow page holding part of a value
	bdbHashOffPage  = 3  // hash item pointing to an overflow chain
	bdbHashOffSize  = 12
)

// errBDB marks a Berkeley DB structure that go-rpmdb would mis-handle.
var errBDB = errors.New("corrupt Berkeley DB")

// bdbValues walks a Berkeley DB hash database of size bytes the way
// go-rpmdb reads it, a page at a time, and calls each with every value
// (rpm header blob). It rejects what would make that reader index out
// of range, spin on a page that is not an overflow page, or follow an
// overflow chain in a cycle: go-rpmdb reads in its own goroutine, where a
// panic or a loop cannot be recovered. Every overflow page may belong to
// one chain only.
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
	for p := int64(0); p <= last && p < pages; p++ {
		if _, err := r.ReadAt(page, p*ps); err != nil {
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

// rpm header limits and string types (rpm lib/header.c).
const (
	rpmMaxTags       = 0xffff
	rpmMaxData       = 256 << 20
	rpmString        = 6
	rpmStringArray   = 8
	rpmI18NString    = 9
	rpmHeaderEntry   = 16
	rpmHeaderPreface = 8
)

// checkHeaderBlob rejects a header whose string entries claim more strings
// than their data holds NUL terminators: go-rpmdb would then scan the data
// once per claimed string, up to 2^32 times.
func checkHeaderBlob(b []byte) error {
	if len(b) < rpmHeaderPreface {
		return nil // go-rpmdb reports it
	}
	il, dl := int64(binary.BigEndian.Uint32(b)), int64(binary.BigEndian.Uint32(b[4:]))
	if il < 1 || il > rpmMaxTags || dl > rpmMaxData {
		return fmt.Errorf("implausible header: %d tags, %d data bytes", il, dl)
	}
	start := rpmHeaderPreface + rpmHeaderEntry*il
	end := start + dl
	if end > int64(len(b)) {
		return nil // go-rpmdb reports it
	}
	var nuls []int64 // offsets of the NULs in the data segment
	for i, c := range b[start:end] {
		if c == 0 {
			nuls = append(nuls, start+int64(i))
		}
	}
	for i := int64(0); i < il; i++ {
		e := b[rpmHeaderPreface+rpmHeaderEntry*i:]
		typ, off, count := binary.BigEndian.Uint32(e[4:]), int64(int32(binary.BigEndian.Uint32(e[8:]))), int64(binary.BigEndian.Uint32(e[12:]))
		if typ != rpmString && typ != rpmStringArray && typ != rpmI18NString {
			continue
		}
		if off < 0 || start+off >= end {
			continue // go-rpmdb rejects the range itself
		}
		first, _ := slices.BinarySearch(nuls, start+off)
		if int64(len(nuls)-first) < count {
			return fmt.Errorf("tag entry %d claims %d strings, its data holds %d", i, count, len(nuls)-first)
		}
	}
	return nil
}

// NDB layout (rpm lib/backend/ndb/rpmpkg.c), as far as go-rpmdb reads it.
const (
	ndbHeaderMagic  = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic    = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic    = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbHeaderSize   = 32
	ndbEntrySize    = 16 // a slot, a blob header and the block unit
	ndbSlotsPerPage = 4096 / ndbEntrySize
	ndbMaxSlotPages = 2048
)

// errNDB marks an NDB structure that go-rpmdb would mis-handle.
var errNDB = errors.New("corrupt NDB rpm database")

// ndbValues calls each with the header blobs of an NDB Packages.db of
// size bytes, read one at a time. It rejects what go-rpmdb would print to
// stdout (a bad slot magic) or allocate without bound (a blob length
// past the end of the file).
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
	slots := make([]byte, (pages*ndbSlotsPerPage-2)*ndbEntrySize)
	if ndbHeaderSize+int64(len(slots)) > size {
		return fmt.Errorf("%w: slot table past the end of the file", errNDB)
	}
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
