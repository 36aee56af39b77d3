package facts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
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

// header builds an rpm header blob of the given entries, each a tag, a
// type and its data.
func header(entries ...any) []byte {
	var index, data []byte
	for i := 0; i < len(entries); i += 3 {
		index = binary.BigEndian.AppendUint32(index, uint32(entries[i].(int)))
		index = binary.BigEndian.AppendUint32(index, uint32(entries[i+1].(int)))
		index = binary.BigEndian.AppendUint32(index, uint32(len(data)))
		index = binary.BigEndian.AppendUint32(index, 1)
		data = append(data, entries[i+2].(string)...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(entries)/3))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(append(b, index...), data...)
}

func TestHeaderPackage(t *testing.T) {
	nevra := []any{rpmTagName, rpmString, "bash\x00", rpmTagVersion, rpmString, "5.1\x00",
		rpmTagRelease, rpmString, "2.el9\x00", rpmTagArch, rpmString, "x86_64\x00"}
	for _, c := range []struct {
		name string
		blob []byte
		want Package
	}{
		{"no epoch", header(nevra...), Package{Name: "bash", Arch: "x86_64", Version: "5.1-2.el9"}},
		{"epoch", header(append(nevra, rpmTagEpoch, rpmInt32, "\x00\x00\x00\x02")...), Package{Name: "bash", Arch: "x86_64", Version: "2:5.1-2.el9"}},
		{"epoch 0", header(append(nevra, rpmTagEpoch, rpmInt32, "\x00\x00\x00\x00")...), Package{Name: "bash", Arch: "x86_64", Version: "5.1-2.el9"}},
		{"no arch (gpg-pubkey)", header(nevra[:9]...), Package{Name: "bash", Version: "5.1-2.el9"}},
	} {
		p, err := headerPackage(c.blob)
		if err != nil || *p != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, p, err, c.want)
		}
	}
	truncated := header(nevra...)
	binary.BigEndian.PutUint32(truncated[4:], 1<<20)
	farOffset := header(nevra...)
	binary.BigEndian.PutUint32(farOffset[8+8:], 1000)
	for name, blob := range map[string][]byte{
		"short":               {0, 0, 0, 1},
		"no entries":          header(),
		"data past the end":   truncated,
		"offset past the end": farOffset,
		"unterminated":        header(rpmTagName, rpmString, "bash"),
		"name not a string":   header(rpmTagName, rpmInt32, "bash\x00"),
		"epoch not an int":    header(rpmTagEpoch, rpmString, "2\x00"),
		"epoch past the end":  header(rpmTagEpoch, rpmInt32, "\x00\x02"),
		"a million entries":   append(binary.BigEndian.AppendUint32(nil, 1<<20), make([]byte, 100)...),
	} {
		if _, err := headerPackage(blob); !errors.Is(err, errHeader) {
			t.Errorf("%s: err = %v, want errHeader", name, err)
		}
	}
}

// ndbImage builds an NDB Packages.db of the given slot pages: slot i
// names blob slots[i], and each blob is stored once, after the slot
// table, in 16-byte blocks.
func ndbImage(pages int, slots []int, blobs ...[]byte) []byte {
	le := binary.LittleEndian
	at := make([]int, len(blobs)) // block offset of each blob
	end := ndbHeaderSize + pages*4096 - 2*ndbEntrySize + ndbHeaderSize
	for i, blob := range blobs {
		at[i] = end
		end += (ndbEntrySize + len(blob) + ndbEntrySize - 1) / ndbEntrySize * ndbEntrySize
	}
	b := make([]byte, end)
	le.PutUint32(b, ndbHeaderMagic)
	le.PutUint32(b[12:], uint32(pages))
	for i := range pages*ndbSlotsPerPage - 2 {
		s := b[ndbHeaderSize+i*ndbEntrySize:]
		le.PutUint32(s, ndbSlotMagic)
		if i < len(slots) {
			le.PutUint32(s[4:], uint32(slots[i]+1))
			le.PutUint32(s[8:], uint32(at[slots[i]]/ndbEntrySize))
		}
	}
	for i, blob := range blobs {
		h := b[at[i]:]
		le.PutUint32(h, ndbBlobMagic)
		le.PutUint32(h[4:], uint32(i+1))
		le.PutUint32(h[12:], uint32(len(blob)))
		copy(h[ndbEntrySize:], blob)
	}
	return b
}

// TestRPMCaps: a database of more packages than maxPackages, or a header
// over maxRPMHeader, is an error saying the cap was reached.
func TestRPMCaps(t *testing.T) {
	bash := header(rpmTagName, rpmString, "bash\x00", rpmTagVersion, rpmString, "5.1\x00", rpmTagRelease, rpmString, "1\x00")
	pages := (maxPackages+2)/ndbSlotsPerPage + 1
	overflow := maxRPMHeader/(512-bdbPageHeader) + 2 // pages of a value over the cap
	for _, c := range []struct {
		name string
		db   []byte
		file string
		want string
	}{
		{"NDB of 10 packages", ndbImage(1, make([]int, 10), bash), "Packages.db", ""},
		{"NDB of too many packages", ndbImage(pages, make([]int, maxPackages+1), bash), "Packages.db", "more than 100000 packages, cap reached"},
		{"Berkeley DB value over the header cap", bdbImage(chain(2, 2+overflow), nil, 2+overflow), "Packages", "cap reached"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := fsinspect.NewGuest(fstest.MapFS{
				"etc/os-release":        fixtures.File("ID=rocky\n", 0o644),
				"var/lib/rpm/" + c.file: &fstest.MapFile{Data: c.db, Mode: 0o644},
			})
			db, err := New(g, Options{}).Packages()
			switch {
			case c.want == "" && (err != nil || len(db.Packages) != 10 || db.Packages[0].Version != "5.1-1"):
				t.Errorf("got %v, %v; want 10 packages of bash 5.1-1", db, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, fsinspect.ErrTooLarge)):
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// chain links overflow pages first..last-1 into one chain.
func chain(first, last int) map[int]int {
	next := map[int]int{}
	for pg := first; pg+1 < last; pg++ {
		next[pg] = pg + 1
	}
	return next
}

// FuzzRPMDatabase reads arbitrary bytes as each rpm database format: no
// panic, no hang, and no more packages than the bytes could hold.
func FuzzRPMDatabase(f *testing.F) {
	bash := header(rpmTagName, rpmString, "bash\x00", rpmTagVersion, rpmString, "5.1\x00", rpmTagRelease, rpmString, "1\x00",
		rpmTagEpoch, rpmInt32, "\x00\x00\x00\x01")
	f.Add(ndbImage(1, []int{0, 1, 0}, bash, bash[:20]))
	f.Add(bdbImage(map[int]int{2: 3}, nil, 4))
	f.Add(bash)
	f.Fuzz(func(t *testing.T, data []byte) {
		headerPackage(data)
		n := 0
		each := func(blob []byte) error {
			n++
			headerPackage(blob)
			return nil
		}
		bdbValues(bytes.NewReader(data), int64(len(data)), each)
		ndbValues(bytes.NewReader(data), int64(len(data)), each)
		if n > len(data)/4+1 { // a hash item (2 bytes) per key and per value
			t.Fatalf("%d values from %d bytes", n, len(data))
		}
	})
}
