package image_test

import (
	"path/filepath"

	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// openVDI opens a VDI through the format table.
func openVDI(t testing.TB, path string, opts ...image.Option) *image.Image {
	t.Helper()
	img, err := image.OpenWithFormat(path, image.VDI, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func TestVDIMatchesQemuImg(t *testing.T) {
	disk := containerDisk(t)
	for _, tt := range []struct {
		name, subformat string
		options         []string
	}{
		{"dynamic", "dynamic", nil},
		{"static", "static", []string{"static=on"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := fixtures.MustConvert(t, disk, "vdi", tt.options...)
			img := openVDI(t, p)
			chain := img.Chain()
			if img.Format() != image.VDI || len(chain) != 2 || chain[1].Format != image.Raw {
				t.Fatalf("Chain() = %+v; want vdi then raw", chain)
			}
			if l := chain[0]; l.Subformat != tt.subformat || l.Detail != tt.subformat+", block 1 MiB" || l.Codec != "" || l.Path != p {
				t.Errorf("layer = %+v; want subformat %q", l, tt.subformat)
			}
			if a := img.Allocated(); a != dirBytes(t, filepath.Dir(p)) {
				t.Errorf("Allocated() = %d, want the file size %d", a, dirBytes(t, filepath.Dir(p)))
			}
			sameAsOracle(t, img, fixtures.MustQemuRaw(t, p))
		})
	}
}
