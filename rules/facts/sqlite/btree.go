package sqlite

import (
	"errors"
	"fmt"
	"strings"
)

// Table b-tree page types.
const (
	tableInterior = 0x05
	tableLeaf     = 0x0d
)

// maxDepth bounds a table b-tree's depth, as SQLite's own cursors do.
const maxDepth = 20

// maxColumns bounds the columns of a record (SQLite's own hard limit).
const maxColumns = 32767

// Rows calls each with the rowid and the column values of every row of
// the named table (its name as in sqlite_schema, in any case), one row at
// a time in rowid order. A value is nil (NULL), an int64, a float64, a
// string (text) or a []byte (blob), which each may keep. A column that is
// the table's INTEGER PRIMARY KEY reads as NULL: its value is the rowid.
// A row written before an ALTER TABLE ADD COLUMN has fewer values than
// the table has columns. An error from each ends the walk and is
// returned.
func (f *File) Rows(table string, each func(rowid int64, values []any) error) error {
	root := uint32(1)
	if !strings.EqualFold(table, "sqlite_schema") && !strings.EqualFold(table, "sqlite_master") {
		var err error
		if root, err = f.rootPage(table); err != nil {
			return err
		}
	}
	return f.walk(root, each)
}

// rootPage returns the root page of the named table.
func (f *File) rootPage(table string) (uint32, error) {
	var root int64
	found := false
	err := f.walk(1, func(_ int64, v []any) error {
		if len(v) < 4 || found {
			return nil
		}
		typ, _ := v[0].(string)
		name, _ := v[1].(string)
		if typ != "table" || !strings.EqualFold(name, table) {
			return nil
		}
		found = true
		root, _ = v[3].(int64)
		return nil
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("schema: %w", err)
	case !found:
		return 0, fmt.Errorf("sqlite: no table %q", table)
	case root < 1 || root > int64(f.pages):
		return 0, corrupt(1, "table %q has root page %d, outside the database", table, root)
	}
	return uint32(root), nil
}

// A walk is the state of one table walk: the pages it has met and its
// buffers.
type walk struct {
	f       *File
	seen    []uint64 // bit set of pages met
	levels  [][]byte // one page buffer per depth
	ovfl    []byte
	win     window
	each    func(int64, []any) error
	last    int64 // rowid of the previous row
	started bool
}

// walk calls each for the rows of the table b-tree rooted at page root.
func (f *File) walk(root uint32, each func(int64, []any) error) error {
	w := &walk{f: f, seen: make([]uint64, f.pages/64+1), each: each}
	return w.page(root, root, 0)
}

// visit records page n as met; meeting it again is an error.
func (w *walk) visit(n, from uint32) error {
	if n == 0 || n > w.f.pages {
		return corrupt(from, "points to page %d, outside the database (%d pages)", n, w.f.pages)
	}
	if w.seen[n/64]&(1<<(n%64)) != 0 {
		return corrupt(from, "points to page %d, met twice", n)
	}
	w.seen[n/64] |= 1 << (n % 64)
	return nil
}

// page walks the subtree at page n, a child of page parent, depth levels
// below the root.
func (w *walk) page(n, parent uint32, depth int) error {
	if depth == maxDepth {
		return corrupt(parent, "b-tree deeper than %d levels", maxDepth)
	}
	if err := w.visit(n, parent); err != nil {
		return err
	}
	if len(w.levels) == depth {
		w.levels = append(w.levels, make([]byte, w.f.pageSize))
	}
	b := w.levels[depth]
	if err := w.read(n, b); err != nil {
		return err
	}
	b = b[:w.f.usable]
	hdr := 0
	if n == 1 {
		hdr = headerSize
	}
	typ := b[hdr]
	ptrs := hdr + 8
	switch typ {
	case tableLeaf:
	case tableInterior:
		ptrs = hdr + 12
	case 0x02, 0x0a:
		return fmt.Errorf("%w: page %d: an index b-tree page (WITHOUT ROWID table?)", errors.ErrUnsupported, n)
	default:
		return corrupt(n, "type %#x, not a table b-tree page", typ)
	}
	cells := int(be.Uint16(b[hdr+3:]))
	end := ptrs + 2*cells
	if end > len(b) {
		return corrupt(n, "%d cells overflow the page", cells)
	}
	for i := range cells {
		off := int(be.Uint16(b[ptrs+2*i:]))
		if off < end || off >= len(b) {
			return corrupt(n, "cell %d at offset %d, outside the cell content area", i, off)
		}
		var err error
		if typ == tableLeaf {
			err = w.leafCell(n, b, off)
		} else {
			err = w.interiorCell(n, b, off, depth)
		}
		if err != nil {
			return err
		}
	}
	if typ == tableInterior {
		return w.page(be.Uint32(b[hdr+8:]), n, depth+1)
	}
	return nil
}

// interiorCell walks the left child of the interior cell at off of page n.
func (w *walk) interiorCell(n uint32, b []byte, off, depth int) error {
	if off+4 > len(b) {
		return corrupt(n, "cell at offset %d runs past the page", off)
	}
	if _, k := varint(b[off+4:]); k == 0 {
		return corrupt(n, "cell at offset %d runs past the page", off)
	}
	return w.page(be.Uint32(b[off:]), n, depth+1)
}

// leafCell decodes the row in the leaf cell at off of page n and hands
// it to each.
func (w *walk) leafCell(n uint32, b []byte, off int) error {
	size, k := varint(b[off:])
	if k == 0 {
		return corrupt(n, "cell at offset %d runs past the page", off)
	}
	off += k
	u, k := varint(b[off:])
	if k == 0 {
		return corrupt(n, "cell at offset %d runs past the page", off)
	}
	off += k
	rowid := int64(u)
	if w.started && rowid <= w.last {
		return corrupt(n, "rowid %d after %d, out of order", rowid, w.last)
	}
	w.started, w.last = true, rowid
	p, err := w.payload(n, b[off:], size)
	if err != nil {
		return err
	}
	values, err := p.record(w.f)
	if err != nil {
		return fmt.Errorf("row %d: %w", rowid, err)
	}
	return w.each(rowid, values)
}

// payload returns a reader of the payload of size bytes that starts
// with cell, the rest of a leaf cell of page n.
func (w *walk) payload(n uint32, cell []byte, size uint64) (*payload, error) {
	u := uint64(w.f.usable)
	x := u - 35
	if size <= x {
		if size > uint64(len(cell)) {
			return nil, corrupt(n, "payload of %d bytes runs past the page", size)
		}
		return &payload{w: w, page: n, local: cell[:size], left: size}, nil
	}
	m := (u-12)*32/255 - 23
	local := m + (size-m)%(u-4)
	if local > x {
		local = m
	}
	if local+4 > uint64(len(cell)) {
		return nil, corrupt(n, "payload of %d bytes runs past the page", size)
	}
	if (size-local-1)/(u-4) >= uint64(w.f.pages) { // more overflow pages than the database has
		return nil, corrupt(n, "payload of %d bytes, more than the database holds", size)
	}
	return &payload{w: w, page: n, local: cell[:local], next: be.Uint32(cell[local:]), left: size}, nil
}
