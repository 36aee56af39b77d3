package image_test

import (
	"math/rand/v2"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// containerVariants are benchTree's raw disk and its VMDK and VDI
// conversions.
func containerVariants(b *testing.B) []struct {
	name   string
	format image.Format
	path   string
} {
	raw := fixtures.MustExt4(b, benchTree(), fixtures.Ext4Options{Size: 32 << 20})
	return []struct {
		name   string
		format image.Format
		path   string
	}{
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
// reader from benchTree as raw, VMDK and VDI, opening the image each
// time as one imgcheck run does, and reports host bytes and read calls
// per scan beside CPU time.
func BenchmarkContainerTargetedRead(b *testing.B) {
	for _, v := range containerVariants(b) {
		b.Run(v.name, func(b *testing.B) {
			var st image.ReadStats
			cpu := cpuTime(b)
			for b.Loop() {
				img := openVariant(b, v.format, v.path)
				readTargets(b, img)
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
	for _, v := range containerVariants(b) {
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
