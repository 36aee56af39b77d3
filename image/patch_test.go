package image_test

import (
	"hash/crc32"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// A patchCase opens a copy of a container patched in place, with limits.
type patchCase struct {
	name     string
	patch    func(b []byte)
	limits   image.Limits
	sentinel error // nil: opens and reads as qemu-img does
	words    []string
}

// runPatchCases opens path patched by each case: a case with a sentinel
// must fail with a FormatError of format naming its words; the others must
// read as the raw file ref that qemu-img made of path.
func runPatchCases(t *testing.T, format image.Format, path, ref string, cases []patchCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if tt.patch != nil {
				p = fixtures.MustCorrupt(t, path, tt.patch)
			}
			img, _, err := image.OpenByTable(p, image.WithLimits(tt.limits))
			if tt.sentinel != nil {
				wantFormatError(t, err, format, tt.sentinel, tt.words...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			sameAsFile(t, img, ref)
		})
	}
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// fixHeaderCRC recomputes the CRC of a 92-byte GPT header after a patch.
func fixHeaderCRC(h []byte) {
	putLE32(h[16:], 0)
	putLE32(h[16:], crc32.ChecksumIEEE(h[:92]))
}

// ebrChainDisk returns an MBR disk with ss-byte sectors whose extended
// partition holds a chain of n EBRs, each followed by a one-sector logical
// partition.
func ebrChainDisk(n, ss int) []byte {
	disk := make([]byte, (2+2*n)*ss)
	entry := func(sector []byte, slot int, typ byte, lba, count uint32) {
		e := sector[446+16*slot:]
		e[4] = typ
		putLE32(e[8:], lba)
		putLE32(e[12:], count)
		sector[510], sector[511] = 0x55, 0xaa
	}
	entry(disk, 0, 0x05, 2, uint32(2*n))
	for i := range n {
		s := disk[(2+2*i)*ss:]
		entry(s, 0, 0x83, 1, 1)
		if i < n-1 {
			entry(s, 1, 0x05, uint32(2*(i+1)), 2)
		}
	}
	return disk
}

// shrinkGPT rewrites the 512-byte-sector GPT disk b as an 8-sector disk:
// its MBR, a primary header at LBA 1 with the first 4 entries at LBA 2,
// and the backup entries and header at LBA 6 and 7.
func shrinkGPT(b []byte) []byte {
	d := make([]byte, 8*512)
	copy(d, b[:512])
	copy(d[2*512:], b[1024:1024+512])
	copy(d[6*512:], b[1024:1024+512])
	entriesCRC := crc32.ChecksumIEEE(d[2*512 : 3*512])
	header := func(my, alt, entries uint64) {
		h := d[my*512 : my*512+92]
		copy(h, b[512:512+92])
		putLE64(h[24:], my)
		putLE64(h[32:], alt)
		putLE64(h[40:], 3)
		putLE64(h[48:], 5)
		putLE64(h[72:], entries)
		putLE32(h[80:], 4)
		putLE32(h[88:], entriesCRC)
		fixHeaderCRC(h)
	}
	header(1, 7, 2)
	header(7, 1, 6)
	return d
}

func putLE64(b []byte, v uint64) { putLE32(b, uint32(v)); putLE32(b[4:], uint32(v>>32)) }
