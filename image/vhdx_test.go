package image_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"slices"
	"testing"
	"unicode/utf16"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/image"
)

// TestVHDXMatchesQemuImg converts a 5 GiB sparse disk holding an ext4
// filesystem to VHDX in each subformat qemu-img writes, and compares our
// whole virtual disk with qemu-img's raw conversion of the same file.
func TestVHDXMatchesQemuImg(t *testing.T) {
	disk := sparseDisk(t)
	tests := []struct {
		opts   []string
		sub    string
		detail string
	}{
		{[]string{"subformat=dynamic"}, "dynamic", "dynamic, block 16 MiB"},
		{[]string{"subformat=dynamic", "block_size=1M"}, "dynamic", "dynamic, block 1 MiB"},
		{[]string{"subformat=dynamic", "block_size=256M"}, "dynamic", "dynamic, block 256 MiB"},
		{[]string{"subformat=dynamic", "block_state_zero=off"}, "dynamic", "dynamic, block 16 MiB"},
		{[]string{"subformat=fixed"}, "fixed", "fixed, block 16 MiB"},
		{[]string{"subformat=fixed", "block_size=8M"}, "fixed", "fixed, block 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.opts), func(t *testing.T) {
			path := fixtures.MustConvert(t, disk, "vhdx", tt.opts...)
			img, referenced, err := image.OpenByTable(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			chain := img.Chain()
			if chain[0].Format != image.VHDX || chain[0].Subformat != tt.sub || chain[0].Detail != tt.detail {
				t.Errorf("layer %+v; want vhdx %q, %q", chain[0], tt.sub, tt.detail)
			}
			if referenced <= 0 || referenced > chain[0].FileSize {
				t.Errorf("Referenced = %d for a whole file of %d bytes", referenced, chain[0].FileSize)
			}
			ref := fixtures.MustQemuRaw(t, path)
			sameAsFile(t, img, ref)
			concurrentReads(t, img, ref)
		})
	}
}

// smallVHDX is sampleRaw as a dynamic VHDX in 1 MiB blocks: qemu-img
// puts the BAT at 2 MiB and the metadata at 3 MiB.
func smallVHDX(t testing.TB) string {
	return fixtures.MustConvert(t, sampleRaw(t), "vhdx", "subformat=dynamic", "block_size=1M")
}

// vhdxAt are the offsets of smallVHDX's structures the hostile cases
// patch.
const (
	vhdxHeader1, vhdxHeader2 = 64 << 10, 128 << 10
	vhdxRegions1             = 192 << 10
	vhdxRegions2             = 256 << 10
	vhdxBAT                  = 2 << 20
	vhdxMeta                 = 3 << 20
)

