package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// Hand-built databases of 512-byte pages: page 1 is the schema, with a
// table "t" rooted at page 2, and the other pages are the test's.
const synthPage = 512

// synth returns the database whose pages 2, 3, ... are pages.
func synth(pages ...[]byte) []byte {
	schema := record("table", "t", "t", int64(2), "CREATE TABLE t (a, b)")
	db := leafPage(headerSize, leafCell(1, schema, 0, uint64(len(schema))))
	h := db[:headerSize]
	copy(h, magic)
	binary.BigEndian.PutUint16(h[16:], synthPage)
	h[18], h[19], h[21], h[22], h[23] = 1, 1, 64, 32, 32
	binary.BigEndian.PutUint32(h[56:], 1)
	for _, p := range pages {
		db = append(db, p...)
	}
	return db
}

// pad makes db 12 pages long, with pages of zeros: room for its
// overflow chains.
func pad(db []byte) []byte { return append(db, make([]byte, 12*synthPage-len(db))...) }

// leafPage is a table leaf page with its header at hdr.
func leafPage(hdr int, cells ...[]byte) []byte { return btreePage(hdr, tableLeaf, 0, cells) }

// interiorPage is a table interior page (not page 1).
func interiorPage(right uint32, cells ...[]byte) []byte {
	return btreePage(0, tableInterior, right, cells)
}

func btreePage(hdr int, typ byte, right uint32, cells [][]byte) []byte {
	p := make([]byte, synthPage)
	p[hdr] = typ
	binary.BigEndian.PutUint16(p[hdr+3:], uint16(len(cells)))
	ptrs := hdr + 8
	if typ == tableInterior {
		binary.BigEndian.PutUint32(p[hdr+8:], right)
		ptrs += 4
	}
	end := synthPage
	for i, c := range cells {
		end -= len(c)
		copy(p[end:], c)
		binary.BigEndian.PutUint16(p[ptrs+2*i:], uint16(end))
	}
	binary.BigEndian.PutUint16(p[hdr+5:], uint16(end))
	return p
}

// leafCell is a table leaf cell of a payload of size bytes whose first
// bytes are local, followed by the overflow page number when size is
// larger.
func leafCell(rowid int64, local []byte, overflow uint32, size uint64) []byte {
	c := appendVarint(nil, size)
	c = appendVarint(c, uint64(rowid))
	c = append(c, local...)
	if size > uint64(len(local)) {
		c = binary.BigEndian.AppendUint32(c, overflow)
	}
	return c
}

// spill splits a payload of size bytes into what a leaf cell of a
// 512-byte page holds and what overflows (fileformat2: U=512, X=U-35,
// M=((U-12)*32/255)-23, K=M+((P-M)%(U-4))).
func spill[T int | uint64](size T) int {
	const u, x, m = 512, 512 - 35, (512-12)*32/255 - 23
	if size <= x {
		return int(size)
	}
	if k := m + (size-m)%(u-4); k <= x {
		return int(k)
	}
	return m
}

// interiorCell is a table interior cell.
func interiorCell(child uint32, key int64) []byte {
	return appendVarint(binary.BigEndian.AppendUint32(nil, child), uint64(key))
}

// overflowPage is an overflow page holding b, then next.
func overflowPage(next uint32, b []byte) []byte {
	p := make([]byte, synthPage)
	binary.BigEndian.PutUint32(p, next)
	copy(p[4:], b)
	return p
}

// appendVarint appends v as an SQLite varint.
func appendVarint(b []byte, v uint64) []byte {
	if v > 1<<56-1 {
		var t [9]byte
		t[8] = byte(v)
		v >>= 8
		for i := 7; i >= 0; i-- {
			t[i] = byte(v&0x7f) | 0x80
			v >>= 7
		}
		return append(b, t[:]...)
	}
	var t [8]byte
	i := len(t) - 1
	t[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		t[i] = byte(v&0x7f) | 0x80
	}
	return append(b, t[i:]...)
}

