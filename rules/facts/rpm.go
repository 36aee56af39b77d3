package facts

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	_ "github.com/glebarez/go-sqlite" // pure-Go "sqlite" driver used by go-rpmdb's SQLite backend
	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// rpmDBFiles are the rpm databases in selection order.
var rpmDBFiles = []struct{ name, format string }{
	{"rpmdb.sqlite", "rpm-sqlite"},
	{"Packages.db", "rpm-ndb"},
	{"Packages", "rpm-bdb"},
}

var rpmDBDirs = []string{"var/lib/rpm", "usr/lib/sysimage/rpm"}

// rpmDBPath returns the guest path of the rpm database to read, or "".
func (f *Facts) rpmDBPath() (string, error) {
	for _, db := range rpmDBFiles {
		for _, dir := range rpmDBDirs {
			p := path.Join(dir, db.name)
			ok, err := IsRegular(f.guest, p)
			if err != nil {
				return "", err
			}
			if ok {
				return p, nil
			}
		}
	}
	return "", nil
}

// readRPM copies the rpm database out of the guest into a size-capped
// temporary file, because go-rpmdb opens host paths, and lists it.
func (f *Facts) readRPM() (*PackageDB, error) {
	p, err := f.rpmDBPath()
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, fmt.Errorf("no rpm database in /var/lib/rpm or /usr/lib/sysimage/rpm")
	}
	db := &PackageDB{Path: "/" + p}
	for _, d := range rpmDBFiles {
		if path.Base(p) == d.name {
			db.Format = d.format
		}
	}
	ents, err := ReadDir(f.guest, path.Dir(p))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "__db.") {
			db.EnvFiles = append(db.EnvFiles, "/"+path.Join(path.Dir(p), e.Name()))
		}
	}
	pkgs, err := f.listRPM(p)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", p, err)
	}
	db.Packages = pkgs
	return db, nil
}

