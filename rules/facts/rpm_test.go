package facts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// bdbImage builds a little-endian Berkeley DB hash database of 512-byte
// pages: page 0 metadata, page 1 a hash page with one HOFFPAGE item
// pointing at page 2, then overflow pages linked by next.
func bdbImage(next map[int]int, types map[int]byte, pages int) []byte {
	const ps = 512
	b := make([]byte, ps*pages)
	le := binary.LittleEndian
	le.PutUint32(b[12:], bdbHashMagic)
	le.PutUint32(b[20:], ps)
	b[25] = 8
	le.PutUint32(b[32:], uint32(pages-1))
	hp := b[ps : 2*ps]
	hp[25] = bdbHashPage
	le.PutUint16(hp[20:], 2)                // one key/value pair
	le.PutUint16(hp[bdbPageHeader+2:], 400) // the value item
	hp[400] = bdbHashOffPage
	le.PutUint32(hp[404:], 2)
	for pg := 2; pg < pages; pg++ {
		p := b[pg*ps : (pg+1)*ps]
		p[25] = bdbOverflow
		if t, ok := types[pg]; ok {
			p[25] = t
		}
		le.PutUint32(p[16:], uint32(next[pg]))
		le.PutUint16(p[22:], 10)
		copy(p[bdbPageHeader:], "0123456789")
	}
	return b
}

// collectBDB returns the values bdbValues finds in b.
func collectBDB(b []byte) ([][]byte, error) {
	var v [][]byte
	err := bdbValues(bytes.NewReader(b), int64(len(b)), func(value []byte) error {
		v = append(v, value)
		return nil
	})
	return v, err
}

func TestBDBValues(t *testing.T) {
	v, err := collectBDB(bdbImage(map[int]int{2: 3}, nil, 4))
	if err != nil || len(v) != 1 || len(v[0]) != 512-bdbPageHeader+10 {
		t.Fatalf("valid chain: %d values, err %v", len(v), err)
	}
	for name, img := range map[string][]byte{
		"cycle":            bdbImage(map[int]int{2: 3, 3: 2}, nil, 4),
		"outside the file": bdbImage(map[int]int{2: 9}, nil, 4),
		"not overflow":     bdbImage(map[int]int{2: 3}, map[int]byte{3: bdbHashPage}, 4),
		"truncated":        make([]byte, 100),
	} {
		if _, err := collectBDB(img); !errors.Is(err, errBDB) {
			t.Errorf("%s: err = %v, want errBDB", name, err)
		}
	}
}

func TestCheckHeaderBlob(t *testing.T) {
	blob := func(typ, count uint32, data string) []byte {
		b := make([]byte, rpmHeaderPreface+rpmHeaderEntry)
		binary.BigEndian.PutUint32(b, 1)
		binary.BigEndian.PutUint32(b[4:], uint32(len(data)))
		binary.BigEndian.PutUint32(b[8:], 1000) // tag
		binary.BigEndian.PutUint32(b[12:], typ)
		binary.BigEndian.PutUint32(b[20:], count)
		return append(b, data...)
	}
	if err := checkHeaderBlob(blob(rpmStringArray, 2, "ab\x00cd\x00")); err != nil {
		t.Errorf("two strings: %v", err)
	}
	if err := checkHeaderBlob(blob(rpmStringArray, 4000000000, "ab\x00cd\x00")); err == nil {
		t.Error("4e9 strings in 6 bytes accepted")
	}
	if err := checkHeaderBlob(blob(rpmString, 1, "abc")); err == nil {
		t.Error("unterminated string accepted")
	}
	big := blob(4, 1, "abcd")
	binary.BigEndian.PutUint32(big, 1<<20)
	if err := checkHeaderBlob(big); err == nil {
		t.Error("a million tags accepted")
	}
}
