package image_test

import (
	"encoding/binary"
	"os"
	"path/filepath"

	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// openVDI opens a VDI through the format table.
func openVDI(t testing.TB, path string, opts ...image.Option) *image.Image {
	t.Helper()
	img, err := image.OpenWithFormat(path, image.VDI, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func TestVDIMatchesQemuImg(t *testing.T) {
	disk := containerDisk(t)
	for _, tt := range []struct {
		name, subformat string
		options         []string
	}{
		{"dynamic", "dynamic", nil},
		{"static", "static", []string{"static=on"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := fixtures.MustConvert(t, disk, "vdi", tt.options...)
			img := openVDI(t, p)
			chain := img.Chain()
			if img.Format() != image.VDI || len(chain) != 2 || chain[1].Format != image.Raw {
				t.Fatalf("Chain() = %+v; want vdi then raw", chain)
			}
			if l := chain[0]; l.Subformat != tt.subformat || l.Detail != tt.subformat+", block 1 MiB" || l.Codec != "" || l.Path != p {
				t.Errorf("layer = %+v; want subformat %q", l, tt.subformat)
			}
			if a := img.Allocated(); a != dirBytes(t, filepath.Dir(p)) {
				t.Errorf("Allocated() = %d, want the file size %d", a, dirBytes(t, filepath.Dir(p)))
			}
			sameAsOracle(t, img, fixtures.MustQemuRaw(t, p))
		})
	}
}

func TestVDIHostile(t *testing.T) {
	raw := sampleRaw(t)
	dyn := fixtures.MustConvert(t, raw, "vdi")
	b, err := os.ReadFile(dyn)
	if err != nil {
		t.Fatal(err)
	}
	le32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	mapAt, dataAt, blocks := int64(le32(0x154)), int64(le32(0x158)), le32(0x180)
	// The first two allocated entries of the block map.
	var first, second int64 = -1, -1
	for i := range int64(blocks) {
		if e := le32(int(mapAt + 4*i)); e < 0xfffffffe {
			if first < 0 {
				first = mapAt + 4*i
			} else if second < 0 {
				second = mapAt + 4*i
			}
		}
	}
	if second < 0 {
		t.Fatal("fixture has fewer than two allocated blocks")
	}
	patch := func(fn func(b []byte)) string { return fixtures.MustCorrupt(t, dyn, fn) }
	put32 := func(off int64, v uint32) string {
		return patch(func(b []byte) { binary.LittleEndian.PutUint32(b[off:], v) })
	}
	must := fixtures.MustHostile(t)
	size := int64(len(b))
	runHostile(t, image.VDI, []hostileCase{
		{"cut in the header", must(fixtures.Truncated(dyn, 400)), image.ErrTruncated, "shorter than the 512-byte header", nil},
		{"cut in the block map", must(fixtures.Truncated(dyn, mapAt+4)), image.ErrTruncated, "block map at 0x", nil},
		{"cut in the data", must(fixtures.Truncated(dyn, dataAt+(size-dataAt)/2)), image.ErrTruncated, "block map points at data up to", nil},
		{"block map past EOF", put32(0x154, uint32(size)), image.ErrTruncated, "runs past end of file", nil},
		{"block map on the header", put32(0x154, 0x100), image.ErrFormat, "overlaps the header", nil},
		{"data on the block map", put32(0x158, uint32(mapAt)), image.ErrFormat, "overlaps the block map", nil},
		{"2^31 blocks", put32(0x180, 1<<31), image.ErrUnsupported, "the vdi-block-map limit", nil},
		{"2^31 blocks, no limit", put32(0x180, 1<<31), image.ErrTruncated, "runs past end of file", []image.Option{image.WithLimits(image.Limits{VDIBlockMapBytes: 1 << 40})}},
		{"disk of 2^60 bytes", patch(func(b []byte) { binary.LittleEndian.PutUint64(b[0x170:], 1<<60) }), image.ErrFormat, "does not fit in its", nil},
		{"blocks sharing data", patch(func(b []byte) { copy(b[second:second+4], b[first:first+4]) }), image.ErrFormat, "which another block uses too", nil},
		{"block past the allocated", put32(first, le32(0x184)), image.ErrFormat, "but only", nil},
		{"block size 2^31", put32(0x178, 1<<31), image.ErrUnsupported, "block size", nil},
		{"differencing", put32(0x4c, 4), image.ErrUnsupported, "differencing image", nil},
		{"linked to a parent", patch(func(b []byte) { b[0x1a8] = 1 }), image.ErrUnsupported, "differencing image", nil},
		{"version 1.2", put32(0x44, 0x00010002), image.ErrUnsupported, "version 1.2", nil},
		{"extra data per block", put32(0x17c, 512), image.ErrUnsupported, "extra data", nil},
	})
}
