package image

import (
	"bytes"
	"io"
	"slices"
	"testing"
)

// TestDetectYieldsToRegistered checks that a format detected but not read
// is refused until a reader registers it, and then goes to that reader.
func TestDetectYieldsToRegistered(t *testing.T) {
	saved := formats
	t.Cleanup(func() { formats = saved })
	formats = slices.DeleteFunc(slices.Clone(formats), func(f containerFormat) bool { return f.Format == VDI })
	vdi := make([]byte, 4096)
	copy(vdi, "<<< Oracle VM VirtualBox Disk Image >>>\n")
	vdi[0x40], vdi[0x41], vdi[0x42], vdi[0x43] = 0x7f, 0x10, 0xda, 0xbe
	r := bytes.NewReader(vdi)

	f, err := detectFormat(r, int64(len(vdi)))
	if err != nil || f.Format != VDI || f.Open != nil {
		t.Fatalf("unregistered: detectFormat = %s (Open set: %v), %v; want vdi without Open", f.Format, f.Open != nil, err)
	}
	if _, err := openContainer(r, int64(len(vdi)), source{Name: "disk.img"}, makeOptions(nil)); err == nil || err.Error() != "vdi: unsupported container format: vdi" {
		t.Errorf("unregistered: openContainer error %v", err)
	}

	opened := false
	registerFormat(containerFormat{
		Format: VDI,
		Match:  func(head []byte, _ io.ReaderAt, _ int64) bool { return hasAt(head, 0, "<<< ") },
		Open: func(r io.ReaderAt, size int64, src source, _ *options) (*container, error) {
			opened = true
			return &container{Disk: r, Size: size, Layers: []Layer{{Format: VDI, Path: src.Name}}, Allocated: size, Referenced: -1}, nil
		},
	})
	c, err := openContainer(r, int64(len(vdi)), source{Name: "disk.img"}, makeOptions(nil))
	if err != nil || !opened || c.Layers[0].Format != VDI {
		t.Errorf("registered: openContainer = %+v, %v (opened %v); want the registered reader", c, err, opened)
	}
}
