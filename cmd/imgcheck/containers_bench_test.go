package main

import (
	"testing"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// realisticDisk builds (or reuses) the disk of the root package's
// BenchmarkScan: a 25 GiB sparse GPT disk holding a real-sized Debian 12
// root with apt lists, a 44 MB main index and 15 pending security updates,
// so that the scan must read the index.
func realisticDisk(tb testing.TB) string {
	tb.Helper()
	root := fixtures.MustExt4(tb, fixtures.RealisticTree(fixtures.RealisticOptions{AptLists: true, Pending: 15}), fixtures.Ext4Options{
		Size:  demoSize - 8<<20,
		Label: "root",
		UUID:  fixtures.DemoRootUUID,
		Extra: []string{"-E", "lazy_itable_init=1,lazy_journal_init=1"},
	})
	return fixtures.MustDisk(tb, fixtures.Layout{Scheme: "gpt", DiskSize: demoSize, Parts: []fixtures.Part{
		{Type: "bios-boot", Size: 1 << 20},
		{Type: "linux", Image: root},
	}})
}

// BenchmarkScanContainers scans two 25 GiB disks, the demo disk and the
// realistic one, as raw, as a VMDK streamOptimized (deflated grains, as
// OVA exports ship) and as a dynamic VHDX, in the marketplace profile,
// reporting what was read from the host file: issue 13's target is each
// container within 1.5× of raw in time and bytes read.
func BenchmarkScanContainers(b *testing.B) {
	for _, disk := range []struct {
		name string
		raw  string
	}{{"demo", demoDisk(b)}, {"realistic", realisticDisk(b)}} {
		benchContainers(b, disk.name, disk.raw)
	}
}

// benchContainers runs the benchmark of one disk.
func benchContainers(b *testing.B, name, raw string) {
	for _, c := range []struct{ name, path string }{
		{"raw", raw},
		{"vmdk-streamOptimized", fixtures.MustConvert(b, raw, "vmdk", "subformat=streamOptimized")},
		{"vhdx-dynamic", fixtures.MustConvert(b, raw, "vhdx", "subformat=dynamic")},
	} {
		b.Run(name+"/"+c.name, func(b *testing.B) {
			sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			var read, calls int64
			for b.Loop() {
				t, err := imgcheck.Open(b.Context(), c.path, imgcheck.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if res := imgcheck.Scan(b.Context(), t, sel); res.Err != nil || res.RootError != "" {
					b.Fatalf("scan: %v %s", res.Err, res.RootError)
				}
				st := t.Image().Stats()
				read, calls = st.BytesRead, st.ReadCalls
				t.Close()
			}
			b.ReportMetric(float64(read), "file-bytes-read/op")
			b.ReportMetric(float64(calls), "file-read-calls/op")
		})
	}
}