// listRPM copies the database at guest path p to a temporary file and reads it.
func (f *Facts) listRPM(p string) (pkgs []*Package, err error) {
	src, err := f.guest.Open(p)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp("", "imgcheck-rpmdb-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(src, CapRPMDB+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if n > CapRPMDB {
		return nil, fmt.Errorf("rpm database larger than %d bytes: %w", CapRPMDB, fsinspect.ErrTooLarge)
	}
	if err := checkRPMBlobs(tmp.Name(), path.Base(p)); err != nil {
		return nil, err
	}
	rdb, err := rpmdb.Open(tmp.Name())
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	list, err := rdb.ListPackages()
	if err != nil {
		return nil, err
	}
	for _, pi := range list {
		v := pi.Version + "-" + pi.Release
		if pi.Epoch != nil && *pi.Epoch != 0 {
			v = strconv.Itoa(*pi.Epoch) + ":" + v
		}
		pkgs = append(pkgs, &Package{Name: pi.Name, Arch: pi.Arch, Version: v})
	}
	return pkgs, nil
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

// bdbValues walks a Berkeley DB hash database the way go-rpmdb reads it
// and returns the values (rpm header blobs). It rejects what would make
// that reader index out of range, spin on a page that is not an overflow
// page, or follow an overflow chain in a cycle: go-rpmdb reads in its own
// goroutine, where a panic or a loop cannot be recovered. Every overflow
// page may belong to one chain only.
func bdbValues(b []byte) ([][]byte, error) {
	if len(b) < 512 {
		return nil, fmt.Errorf("%w: %d bytes", errBDB, len(b))
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch {
	case order.Uint32(b[12:]) == bdbHashMagic:
	case binary.BigEndian.Uint32(b[12:]) == bdbHashMagic:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: not a hash database", errBDB)
	}
	ps := int(order.Uint32(b[20:]))
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("%w: page size %d", errBDB, ps)
	}
	pages := len(b) / ps
	last := int(order.Uint32(b[32:]))
	owned := make([]bool, pages)
	var values [][]byte
	for p := 0; p <= last && p < pages; p++ {
		page := b[p*ps : (p+1)*ps]
		if t := page[25]; t != bdbHashUnsorted && t != bdbHashPage {
			continue
		}
		entries := int(order.Uint16(page[20:]))
		if bdbPageHeader+2*entries > ps {
			return nil, fmt.Errorf("%w: page %d: %d entries", errBDB, p, entries)
		}
		for i := 1; i < entries; i += 2 {
			idx := int(order.Uint16(page[bdbPageHeader+2*i:]))
			if idx >= ps {
				return nil, fmt.Errorf("%w: page %d: item offset %d", errBDB, p, idx)
			}
			if page[idx] != bdbHashOffPage {
				continue
			}
			if idx+bdbHashOffSize > ps {
				return nil, fmt.Errorf("%w: page %d: item offset %d", errBDB, p, idx)
			}
			var v []byte
			for pg := int(order.Uint32(page[idx+4:])); pg != 0; {
				if pg >= pages || owned[pg] {
					return nil, fmt.Errorf("%w: overflow chain from page %d reaches page %d twice or outside the file", errBDB, p, pg)
				}
				owned[pg] = true
				op := b[pg*ps : (pg+1)*ps]
				if op[25] != bdbOverflow {
					return nil, fmt.Errorf("%w: page %d in an overflow chain has type %d", errBDB, pg, op[25])
				}
				next := int(order.Uint32(op[16:]))
				end := ps
				if next == 0 {
					end = bdbPageHeader + int(order.Uint16(op[22:]))
					if end > ps {
						return nil, fmt.Errorf("%w: overflow page %d: length past the page", errBDB, pg)
					}
				}
				v = append(v, op[bdbPageHeader:end]...)
				pg = next
			}
			values = append(values, v)
		}
	}
	return values, nil
}

// checkRPMBlobs reads the header blobs of the database file at host path p
// (a private temporary copy) and rejects those go-rpmdb cannot parse in
// bounded time. NDB databases are not pre-checked.
func checkRPMBlobs(p, name string) error {
	var blobs [][]byte
	switch name {
	case "Packages":
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if blobs, err = bdbValues(b); err != nil {
			return err
		}
	case "Packages.db":
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if blobs, err = ndbValues(b); err != nil {
			return err
		}
	case "rpmdb.sqlite":
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
			blobs = append(blobs, blob)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("rpm database: %w", err)
		}
	}
	for i, blob := range blobs {
		if err := checkHeaderBlob(blob); err != nil {
			return fmt.Errorf("rpm header %d: %w", i, err)
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

// ndbValues returns the header blobs of an NDB Packages.db. It rejects
// what go-rpmdb would print to stdout (a bad slot magic) or allocate
// without bound (a blob length past the end of the file).
func ndbValues(b []byte) ([][]byte, error) {
	le := binary.LittleEndian
	if len(b) < ndbHeaderSize || le.Uint32(b) != ndbHeaderMagic || le.Uint32(b[4:]) != 0 {
		return nil, fmt.Errorf("%w: bad header", errNDB)
	}
	pages := int(le.Uint32(b[12:]))
	if pages < 1 || pages > ndbMaxSlotPages {
		return nil, fmt.Errorf("%w: %d slot pages", errNDB, pages)
	}
	slots := pages*ndbSlotsPerPage - 2
	if ndbHeaderSize+slots*ndbEntrySize > len(b) {
		return nil, fmt.Errorf("%w: slot table past the end of the file", errNDB)
	}
	var values [][]byte
	for i := range slots {
		s := b[ndbHeaderSize+i*ndbEntrySize:]
		if le.Uint32(s) != ndbSlotMagic {
			return nil, fmt.Errorf("%w: slot %d: bad magic", errNDB, i)
		}
		pkg := le.Uint32(s[4:])
		if pkg == 0 {
			continue
		}
		off := int64(le.Uint32(s[8:])) * ndbEntrySize
		if off+ndbEntrySize > int64(len(b)) {
			return nil, fmt.Errorf("%w: slot %d: block past the end of the file", errNDB, i)
		}
		h := b[off:]
		n := int64(le.Uint32(h[12:]))
		if le.Uint32(h) != ndbBlobMagic || le.Uint32(h[4:]) != pkg || off+ndbEntrySize+n > int64(len(b)) {
			return nil, fmt.Errorf("%w: slot %d: bad blob header", errNDB, i)
		}
		values = append(values, h[ndbEntrySize:ndbEntrySize+n])
	}
	return values, nil
}
