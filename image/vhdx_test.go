package image_test

import (
	"fmt"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// TestVHDXMatchesQemuImg converts a 5 GiB sparse disk holding an ext4
// filesystem to VHDX in each subformat qemu-img writes, and compares our
// whole virtual disk with qemu-img's raw conversion of the same file.
func TestVHDXMatchesQemuImg(t *testing.T) {
	disk := sparseDisk(t)
	tests := []struct {
		opts   []string
		sub    string
		detail string
	}{
		{[]string{"subformat=dynamic"}, "dynamic", "dynamic, block 16 MiB"},
		{[]string{"subformat=dynamic", "block_size=1M"}, "dynamic", "dynamic, block 1 MiB"},
		{[]string{"subformat=dynamic", "block_size=256M"}, "dynamic", "dynamic, block 256 MiB"},
		{[]string{"subformat=dynamic", "block_state_zero=off"}, "dynamic", "dynamic, block 16 MiB"},
		{[]string{"subformat=fixed"}, "fixed", "fixed, block 16 MiB"},
		{[]string{"subformat=fixed", "block_size=8M"}, "fixed", "fixed, block 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.opts), func(t *testing.T) {
			path := fixtures.MustConvert(t, disk, "vhdx", tt.opts...)
			img, referenced, err := image.OpenByTable(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			chain := img.Chain()
			if chain[0].Format != image.VHDX || chain[0].Subformat != tt.sub || chain[0].Detail != tt.detail {
				t.Errorf("layer %+v; want vhdx %q, %q", chain[0], tt.sub, tt.detail)
			}
			if referenced <= 0 || referenced > chain[0].FileSize {
				t.Errorf("Referenced = %d for a whole file of %d bytes", referenced, chain[0].FileSize)
			}
			sameAsFile(t, img, fixtures.MustQemuRaw(t, path))
		})
	}
}
