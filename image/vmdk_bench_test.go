package image_test

import (
	"io/fs"
	"math/rand/v2"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/image"
)

// A containerVariant is one disk in one container format.
type containerVariant struct {
	name   string
	format image.Format
	path   string
}

// containerVariants are the raw disk and its VMDK and VDI conversions.
func containerVariants(b *testing.B, raw string) []containerVariant {
	return []containerVariant{
		{"raw", image.Raw, raw},
		{"vmdk-monolithicSparse", image.VMDK, fixtures.MustConvert(b, raw, "vmdk")},
		{"vmdk-streamOptimized", image.VMDK, fixtures.MustConvert(b, raw, "vmdk", "subformat=streamOptimized")},
		{"vdi-dynamic", image.VDI, fixtures.MustConvert(b, raw, "vdi")},
	}
}

func openVariant(b *testing.B, format image.Format, path string, opts ...image.Option) *image.Image {
	if format == image.Raw {
		return openImage(b, path)
	}
	img, err := image.OpenWithFormat(path, format, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkContainerTargetedRead reads benchTargets through the ext4
// reader from benchTree in the root partition of a 25 GiB GPT disk, as
// raw, VMDK and VDI, opening the image and reading its partition table
// each time as one imgcheck run does. It reports host bytes and read
// calls per scan beside CPU time.
func BenchmarkContainerTargetedRead(b *testing.B) {
	disk := fixtures.MustDisk(b, fixtures.Layout{DiskSize: 25 << 30, Parts: []fixtures.Part{
		{Type: "bios-boot", Size: mib},
		{Type: "linux", Image: fixtures.MustExt4(b, benchTree(), fixtures.Ext4Options{Size: 32 << 20}), Size: fixtures.Rest},
	}})
	for _, v := range containerVariants(b, disk) {
		b.Run(v.name, func(b *testing.B) {
			var st image.ReadStats
			cpu := cpuTime(b)
			for b.Loop() {
				img := openVariant(b, v.format, v.path)
				tab, err := image.ReadTable(img, img.Size())
				if err != nil || len(tab.Partitions) != 2 {
					b.Fatalf("table %+v, %v", tab, err)
				}
				root := &tab.Partitions[1]
				fsys, err := ext4.New(root, root.Size)
				if err != nil {
					b.Fatal(err)
				}
				for _, name := range benchTargets {
					if _, err := fs.ReadFile(fsys, name); err != nil {
						b.Fatal(err)
					}
				}
				st = img.Stats()
				img.Close()
			}
			reportScan(b, cpu, st, 1)
		})
	}
}

// BenchmarkContainerRandomRead reads 4 KiB at random offsets of the
// virtual disk, through the default cache (warm after the first reads)
// and, for streamOptimized, through the smallest cache, where almost
// every read inflates a grain. It reports host bytes and read calls per
// 4 KiB read.
func BenchmarkContainerRandomRead(b *testing.B) {
	for _, v := range containerVariants(b, fixtures.MustExt4(b, benchTree(), fixtures.Ext4Options{Size: 32 << 20})) {
		run := func(name string, opts ...image.Option) {
			b.Run(name, func(b *testing.B) {
				img := openVariant(b, v.format, v.path, opts...)
				defer img.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				buf := make([]byte, 4096)
				before := img.Stats()
				cpu := cpuTime(b)
				for b.Loop() {
					if _, err := img.ReadAt(buf, rng.Int64N(img.Size()-int64(len(buf)))); err != nil {
						b.Fatal(err)
					}
				}
				st := img.Stats()
				st.BytesRead -= before.BytesRead
				st.ReadCalls -= before.ReadCalls
				reportScan(b, cpu, st, b.N)
			})
		}
		run(v.name)
		if v.name == "vmdk-streamOptimized" {
			run(v.name+"-min-cache", image.WithLimits(image.Limits{VMDKCache: 1}))
		}
	}
}