// setVHDXCRC recomputes the CRC-32C of a header or region table.
func setVHDXCRC(b []byte) {
	binary.LittleEndian.PutUint32(b[4:], 0)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// vhdxHeaderPatch patches the header at off and fixes its CRC.
func vhdxHeaderPatch(off int, patch func(h []byte)) func([]byte) {
	return func(b []byte) { h := b[off : off+4096]; patch(h); setVHDXCRC(h) }
}

// vhdxRegionPatch patches both region tables alike and fixes their CRCs.
func vhdxRegionPatch(patch func(r []byte)) func([]byte) {
	return func(b []byte) {
		for _, off := range []int{vhdxRegions1, vhdxRegions2} {
			r := b[off : off+64<<10]
			patch(r)
			setVHDXCRC(r)
		}
	}
}

// vhdxItem returns the metadata item id of b (by the first bytes of its
// GUID as stored).
func vhdxItem(t *testing.T, b []byte, id byte) []byte {
	table := b[vhdxMeta:]
	for i := range int(binary.LittleEndian.Uint16(table[10:])) {
		e := table[32+32*i:]
		if e[0] == id {
			return table[binary.LittleEndian.Uint32(e[16:]):]
		}
	}
	t.Fatalf("no metadata item %#x", id)
	return nil
}

// vhdxBATEntries returns smallVHDX's BAT entries.
func vhdxBATEntries(b []byte) []byte { return b[vhdxBAT : vhdxBAT+8*8] }

func TestVHDXHostile(t *testing.T) {
	path := smallVHDX(t)
	good := mustRead(t, path)
	if string(good[vhdxRegions1:vhdxRegions1+4]) != "regi" || binary.LittleEndian.Uint64(good[vhdxRegions1+16+16:]) != vhdxBAT {
		t.Fatalf("qemu-img's VHDX layout changed: BAT not at 0x%x", vhdxBAT)
	}
	seq := func(off int) uint64 { return binary.LittleEndian.Uint64(good[off+8:]) }
	newer, older := vhdxHeader1, vhdxHeader2
	if seq(vhdxHeader2) > seq(vhdxHeader1) {
		newer, older = older, newer
	}
	setLog := func(h []byte) { copy(h[48:64], "pending log GUID") }
	tests := []patchCase{
		{name: "newer header bad CRC", patch: func(b []byte) { b[newer+200] ^= 1 }},
		{name: "older header bad CRC", patch: func(b []byte) { b[older+200] ^= 1 }},
		{name: "both headers bad CRC", patch: func(b []byte) { b[newer+200] ^= 1; b[older+200] ^= 1 },
			sentinel: image.ErrChecksum, words: []string{"no valid header", "CRC-32C"}},
		{name: "log in the older header", patch: vhdxHeaderPatch(older, setLog)},
		{name: "log in the newer header", patch: vhdxHeaderPatch(newer, setLog),
			sentinel: image.ErrUnsupported, words: []string{"log", "replayed"}},
		{name: "older header made newest, with a log", patch: vhdxHeaderPatch(older, func(h []byte) {
			binary.LittleEndian.PutUint64(h[8:], max(seq(newer), seq(older))+1)
			setLog(h)
		}), sentinel: image.ErrUnsupported, words: []string{"log", "replayed"}},
		{name: "first region table bad CRC", patch: func(b []byte) { b[vhdxRegions1+1000] ^= 1 }},
		{name: "both region tables bad CRC", patch: func(b []byte) { b[vhdxRegions1+1000] ^= 1; b[vhdxRegions2+1000] ^= 1 },
			sentinel: image.ErrChecksum, words: []string{"region tables"}},
		{name: "BAT past EOF", patch: vhdxRegionPatch(func(r []byte) { binary.LittleEndian.PutUint64(r[16+16:], 1<<40) }),
			sentinel: image.ErrTruncated, words: []string{"BAT at 0x10000000000", "past end of file"}},
		{name: "unknown required region", patch: vhdxRegionPatch(func(r []byte) {
			e := r[16+32*2:]
			copy(e, "unknown region..")
			binary.LittleEndian.PutUint64(e[16:], 8<<20)
			binary.LittleEndian.PutUint32(e[24:], 1<<20)
			binary.LittleEndian.PutUint32(e[28:], 1)
			binary.LittleEndian.PutUint32(r[8:], 3)
		}), sentinel: image.ErrUnsupported, words: []string{"unknown required region"}},
		{name: "unknown optional region", patch: vhdxRegionPatch(func(r []byte) {
			e := r[16+32*2:]
			copy(e, "unknown region..")
			binary.LittleEndian.PutUint64(e[16:], 16<<20)
			binary.LittleEndian.PutUint32(e[24:], 1<<20)
			binary.LittleEndian.PutUint32(r[8:], 3)
		})},
		{name: "unknown required metadata item", patch: func(b []byte) {
			table := b[vhdxMeta:]
			n := binary.LittleEndian.Uint16(table[10:])
			e := table[32+32*int(n):]
			copy(e, "unknown item....")
			binary.LittleEndian.PutUint32(e[16:], 0x20000)
			binary.LittleEndian.PutUint32(e[20:], 8)
			binary.LittleEndian.PutUint32(e[24:], 4)
			binary.LittleEndian.PutUint16(table[10:], n+1)
		}, sentinel: image.ErrUnsupported, words: []string{"unknown required metadata item"}},
		{name: "BAT claiming 64 Mi entries and 16 Ki bitmaps", patch: func(b []byte) { binary.LittleEndian.PutUint64(vhdxItem(t, b, 0x24), 64<<40) },
			sentinel: image.ErrUnsupported, words: []string{"BAT of 67125247 entries", "vhdx-bat limit"}},
		{name: "BAT claiming 64 Mi entries and 16 Ki bitmaps, limit raised", patch: func(b []byte) { binary.LittleEndian.PutUint64(vhdxItem(t, b, 0x24), 64<<40) },
			limits: image.Limits{VHDXBATEntries: 1 << 30}, sentinel: image.ErrFormat, words: []string{"BAT region of 1048576 bytes cannot hold the 67125247 entries"}},
		{name: "BAT past EOF claiming 64 Mi entries, limit raised", patch: func(b []byte) {
			binary.LittleEndian.PutUint64(vhdxItem(t, b, 0x24), 64<<40)
			vhdxRegionPatch(func(r []byte) { binary.LittleEndian.PutUint32(r[16+24:], 1<<31) })(b)
		}, limits: image.Limits{VHDXBATEntries: 1 << 30}, sentinel: image.ErrTruncated, words: []string{"BAT at 0x200000 (0x2001fff8 bytes) runs past end of file"}},
		{name: "disk of 10^9 blocks", patch: func(b []byte) { binary.LittleEndian.PutUint64(vhdxItem(t, b, 0x24), 1e9<<20) },
			sentinel: image.ErrFormat, words: []string{"over the format's 64 TiB"}},
		{name: "4096-byte logical sectors", patch: func(b []byte) { binary.LittleEndian.PutUint32(vhdxItem(t, b, 0x1d), 4096) }},
		{name: "1000-byte logical sectors", patch: func(b []byte) { binary.LittleEndian.PutUint32(vhdxItem(t, b, 0x1d), 1000) },
			sentinel: image.ErrFormat, words: []string{"logical sector size 1000"}},
		{name: "block size 3 MiB", patch: func(b []byte) { binary.LittleEndian.PutUint32(vhdxItem(t, b, 0x37), 3<<20) },
			sentinel: image.ErrFormat, words: []string{"block size 3145728"}},
		{name: "overlapping blocks", patch: func(b []byte) { copy(vhdxBATEntries(b)[8:16], vhdxBATEntries(b)[:8]) },
			sentinel: image.ErrFormat, words: []string{"block 1 at file offset", "overlaps block 0"}},
		{name: "block on the metadata", patch: func(b []byte) { binary.LittleEndian.PutUint64(vhdxBATEntries(b), vhdxMeta|6) },
			sentinel: image.ErrFormat, words: []string{"block 0 at file offset 0x300000 overlaps metadata region"}},
		{name: "partially present block", patch: func(b []byte) { vhdxBATEntries(b)[0] |= 7 },
			sentinel: image.ErrFormat, words: []string{"partially present"}},
		{name: "block in unknown state", patch: func(b []byte) { vhdxBATEntries(b)[0] = vhdxBATEntries(b)[0]&^7 | 4 },
			sentinel: image.ErrFormat, words: []string{"unknown state 4"}},
		{name: "differencing disk", patch: func(b []byte) { vhdxItem(t, b, 0x37)[4] |= 2 },
			sentinel: image.ErrUnsupported, words: []string{"differencing disk", "no path in its parent locator"}},
		{name: "differencing disk with a parent locator", patch: func(b []byte) {
			vhdxItem(t, b, 0x37)[4] |= 2
			table := b[vhdxMeta:]
			n := binary.LittleEndian.Uint16(table[10:])
			e := table[32+32*int(n):]
			copy(e, []byte{0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c})
			loc := vhdxLocator(map[string]string{"parent_linkage": "{guid}", "relative_path": "..\\base\x1b[31m.vhdx"})
			binary.LittleEndian.PutUint32(e[16:], 0x20000)
			binary.LittleEndian.PutUint32(e[20:], uint32(len(loc)))
			binary.LittleEndian.PutUint32(e[24:], 4)
			binary.LittleEndian.PutUint16(table[10:], n+1)
			copy(table[0x20000:], loc)
		}, sentinel: image.ErrUnsupported, words: []string{`parent "..\\base\x1b[31m.vhdx"`}},
		{name: "BAT limit one under", limits: image.Limits{VHDXBATEntries: 7},
			sentinel: image.ErrUnsupported, words: []string{"BAT of 8 entries is over 7 (the vhdx-bat limit)"}},
		{name: "BAT limit met", limits: image.Limits{VHDXBATEntries: 8}},
	}
	ref := fixtures.MustQemuRaw(t, path)
	runPatchCases(t, image.VHDX, path, ref, tests)
}

// vhdxLocator builds a VHDX parent locator item holding kv.
func vhdxLocator(kv map[string]string) []byte {
	utf := func(s string) []byte {
		var b []byte
		for _, c := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, c)
		}
		return b
	}
	loc := make([]byte, 20+12*len(kv))
	copy(loc, []byte{0xb7, 0xef, 0x4a, 0xb0, 0x9e, 0xd1, 0x81, 0x4a, 0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13})
	binary.LittleEndian.PutUint16(loc[18:], uint16(len(kv)))
	i := 0
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		e := loc[20+12*i:]
		key, val := utf(k), utf(kv[k])
		binary.LittleEndian.PutUint32(e, uint32(len(loc)))
		binary.LittleEndian.PutUint32(e[4:], uint32(len(loc)+len(key)))
		binary.LittleEndian.PutUint16(e[8:], uint16(len(key)))
		binary.LittleEndian.PutUint16(e[10:], uint16(len(val)))
		loc = append(append(loc, key...), val...)
		i++
	}
	return loc
}

