package image_test

import (
	"math/rand/v2"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// BenchmarkVHDXRandomRead reads 4 KiB at random offsets of the first
// 64 MiB (the filesystem) of the 5 GiB sparse disk, as raw and as dynamic
// VHDX and VHD, and reports host bytes read and host read calls per read:
// one host read per guest read whatever the format, the BAT being held in
// memory.
func BenchmarkVHDXRandomRead(b *testing.B) {
	disk := sparseDisk(b)
	for _, v := range []struct {
		name string
		open func() (*image.Image, error)
	}{
		{"raw", func() (*image.Image, error) { return image.Open(disk) }},
		{"vhdx-dynamic", func() (*image.Image, error) {
			img, _, err := image.OpenByTable(fixtures.MustConvert(b, disk, "vhdx", "subformat=dynamic"))
			return img, err
		}},
		{"vhd-dynamic", func() (*image.Image, error) {
			img, _, err := image.OpenByTable(fixtures.MustConvert(b, disk, "vpc", "subformat=dynamic"))
			return img, err
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			img, err := v.open()
			if err != nil {
				b.Fatal(err)
			}
			defer img.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			buf := make([]byte, 4096)
			before := img.Stats()
			for b.Loop() {
				if _, err := img.ReadAt(buf, rng.Int64N(64<<20-4096)); err != nil {
					b.Fatal(err)
				}
			}
			st := img.Stats()
			b.ReportMetric(float64(st.BytesRead-before.BytesRead)/float64(b.N), "host-bytes/op")
			b.ReportMetric(float64(st.ReadCalls-before.ReadCalls)/float64(b.N), "host-reads/op")
		})
	}
}
