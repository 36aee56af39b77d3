package sqlite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// synthWAL is a write-ahead log for a database of 512-byte pages: one
// commit replacing pages by number (in order of the slice), the database
// then commit pages long.
func synthWAL(commit uint32, pages ...[]byte) []byte {
	le := binary.LittleEndian
	w := binary.BigEndian.AppendUint32(nil, walMagicLE)
	for _, v := range []uint32{walVersion, synthPage, 0, 0x11111111, 0x22222222} {
		w = binary.BigEndian.AppendUint32(w, v)
	}
	s0, s1 := walChecksum(le, 0, 0, w)
	w = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(w, s0), s1)
	for i, p := range pages {
		n := uint32(p[0])<<8 | uint32(p[1]) // page number, kept in the first two bytes of p
		frame := binary.BigEndian.AppendUint32(nil, n)
		c := uint32(0)
		if i == len(pages)-1 {
			c = commit
		}
		frame = binary.BigEndian.AppendUint32(frame, c)
		frame = append(frame, w[16:24]...)
		s0, s1 = walChecksum(le, s0, s1, frame[:8])
		s0, s1 = walChecksum(le, s0, s1, p[2:])
		frame = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(frame, s0), s1)
		w = append(append(w, frame...), p[2:]...)
	}
	return w
}

// walPage prefixes page p with its page number n, for synthWAL.
func walPage(n uint16, p []byte) []byte { return append([]byte{byte(n >> 8), byte(n)}, p...) }

// FuzzFile reads every table of arbitrary databases and logs: no panic,
// no hang, no allocation beyond what the input and MaxValue allow.
func FuzzFile(f *testing.F) {
	big := record(bytes.Repeat([]byte{7}, 1200))
	k := spill(len(big))
	db := pad(synth(interiorPage(4, interiorCell(3, 1)), leafPage(0, leafCell(1, record("a"), 0, 3)),
		leafPage(0, leafCell(2, big[:k], 5, uint64(len(big)))), overflowPage(6, big[k:]), overflowPage(0, big[k+508:])))
	f.Add(db, []byte(nil))
	f.Add(db, synthWAL(13, walPage(3, leafPage(0, leafCell(1, record("b", int64(9)), 0, 12))), walPage(13, leafPage(0))))
	f.Fuzz(func(t *testing.T, db, log []byte) {
		var w io.ReaderAt
		if log != nil {
			w = bytes.NewReader(log)
		}
		file, err := NewFile(bytes.NewReader(db), int64(len(db)), w, int64(len(log)))
		if err != nil {
			return
		}
		file.MaxValue = 1 << 16
		var tables []string
		file.Rows("sqlite_schema", func(_ int64, v []any) error {
			if len(v) > 1 && v[0] == "table" {
				if name, ok := v[1].(string); ok {
					tables = append(tables, name)
				}
			}
			return nil
		})
		for _, name := range tables {
			file.Rows(name, func(int64, []any) error { return nil })
		}
	})
}

// TestSyntheticWAL: the fuzz seed's log is applied: its commit replaces
// the first leaf and adds page 13 to the database.
func TestSyntheticWAL(t *testing.T) {
	db := pad(synth(interiorPage(4, interiorCell(3, 1)), leafPage(0, leafCell(1, record("a"), 0, 3)), leafPage(0)))
	wal := synthWAL(13, walPage(3, leafPage(0, leafCell(1, record("b", int64(9)), 0, 12))), walPage(13, leafPage(0)))
	for _, c := range []struct {
		wal  []byte
		want string
	}{{nil, "[[a]]"}, {wal, "[[b 9]]"}, {wal[:len(wal)-1], "[[a]]"}} {
		var w io.ReaderAt
		if c.wal != nil {
			w = bytes.NewReader(c.wal)
		}
		f, err := NewFile(bytes.NewReader(db), int64(len(db)), w, int64(len(c.wal)))
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]any
		if err := f.Rows("t", func(_ int64, v []any) error { rows = append(rows, v); return nil }); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(rows); got != c.want || (c.want == "[[b 9]]") != (f.pages == 13) {
			t.Errorf("log of %d bytes: rows %s, %d pages; want %s", len(c.wal), got, f.pages, c.want)
		}
	}
}
