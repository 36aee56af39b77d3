package image_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// qemu-img cannot write a differencing VHDX, so the tests make one from
// two dynamic VHDX files it wrote, parent and child, of 8 MiB in 1 MiB
// blocks with every block present: the child gets the has-parent flag, a
// parent locator, a sector bitmap block appended to it and BAT states
// that send blocks to the parent. The expected disk is computed from the
// two raw sources.

const (
	diffBlock  = 1 << 20
	diffBlocks = 8
	diffSector = 512
)

// diffSources writes the parent's and the child's raw disks, a word
// repeated over 8 MiB each, and returns their paths and bytes.
func diffSources(t *testing.T) (parentRaw, childRaw string, a, b []byte) {
	dir := t.TempDir()
	a = bytes.Repeat([]byte("parent! "), diffBlocks*diffBlock/8)
	b = bytes.Repeat([]byte("child.. "), diffBlocks*diffBlock/8)
	parentRaw, childRaw = filepath.Join(dir, "a.raw"), filepath.Join(dir, "b.raw")
	writeHost(t, parentRaw, a)
	writeHost(t, childRaw, b)
	return parentRaw, childRaw, a, b
}

// dataWriteGUID returns the data write GUID of the current header of a
// VHDX file, as parent_linkage writes it.
func dataWriteGUID(v []byte) string {
	h := v[vhdxHeader1:]
	if binary.LittleEndian.Uint64(v[vhdxHeader2+8:]) > binary.LittleEndian.Uint64(h[8:]) {
		h = v[vhdxHeader2:]
	}
	g := h[32:48]
	return fmt.Sprintf("{%08X-%04X-%04X-%X-%X}", binary.LittleEndian.Uint32(g), binary.LittleEndian.Uint16(g[4:]), binary.LittleEndian.Uint16(g[6:]), g[8:10], g[10:])
}

// makeDifferencing turns the child VHDX c into a differencing disk whose
// parent locator holds loc: block 0 not present (from the parent),
// blocks 2 zero and 5 undefined (zeros), block 3 partially present with
// sectors 0-1023 and 1056-1059 from the child. It returns the new file.
func makeDifferencing(t *testing.T, c []byte, loc map[string]string) []byte {
	c = bytes.Clone(c)
	vhdxItem(t, c, 0x37)[4] |= 2 // has parent
	table := c[vhdxMeta:]
	n := binary.LittleEndian.Uint16(table[10:])
	e := table[32+32*int(n):]
	copy(e, []byte{0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c})
	item := vhdxLocator(loc)
	binary.LittleEndian.PutUint32(e[16:], 0x20000)
	binary.LittleEndian.PutUint32(e[20:], uint32(len(item)))
	binary.LittleEndian.PutUint32(e[24:], 4)
	binary.LittleEndian.PutUint16(table[10:], n+1)
	copy(table[0x20000:], item)

	bitmapAt := uint64(len(c))
	bitmap := make([]byte, 1<<20)
	first := 3 * diffBlock / diffSector // block 3's first bit
	for s := range 1024 {
		bitmap[(first+s)/8] |= 1 << ((first + s) % 8)
	}
	for s := 1056; s < 1060; s++ {
		bitmap[(first+s)/8] |= 1 << ((first + s) % 8)
	}
	c = append(c, bitmap...)
	bat := c[vhdxBAT:]
	state := func(k int, s uint64) {
		v := binary.LittleEndian.Uint64(bat[8*k:])
		binary.LittleEndian.PutUint64(bat[8*k:], v&^7|s)
	}
	state(0, 0)
	state(2, 2)
	state(3, 7)
	state(5, 1)
	binary.LittleEndian.PutUint64(bat[8*4096:], bitmapAt|6) // chunk 0's bitmap
	return c
}

// diffExpected is the disk makeDifferencing describes, from the raw
// sources a (parent) and b (child).
func diffExpected(a, b []byte) []byte {
	want := bytes.Clone(b)
	blk := func(k int) (int, int) { return k * diffBlock, (k + 1) * diffBlock }
	lo, hi := blk(0)
	copy(want[lo:hi], a[lo:hi])
	for _, k := range []int{2, 5} {
		lo, hi := blk(k)
		clear(want[lo:hi])
	}
	lo, _ = blk(3)
	for s := 0; s < diffBlock/diffSector; s++ {
		if !(s < 1024 || s >= 1056 && s < 1060) {
			copy(want[lo+s*diffSector:lo+(s+1)*diffSector], a[lo+s*diffSector:])
		}
	}
	return want
}