// record encodes values (string, int64 as 8 bytes, []byte) as a record.
func record(values ...any) []byte {
	var types, body []byte
	for _, v := range values {
		switch v := v.(type) {
		case string:
			types = appendVarint(types, uint64(13+2*len(v)))
			body = append(body, v...)
		case int64:
			types = appendVarint(types, 6)
			body = binary.BigEndian.AppendUint64(body, uint64(v))
		case []byte:
			types = appendVarint(types, uint64(12+2*len(v)))
			body = append(body, v...)
		}
	}
	return append(append(appendVarint(nil, uint64(len(types)+1)), types...), body...)
}

// readT reads the rows of table t of db.
func readT(db []byte, max int64) ([][]any, error) {
	f, err := NewFile(bytes.NewReader(db), int64(len(db)), nil, 0)
	if err != nil {
		return nil, err
	}
	f.MaxValue = max
	var rows [][]any
	err = f.Rows("t", func(_ int64, v []any) error {
		rows = append(rows, v)
		return nil
	})
	return rows, err
}

// TestSynthetic: a hand-built two-level tree with an overflowing row
// reads back as written.
func TestSynthetic(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 100)
	rec := record(int64(-2), big)
	k := spill(len(rec))
	rest := rec[k:]
	db := synth(
		interiorPage(4, interiorCell(3, 1)),
		leafPage(0, leafCell(1, record(int64(7), "seven"), 0, uint64(len(record(int64(7), "seven"))))),
		leafPage(0, leafCell(9, rec[:k], 5, uint64(len(rec)))),
		overflowPage(6, rest[:508]),
		overflowPage(0, rest[508:]),
	)
	rows, err := readT(db, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][0] != int64(7) || rows[0][1] != "seven" || rows[1][0] != int64(-2) || !bytes.Equal(rows[1][1].([]byte), big) {
		t.Errorf("rows %.80v", rows)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(b, off)
	c.n += int64(n)
	return n, err
}

