package image_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// tinyVDI builds a dynamic VDI by hand with blocks of 512 bytes: eight
// blocks, two of them allocated (out of order) and one zero.
func tinyVDI() []byte {
	b := make([]byte, 512+512)
	copy(b, "<<< Oracle VM VirtualBox Disk Image >>>\n")
	le32 := func(off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
	le32(0x40, 0xbeda107f)
	le32(0x44, 0x00010001)
	le32(0x48, 0x190)
	le32(0x4c, 1)
	le32(0x154, 512)  // block map
	le32(0x158, 1024) // data
	le32(0x168, 512)
	binary.LittleEndian.PutUint64(b[0x170:], 8*512)
	le32(0x178, 512)
	le32(0x180, 8)
	le32(0x184, 2)
	for i := range 8 {
		le32(512+4*i, 0xffffffff)
	}
	le32(512+4*1, 1)
	le32(512+4*5, 0)
	le32(512+4*6, 0xfffffffe)
	b = append(b, bytes.Repeat([]byte{'x'}, 512)...)
	return append(b, bytes.Repeat([]byte{'y'}, 512)...)
}

// FuzzVDI opens arbitrary VDI files and reads a few places. Seeds:
// qemu-img's dynamic VDI of a small disk, and a hand-made one with blocks
// of 512 bytes.
func FuzzVDI(f *testing.F) {
	b, err := os.ReadFile(fixtures.MustConvert(f, tinyRaw(f), "vdi"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(tinyVDI())
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := image.OpenBytesWithFormat(b, image.VDI, fuzzLimits)
		fuzzRead(t, img, err)
	})
}
