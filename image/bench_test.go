package image_test

import (
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// BenchmarkOpenReadTable opens a 25 GiB sparse GPT disk and reads its
// partition table, reporting the bytes and read calls it takes.
func BenchmarkOpenReadTable(b *testing.B) {
	path := fixtures.MustDisk(b, fixtures.Layout{DiskSize: 25 << 30, Parts: []fixtures.Part{
		{Type: "bios-boot", Size: mib},
		{Type: "linux", Image: rootFS(b), Size: fixtures.Rest},
	}})
	var stats image.ReadStats
	for b.Loop() {
		img, err := image.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		tab, err := image.ReadTable(img, img.Size())
		if err != nil || len(tab.Partitions) != 2 {
			b.Fatalf("table %+v, %v", tab, err)
		}
		stats = img.Stats()
		img.Close()
	}
	b.ReportMetric(float64(stats.BytesRead), "bytes/op")
	b.ReportMetric(float64(stats.ReadCalls), "reads/op")
}