// TestHostile: damaged and hostile databases give a clear error naming
// the page, never a panic, hang or a read of what a value over the cap
// would hold.
func TestHostile(t *testing.T) {
	var chain [][]byte // the 20 interior pages 2..21, then a leaf
	for p := uint32(3); p <= 22; p++ {
		chain = append(chain, interiorPage(p))
	}
	chain = append(chain, leafPage(0))
	big := record([]byte(strings.Repeat("x", 3000)))
	spilt := func(size int, first uint32) []byte { return leafCell(1, big[:spill(size)], first, uint64(size)) }
	badHeader := func(off int, v ...byte) []byte {
		db := synth(leafPage(0))
		copy(db[off:], v)
		return db
	}
	for _, c := range []struct {
		name string
		db   []byte
		max  int64
		want string
	}{
		{"bad magic", badHeader(0, 'X'), 0, "not an SQLite 3 database"},
		{"page size 1000", badHeader(16, 0x03, 0xe8), 0, "page size 1000"},
		{"page size 256", badHeader(16, 0x01, 0x00), 0, "page size 256"},
		{"reserved bytes leave < 480", badHeader(20, 40), 0, "40 reserved bytes"},
		{"payload fractions", badHeader(21, 65), 0, "payload fractions"},
		{"read version 3", badHeader(19, 3), 0, "read version 3"},
		{"truncated header", synth()[:99], 0, "shorter than the database header"},
		{"root page outside", synth(), 0, "page 1: table \"t\" has root page 2, outside the database"},
		{"cycle in the tree", synth(interiorPage(2)), 0, "page 2: points to page 2, met twice"},
		{"child outside", synth(interiorPage(0, interiorCell(77, 1))), 0, "page 2: points to page 77, outside the database"},
		{"too deep", synth(chain...), 0, "page 21: b-tree deeper than 20 levels"},
		{"not a b-tree page", synth(make([]byte, synthPage)), 0, "page 2: type 0x0, not a table b-tree page"},
		{"cells overflow the page", func() []byte {
			p := leafPage(0)
			binary.BigEndian.PutUint16(p[3:], 300)
			return synth(p)
		}(), 0, "page 2: 300 cells overflow the page"},
		{"cell pointer past the page", func() []byte {
			p := leafPage(0, leafCell(1, record("a"), 0, 3))
			binary.BigEndian.PutUint16(p[8:], 0xfff0)
			return synth(p)
		}(), 0, "page 2: cell 0 at offset 65520"},
		{"local payload past the page", synth(leafPage(0, leafCell(1, nil, 0, 400))), 0, "page 2: payload of 400 bytes runs past the page"},
		{"payload larger than the database", synth(leafPage(0, spilt(1<<40, 3))), 0, "page 2: payload of 1099511627776 bytes, more than the database holds"},
		{"payload of 2⁶⁴-1 bytes", pad(synth(leafPage(0, leafCell(1, big[:spill(uint64(1<<64-1))], 3, 1<<64-1)))), 0, "page 2: payload of 18446744073709551615 bytes, more than the database holds"},
		{"overflow chain loops", pad(synth(leafPage(0, spilt(len(big), 3)), overflowPage(3, big))), 0, "page 3: points to page 3, met twice"},
		{"overflow chain into the tree", pad(synth(leafPage(0, spilt(len(big), 2)))), 0, "page 2: points to page 2, met twice"},
		{"overflow chain ends early", pad(synth(leafPage(0, spilt(len(big), 3)), overflowPage(0, big))), 0, "page 3: overflow chain ends 2032 bytes short of the payload"},
		{"rowids out of order", synth(leafPage(0, leafCell(5, record("a"), 0, 3), leafCell(4, record("b"), 0, 3))), 0, "rowid 4 after 5"},
		{"header past the payload", synth(leafPage(0, leafCell(1, []byte{0x7f, 1, 1}, 0, 3))), 0, "record header of 127 bytes in a payload of 3"},
		{"value past the payload", synth(leafPage(0, leafCell(1, []byte{2, 0x7f}, 0, 2))), 0, "value of 57 bytes runs past its payload"},
		{"reserved serial type", synth(leafPage(0, leafCell(1, []byte{2, 10}, 0, 2))), 0, "reserved serial type 10"},
		{"value over MaxValue", pad(synth(leafPage(0, spilt(len(big), 3)), overflowPage(4, big))), 1000, "SQLite value too large: a value of 3000 bytes, over 1000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := readT(c.db, c.max)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("rows %.60v, error %v; want %q", rows, err, c.want)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, errors.ErrUnsupported) && !strings.Contains(err.Error(), "no table") {
				t.Errorf("error %v wraps none of the package's errors", err)
			}
			t.Log(err)
		})
	}
}

// TestMaxValueNotRead: a value over MaxValue is refused before its
// overflow pages are read.
func TestMaxValueNotRead(t *testing.T) {
	blob := bytes.Repeat([]byte{1}, 4*readAhead)
	rec := record(blob)
	k := spill(len(rec))
	pages := [][]byte{leafPage(0, leafCell(1, rec[:k], 3, uint64(len(rec))))}
	rest := rec[k:]
	for p := uint32(3); len(rest) > 0; p++ {
		n := min(len(rest), 508)
		next := p + 1
		if n == len(rest) {
			next = 0
		}
		pages = append(pages, overflowPage(next, rest[:n]))
		rest = rest[n:]
	}
	db := synth(pages...)
	if rows, err := readT(db, 0); err != nil || !bytes.Equal(rows[0][0].([]byte), blob) {
		t.Fatalf("without a cap: %v", err)
	}
	r := &countingReader{r: bytes.NewReader(db)}
	f, err := NewFile(r, int64(len(db)), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.MaxValue = 1000
	err = f.Rows("t", func(int64, []any) error { return nil })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if r.n > 4*synthPage {
		t.Errorf("%d bytes read for a refused value of %d bytes", r.n, len(blob))
	}
}
