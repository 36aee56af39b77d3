package image_test

import (
	"fmt"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// BenchmarkReadVolumeGroups opens the two-PV test disk, reads its table
// and its volume groups, and reads the striped LV once; it reports the
// bytes and read calls of the LVM discovery (beside the table's) and of
// the LV read.
func BenchmarkReadVolumeGroups(b *testing.B) {
	path := fixtures.MustLVMDisk(b, lvmTestSpec(b))
	var discover, read image.ReadStats
	for b.Loop() {
		img, err := image.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		tab, err := image.ReadTable(img, img.Size())
		if err != nil {
			b.Fatal(err)
		}
		table := img.Stats()
		var srcs []image.PVSource
		for i := range tab.Partitions {
			p := &tab.Partitions[i]
			srcs = append(srcs, image.PVSource{Name: fmt.Sprint("partition ", p.Index), R: p, Size: p.Size})
		}
		vgs, _, err := image.ReadVolumeGroups(srcs, image.Limits{})
		if err != nil || len(vgs) != 1 {
			b.Fatal(vgs, err)
		}
		s := img.Stats()
		discover = image.ReadStats{BytesRead: s.BytesRead - table.BytesRead, ReadCalls: s.ReadCalls - table.ReadCalls}
		lv := vgs[0].LVs[2]
		if _, err := lv.ReadAt(make([]byte, lv.Size), 0); err != nil {
			b.Fatal(err)
		}
		e := img.Stats()
		read = image.ReadStats{BytesRead: e.BytesRead - s.BytesRead, ReadCalls: e.ReadCalls - s.ReadCalls}
		img.Close()
	}
	b.ReportMetric(float64(discover.BytesRead), "lvm-bytes/op")
	b.ReportMetric(float64(discover.ReadCalls), "lvm-reads/op")
	b.ReportMetric(float64(read.BytesRead), "lv-bytes/op")
	b.ReportMetric(float64(read.ReadCalls), "lv-reads/op")
}
