package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// A fuzz input is a flags byte and patches applied to a small real
// conversion, the base: each patch is a 32-bit little-endian offset
// (modulo the base's length), a length byte and that many bytes. Unless
// flag bit 0 is set, the checksums are then fixed, so that the fuzzer
// reaches past them; bit 1 picks a second base. The bases are a few MiB
// (VHDX regions are MiB-aligned), too big to be fuzz inputs themselves.
func applyPatches(base, in []byte) []byte {
	b := bytes.Clone(base)
	for len(in) >= 5 {
		off, n := int(binary.LittleEndian.Uint32(in)%uint32(len(b))), int(in[4])
		in = in[5:]
		n = min(n, len(in))
		copy(b[off:], in[:n])
		in = in[n:]
	}
	return b
}

// patch encodes one patch of a fuzz input.
func patch(off uint32, data ...byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, off), append([]byte{byte(len(data))}, data...)...)
}

// fuzzBase converts 2 MiB of mixed data and zeros to format with opts
// and returns the file's bytes.
func fuzzBase(f *testing.F, format string, opts ...string) []byte {
	raw := filepath.Join(f.TempDir(), "base.raw")
	disk := make([]byte, 2<<20)
	copy(disk, bytes.Repeat([]byte("imgcheck fuzz base "), 20000))
	copy(disk[3<<19:], bytes.Repeat([]byte{0xa5}, 4096))
	if err := os.WriteFile(raw, disk, 0o644); err != nil {
		f.Fatal(err)
	}
	return mustRead(f, fixtures.MustConvert(f, raw, format, opts...))
}

// fuzzOpen opens b through the format table with small limits and reads
// the start, the end and a spot of the disk, checking that every error is
// a *image.FormatError.
func fuzzOpen(t *testing.T, b []byte, spot uint64) {
	img, _, err := image.OpenReaderByTable(bytes.NewReader(b), int64(len(b)), "fuzz",
		image.WithLimits(image.Limits{VHDXBATEntries: 1 << 16, VHDBATEntries: 1 << 16}))
	if err != nil {
		if _, ok := errors.AsType[*image.FormatError](err); !ok && !errors.Is(err, os.ErrInvalid) {
			t.Fatalf("error is not a *FormatError: %v", err)
		}
		return
	}
	if img.Size() < 0 {
		t.Fatalf("size %d", img.Size())
	}
	buf := make([]byte, 256<<10)
	for _, off := range []int64{0, img.Size() - int64(len(buf)), int64(spot % uint64(max(img.Size(), 1)))} {
		if _, err := img.ReadAt(buf, max(off, 0)); err != nil && !errors.Is(err, io.EOF) {
			if _, ok := errors.AsType[*image.FormatError](err); !ok {
				t.Fatalf("read error is not a *FormatError: %v", err)
			}
		}
	}
}

func FuzzVHDX(f *testing.F) {
	bases := [][]byte{
		fuzzBase(f, "vhdx", "subformat=dynamic", "block_size=1M"),
		fuzzBase(f, "vhdx", "subformat=fixed", "block_size=1M"),
	}
	f.Add([]byte{0})
	f.Add([]byte{2})
	f.Add(append([]byte{0}, patch(64<<10+48, []byte("log GUID")...)...))   // a log to replay
	f.Add(append([]byte{0}, patch(192<<10+32, 0, 0, 0x40)...))             // BAT region offset
	f.Add(append([]byte{0}, patch(192<<10+40, 0, 0, 0, 0x40)...))          // BAT region length
	f.Add(append([]byte{0}, patch(192<<10+8, 3)...))                       // region count
	f.Add(append([]byte{0}, patch(3<<20+10, 6)...))                        // metadata item count
	f.Add(append([]byte{0}, patch(3<<20+65536+4, 3)...))                   // leave allocated, has parent
	f.Add(append([]byte{0}, patch(3<<20+65536+8+5, 0x40)...))              // virtual size
	f.Add(append([]byte{0}, patch(3<<20+65536, 0, 0, 0x30)...))            // block size
	f.Add(append([]byte{0}, patch(2<<20, 7)...))                           // BAT state
	f.Add(append([]byte{0}, patch(2<<20+8, 6, 0, 0x50, 0, 0, 0, 0, 0)...)) // BAT offset
	f.Add(append([]byte{1}, patch(64<<10+100, 1)...))                      // a bad header CRC
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		b := applyPatches(bases[in[0]>>1&1], in[1:])
		if in[0]&1 == 0 {
			for _, h := range [][]byte{b[64<<10 : 68<<10], b[128<<10 : 132<<10], b[192<<10 : 256<<10], b[256<<10 : 320<<10]} {
				binary.LittleEndian.PutUint32(h[4:], 0)
				binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli)))
			}
		}
		fuzzOpen(t, b, binary.LittleEndian.Uint64(append(in, make([]byte, 8)...)))
	})
}

func FuzzVHD(f *testing.F) {
	bases := [][]byte{
		fuzzBase(f, "vpc", "subformat=dynamic"),
		fuzzBase(f, "vpc", "subformat=fixed"),
	}
	f.Add([]byte{0})
	f.Add([]byte{2})
	f.Add(append([]byte{0}, patch(16+7, 0x40)...))         // dynamic header offset
	f.Add(append([]byte{0}, patch(48+3, 0x40)...))         // current size
	f.Add(append([]byte{0}, patch(60+3, 4)...))            // disk type
	f.Add(append([]byte{0}, patch(512+16+5, 0x40)...))     // BAT offset
	f.Add(append([]byte{0}, patch(512+28, 0x10, 0, 0)...)) // BAT entries
	f.Add(append([]byte{0}, patch(512+32, 0, 0x10, 0)...)) // block size
	f.Add(append([]byte{0}, patch(1536+4, 0, 0, 0, 3)...)) // BAT entry
	f.Add(append([]byte{1}, patch(100, 1)...))             // a bad footer checksum
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		b := applyPatches(bases[in[0]>>1&1], in[1:])
		if in[0]&1 == 0 {
			sums := [][2]int{{0, 64}, {len(b) - 512, 64}}
			if at := binary.BigEndian.Uint64(b[16:]); at < uint64(len(b)-1024) {
				sums = append(sums, [2]int{int(at), 36})
			}
			for _, s := range sums {
				n := 512
				if s[1] == 36 {
					n = 1024
				}
				setVHDChecksum(b[s[0]:s[0]+n], s[1])
			}
		}
		fuzzOpen(t, b, binary.LittleEndian.Uint64(append(in, make([]byte, 8)...)))
	})
}
