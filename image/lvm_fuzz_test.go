package image_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/imgcheck/imgcheck/image"
)

// FuzzReadVolumeGroups feeds ReadVolumeGroups arbitrary PVs, seeded with
// small synthetic ones (label, metadata area, wrapped text, striped and
// refused LVs). The input is the PV's first 16 KiB (label and metadata
// area), zero-padded to 64 KiB to keep inputs small. It checks for no
// panic, errors of one type, and LVs that read inside their size. Run it
// with -fuzzminimizetime 200x: minimising a 16 KiB input by time stalls
// the fuzzer for a minute.
func FuzzReadVolumeGroups(f *testing.F) {
	striped := "lv {\n status = [\"VISIBLE\"]\n segment1 {\n start_extent = 0\n extent_count = 4\n type = \"striped\"\n stripe_count = 2\n stripe_size = 8\n stripes = [\"pv0\", 0, \"pv0\", 4]\n }\n}\n"
	for _, text := range []string{
		vgText(1, []string{uuidA}, linearLV("root", "striped", 2, 4)),
		vgText(2, []string{uuidA}, striped+linearLV("thin", "thin", 0, 1)),
	} {
		p := newSynthPV(uuidA)
		f.Add(p.build(text)[:16<<10])
		p.textAt = p.mdaSize - 64
		f.Add(p.build(text)[:16<<10])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, pv []byte) {
		if len(pv) > 16<<10 {
			pv = pv[:16<<10]
		}
		const size = 64 << 10
		padded := make([]byte, size)
		copy(padded, pv)
		vgs, _, err := image.ReadVolumeGroups([]image.PVSource{{Name: "disk", R: bytes.NewReader(padded), Size: size}}, image.Limits{})
		if err != nil {
			if _, ok := errors.AsType[*image.FormatError](err); !ok {
				t.Fatalf("error is not a *FormatError: %v", err)
			}
		}
		buf := make([]byte, 4096)
		for _, vg := range vgs {
			for _, lv := range vg.LVs {
				if lv.Err != nil {
					continue
				}
				if lv.Size < 0 || lv.Size > size*128 {
					t.Fatalf("LV %s of %d bytes on a PV of %d", lv.Name, lv.Size, len(pv))
				}
				for off := int64(0); off < lv.Size; off += 3000 {
					if _, err := lv.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
						t.Fatalf("LV %s read at %d: %v", lv.Name, off, err)
					}
				}
			}
		}
	})
}