func TestVHDXDifferencing(t *testing.T) {
	parentRaw, childRaw, a, b := diffSources(t)
	parent := mustRead(t, fixtures.MustConvert(t, parentRaw, "vhdx", "subformat=dynamic", "block_size=1M"))
	child := mustRead(t, fixtures.MustConvert(t, childRaw, "vhdx", "subformat=dynamic", "block_size=1M"))
	linkage := dataWriteGUID(parent)
	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "parent.vhdx"), parent)
	childPath := filepath.Join(dir, "child.vhdx")
	writeHost(t, childPath, makeDifferencing(t, child, map[string]string{"parent_linkage": linkage, "relative_path": `.\parent.vhdx`}))

	_, _, err := image.OpenByTable(childPath)
	wantFormatError(t, err, image.VHDX, image.ErrUnsupported, `differencing disk with parent ".\\parent.vhdx"; pass --allow-backing`)

	img, _, err := image.OpenByTable(childPath, image.WithBacking(true))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	chain := img.Chain()
	if len(chain) != 3 || chain[0].Subformat != "differencing" || !chain[1].Backing || chain[1].Format != image.VHDX || chain[2].Format != image.Raw {
		t.Errorf("chain %+v; want differencing vhdx, backing vhdx, raw", chain)
	}
	if got, want := readAll(t, img), diffExpected(a, b); !bytes.Equal(got, want) {
		t.Errorf("differencing disk: %s", firstDiff(got, want))
	}
}

func TestVHDXDifferencingRefused(t *testing.T) {
	parentRaw, childRaw, _, _ := diffSources(t)
	parent := mustRead(t, fixtures.MustConvert(t, parentRaw, "vhdx", "subformat=dynamic", "block_size=1M"))
	child := mustRead(t, fixtures.MustConvert(t, childRaw, "vhdx", "subformat=dynamic", "block_size=1M"))
	linkage := dataWriteGUID(parent)
	top := t.TempDir()
	writeHost(t, filepath.Join(top, "parent.vhdx"), parent)
	writeHost(t, filepath.Join(top, "raw.img"), bytes.Repeat([]byte{1}, 8<<20))
	dir := filepath.Join(top, "images")
	writeHost(t, filepath.Join(dir, "parent.vhdx"), parent)
	if err := os.Symlink(filepath.Join(top, "parent.vhdx"), filepath.Join(dir, "link.vhdx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(top, "raw.img"), filepath.Join(dir, "raw.vhdx")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		loc      map[string]string
		sentinel error
		words    []string
	}{
		{"outside", map[string]string{"parent_linkage": linkage, "relative_path": `..\parent.vhdx`}, image.ErrUnsupported, []string{"outside the image's directory"}},
		{"absolute only", map[string]string{"parent_linkage": linkage, "absolute_win32_path": `C:\vms\parent.vhdx`}, image.ErrUnsupported, []string{`"C:\\vms\\parent.vhdx"`, "no relative path"}},
		{"symlink out", map[string]string{"parent_linkage": linkage, "relative_path": `link.vhdx`}, image.ErrUnsupported, []string{"symbolic link"}},
		{"missing", map[string]string{"parent_linkage": linkage, "relative_path": `gone.vhdx`}, image.ErrUnsupported, []string{"gone.vhdx"}},
		{"no linkage", map[string]string{"relative_path": `parent.vhdx`}, image.ErrUnsupported, []string{"no parent_linkage"}},
		{"changed parent", map[string]string{"parent_linkage": "{00000000-0000-0000-0000-000000000001}", "relative_path": `parent.vhdx`}, image.ErrFormat, []string{"has changed since its child was made"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".vhdx")
			writeHost(t, p, makeDifferencing(t, child, tt.loc))
			_, _, err := image.OpenByTable(p, image.WithBacking(true))
			wantFormatError(t, err, image.VHDX, tt.sentinel, tt.words...)
		})
	}
}

// TestVHDXDifferencingChain reads a differencing disk whose parent is
// itself differencing, under backing-depth limits of 1 and 2.
func TestVHDXDifferencingChain(t *testing.T) {
	baseRaw, midRaw, a, b := diffSources(t)
	c := bytes.Repeat([]byte("top.... "), diffBlocks*diffBlock/8)
	topRaw := filepath.Join(t.TempDir(), "c.raw")
	writeHost(t, topRaw, c)
	convert := func(raw string) []byte {
		return mustRead(t, fixtures.MustConvert(t, raw, "vhdx", "subformat=dynamic", "block_size=1M"))
	}
	base, mid, top := convert(baseRaw), convert(midRaw), convert(topRaw)
	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "base.vhdx"), base)
	writeHost(t, filepath.Join(dir, "mid.vhdx"), makeDifferencing(t, mid, map[string]string{"parent_linkage": dataWriteGUID(base), "relative_path": "base.vhdx"}))
	topPath := filepath.Join(dir, "top.vhdx")
	writeHost(t, topPath, makeDifferencing(t, top, map[string]string{"parent_linkage": dataWriteGUID(mid), "relative_path": "mid.vhdx"}))

	_, _, err := image.OpenByTable(topPath, image.WithBacking(true), image.WithLimits(image.Limits{BackingDepth: 1}))
	wantFormatError(t, err, image.VHDX, image.ErrUnsupported, `parent "base.vhdx"`, "(the backing-depth limit)")

	img, _, err := image.OpenByTable(topPath, image.WithBacking(true), image.WithLimits(image.Limits{BackingDepth: 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if n := len(img.Chain()); n != 4 {
		t.Errorf("chain of %d layers; want top, mid, base, raw", n)
	}
	if got, want := readAll(t, img), diffExpected(diffExpected(a, b), c); !bytes.Equal(got, want) {
		t.Errorf("two-level differencing disk: %s", firstDiff(got, want))
	}
}
