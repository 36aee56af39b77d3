package sqlite

import (
	"fmt"
	"math"
	"unicode/utf16"
)

// varint decodes the SQLite variable-length integer at the start of b
// and returns it with its length, 0 if b ends inside it.
func varint(b []byte) (uint64, int) {
	var v uint64
	for i := range min(len(b), 9) {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// A payload reads a cell's payload in order: its bytes on the b-tree
// page, then those of its overflow pages.
type payload struct {
	w     *walk
	page  uint32 // the page read last
	local []byte // bytes of the page not read yet
	next  uint32 // the next overflow page, 0 at the end of the chain
	left  uint64 // payload bytes not read yet
}

// read fills b with the next len(b) bytes of the payload.
func (p *payload) read(b []byte) error {
	if uint64(len(b)) > p.left {
		return corrupt(p.page, "record runs past its payload")
	}
	for len(b) > 0 {
		if len(p.local) == 0 {
			if err := p.nextPage(); err != nil {
				return err
			}
		}
		n := copy(b, p.local)
		b, p.local = b[n:], p.local[n:]
		p.left -= uint64(n)
	}
	return nil
}

// nextPage reads the next overflow page of the chain.
func (p *payload) nextPage() error {
	if p.next == 0 {
		return corrupt(p.page, "overflow chain ends %d bytes short of the payload", p.left)
	}
	w := p.w
	if err := w.visit(p.next, p.page); err != nil {
		return err
	}
	if w.ovfl == nil {
		w.ovfl = make([]byte, w.f.pageSize)
	}
	if err := w.read(p.next, w.ovfl); err != nil {
		return err
	}
	p.page = p.next
	p.next = be.Uint32(w.ovfl)
	p.local = w.ovfl[4:w.f.usable]
	return nil
}

// varint reads a varint from the payload.
func (p *payload) varint() (uint64, error) {
	var b [9]byte
	for i := range b {
		if err := p.read(b[i : i+1]); err != nil {
			return 0, err
		}
		if b[i] < 0x80 {
			v, _ := varint(b[:i+1])
			return v, nil
		}
	}
	v, _ := varint(b[:])
	return v, nil
}

// record decodes the payload as a record: its header of serial types,
// then a value for each.
func (p *payload) record(f *File) ([]any, error) {
	start := p.left
	hsize, err := p.varint()
	if err != nil {
		return nil, err
	}
	if hsize > start {
		return nil, corrupt(p.page, "record header of %d bytes in a payload of %d", hsize, start)
	}
	var types []uint64
	for start-p.left < hsize {
		if len(types) == maxColumns {
			return nil, corrupt(p.page, "record of more than %d columns", maxColumns)
		}
		t, err := p.varint()
		if err != nil {
			return nil, err
		}
		types = append(types, t)
	}
	if start-p.left != hsize {
		return nil, corrupt(p.page, "record header runs past its size")
	}
	max := uint64(f.MaxValue)
	if max == 0 {
		max = DefaultMaxValue
	}
	values := make([]any, len(types))
	var buf [8]byte
	for i, t := range types {
		switch {
		case t == 0:
		case t <= 6:
			n := [...]int{1, 2, 3, 4, 6, 8}[t-1]
			if err := p.read(buf[:n]); err != nil {
				return nil, err
			}
			v := int64(int8(buf[0])) // sign from the first byte
			for _, c := range buf[1:n] {
				v = v<<8 | int64(c)
			}
			values[i] = v
		case t == 7:
			if err := p.read(buf[:]); err != nil {
				return nil, err
			}
			values[i] = math.Float64frombits(be.Uint64(buf[:]))
		case t == 8 || t == 9:
			values[i] = int64(t - 8)
		case t < 12:
			return nil, corrupt(p.page, "reserved serial type %d", t)
		default:
			n := (t - 12) / 2
			if n > max {
				return nil, fmt.Errorf("%w: a value of %d bytes, over %d", ErrTooLarge, n, max)
			}
			if n > p.left {
				return nil, corrupt(p.page, "value of %d bytes runs past its payload", n)
			}
			b := make([]byte, n)
			if err := p.read(b); err != nil {
				return nil, err
			}
			if t%2 == 0 {
				values[i] = b
			} else {
				values[i] = f.text(b)
			}
		}
	}
	return values, nil
}

// text converts a text value from the database's encoding.
func (f *File) text(b []byte) string {
	if f.utf16 == nil {
		return string(b)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = f.utf16.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
