package image_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// fuzzLimits keep each fuzzed open small.
var fuzzLimits = image.WithLimits(image.Limits{VMDKGrainDirBytes: 64 << 10, VMDKCache: 1 << 20, VDIBlockMapBytes: 64 << 10, VMDKExtents: 16})

// tinyRaw writes a 256 KiB disk with data in two places and returns its
// path: conversions of it are small fuzz seeds.
func tinyRaw(t testing.TB) string {
	b := make([]byte, 256<<10)
	copy(b, "first grain")
	copy(b[200<<10:], bytes.Repeat([]byte("later grain "), 100))
	p := filepath.Join(t.TempDir(), "tiny.raw")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyVMDK builds a sparse VMDK by hand with grains of one sector and
// grain tables of four entries, so that every structure fits in a few
// sectors: header, grain directory (sector 1), one grain table (sector
// 2), grains from sector 3 (compressed ones behind their markers).
func tinyVMDK(compressed bool) []byte {
	const capacity = 16 // sectors: 4 grain tables' worth, one present
	b := make([]byte, 3*512)
	copy(b, "KDMV")
	le32 := func(off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
	le64 := func(off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }
	le32(4, 1)
	le64(12, capacity)
	le64(20, 1) // grain of one sector
	le32(44, 4) // entries per grain table
	le64(56, 1) // grain directory
	le64(64, 3) // overHead
	le32(512, 2)
	for i, g := range []int{0, 2} { // grains 0 and 2 of the first table
		sector := uint32(len(b) / 512)
		le32(1024+4*g, sector)
		data := bytes.Repeat([]byte{byte('a' + i)}, 512)
		if compressed {
			var z bytes.Buffer
			w := zlib.NewWriter(&z)
			w.Write(data)
			w.Close()
			marker := make([]byte, 12)
			binary.LittleEndian.PutUint64(marker, uint64(g))
			binary.LittleEndian.PutUint32(marker[8:], uint32(z.Len()))
			data = append(marker, z.Bytes()...)
		}
		b = append(b, data...)
		b = append(b, make([]byte, (512-len(b)%512)%512)...)
	}
	if compressed {
		le32(8, 1<<16|1<<17)
		le32(4, 3)
		binary.LittleEndian.PutUint16(b[77:], 1)
	}
	return b
}

// fuzzRead reads a few places of the virtual disk of img, each error a
// *FormatError.
func fuzzRead(t *testing.T, img *image.Image, err error) {
	if err != nil {
		if _, ok := errors.AsType[*image.FormatError](err); !ok {
			t.Fatalf("error is not a *FormatError: %v", err)
		}
		return
	}
	defer img.Close()
	buf := make([]byte, 4096)
	for _, off := range []int64{0, 600, img.Size() / 2, img.Size() - 1000} {
		if off < 0 {
			continue
		}
		if _, err := img.ReadAt(buf, off); err != nil {
			if _, ok := errors.AsType[*image.FormatError](err); !ok && !errors.Is(err, io.EOF) {
				t.Fatalf("ReadAt(0x%x): error is not a *FormatError: %v", off, err)
			}
		}
	}
}

// FuzzVMDK opens arbitrary VMDK files as remote objects (so descriptors
// parse but name no files) and reads a few places. Seeds: qemu-img's
// monolithicSparse and streamOptimized of a small disk, both as VMware
// lays out a stream (with a footer), hand-made sparse files of one-sector
// grains, and a descriptor.
func FuzzVMDK(f *testing.F) {
	raw := tinyRaw(f)
	for _, opts := range [][]string{nil, {"subformat=streamOptimized"}} {
		b, err := os.ReadFile(fixtures.MustConvert(f, raw, "vmdk", opts...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	stream, err := os.ReadFile(withFooter(f, fixtures.MustConvert(f, raw, "vmdk", "subformat=streamOptimized")))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(stream)
	f.Add(tinyVMDK(false))
	f.Add(tinyVMDK(true))
	f.Add([]byte("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentFlat\"\nRW 4 ZERO\nRW 2048 FLAT \"disk-f001.vmdk\" 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := image.OpenBytesWithFormat(b, image.VMDK, fuzzLimits)
		fuzzRead(t, img, err)
	})
}

// TestTinySeedsRead checks that the hand-made fuzz seeds are valid
// images that read back what they were built with.
func TestTinySeedsRead(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		img, err := image.OpenBytesWithFormat(tinyVMDK(compressed), image.VMDK)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, img.Size())
		if _, err := img.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		want := append(append(append(bytes.Repeat([]byte{'a'}, 512), make([]byte, 512)...), bytes.Repeat([]byte{'b'}, 512)...), make([]byte, 13*512)...)
		if !bytes.Equal(got, want) {
			t.Errorf("compressed %v: tiny VMDK reads back wrong", compressed)
		}
	}
	img, err := image.OpenBytesWithFormat(tinyVDI(), image.VDI)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, img.Size())
	if _, err := img.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 8*512)
	copy(want[512:], bytes.Repeat([]byte{'y'}, 512))
	copy(want[5*512:], bytes.Repeat([]byte{'x'}, 512))
	if !bytes.Equal(got, want) {
		t.Error("tiny VDI reads back wrong")
	}
}

// FuzzOVA opens arbitrary OVA files and reads a few places of their disk.
// Seed: an OVA holding a hand-made compressed VMDK.
func FuzzOVA(f *testing.F) {
	disk := filepath.Join(f.TempDir(), "tiny.vmdk")
	if err := os.WriteFile(disk, tinyVMDK(true), 0o644); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(writeOVA(f, disk))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := image.OpenBytesWithFormat(b, image.OVA, fuzzLimits)
		fuzzRead(t, img, err)
	})
}