// TestVHDXTruncated cuts smallVHDX inside its header area, and inside its
// last data block: the first cannot open; the second opens, says how far
// its metadata reaches, and fails only reads of the cut block.
func TestVHDXTruncated(t *testing.T) {
	path := smallVHDX(t)
	must := fixtures.MustHostile(t)
	_, _, err := image.OpenByTable(must(fixtures.Truncated(path, 200<<10)))
	wantFormatError(t, err, image.VHDX, image.ErrTruncated, "shorter than the 1 MiB header area")

	size := int64(len(mustRead(t, path)))
	cut := must(fixtures.Truncated(path, size-512<<10))
	img, referenced, err := image.OpenByTable(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if referenced != size {
		t.Errorf("Referenced = %d; want the uncut file's %d bytes", referenced, size)
	}
	buf := make([]byte, 4096)
	if _, err := img.ReadAt(buf, 0); err != nil {
		t.Errorf("reading the first block: %v", err)
	}
	// The block stored last in the file is the one cut.
	var last, lastAt uint64
	for k, e := range slices.Collect(slices.Chunk(vhdxBATEntries(mustRead(t, path)), 8)) {
		if at := binary.LittleEndian.Uint64(e) >> 20; at > lastAt {
			last, lastAt = uint64(k), at
		}
	}
	_, err = img.ReadAt(buf, int64(last+1)<<20-4096)
	wantFormatError(t, err, image.VHDX, image.ErrTruncated, "runs past end of file")
}

// TestVHDXAndVHDHoldExt4 reads the GPT and then files of the ext4
// filesystem through a dynamic VHDX and a dynamic VHD, as a scan does.
func TestVHDXAndVHDHoldExt4(t *testing.T) {
	disk := sparseDisk(t)
	for _, path := range []string{
		fixtures.MustConvert(t, disk, "vhdx", "subformat=dynamic"),
		fixtures.MustConvert(t, disk, "vpc", "subformat=dynamic"),
	} {
		img, _, err := image.OpenByTable(path)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		tab, err := image.ReadTable(img, img.Size())
		if err != nil {
			t.Fatalf("%s: %v", img.Format(), err)
		}
		if tab.Scheme != image.GPT || len(tab.Partitions) != 1 {
			t.Fatalf("%s: table %v with %d partitions; want one GPT partition", img.Format(), tab.Scheme, len(tab.Partitions))
		}
		p := tab.Partitions[0]
		fsys, err := ext4.New(&p, p.Size)
		if err != nil {
			t.Fatalf("%s: %v", img.Format(), err)
		}
		for name, f := range sampleTree() {
			got, err := fs.ReadFile(fsys, name)
			if err != nil || !bytes.Equal(got, f.Data) {
				t.Errorf("%s: %s: %d bytes, %v; want the %d bytes written", img.Format(), name, len(got), err, len(f.Data))
			}
		}
	}
}

// TestVHDXOpenReads counts the host reads of opening a VHDX: detection's
// head (and the fixed VHD footer probe), then one read each for the
// header area, the metadata and the BAT, so that a remote object opens in
// a few round trips.
func TestVHDXOpenReads(t *testing.T) {
	img, _, err := image.OpenByTable(smallVHDX(t))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if st := img.Stats(); st.ReadCalls > 5 || st.BytesRead > 1<<20 {
		t.Errorf("opening read %d bytes in %d calls; want at most 5 calls and 1 MiB", st.BytesRead, st.ReadCalls)
	}
}
