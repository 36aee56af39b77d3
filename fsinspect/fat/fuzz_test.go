package fat_test

import (
	"bytes"
	"os"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/fat"
)

// FuzzNew: any bytes open or fail cleanly, and reading the directories
// and files of an opened filesystem ends without a panic; a file read
// whole has its size.
func FuzzNew(f *testing.F) {
	img := fixtures.MustFAT(f, fstest.MapFS{"EFI/BOOT/BOOTX64.EFI": fixtures.File("MZ", 0o644), "EFI/long vendor name/shimx64.efi": fixtures.File("MZ", 0o644)},
		fixtures.FATOptions{Bits: 12, Size: 128 << 10})
	b, err := os.ReadFile(img)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys, err := fat.New(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, d := range []string{"/", "EFI", "EFI/long vendor name"} {
			ents, _ := fsys.ReadDir(d)
			for _, e := range ents {
				if data, err := fsys.ReadFile(e, 1<<20); err == nil && int64(len(data)) != e.Size {
					t.Fatalf("%s/%s: %d bytes read of %d", d, e.Name, len(data), e.Size)
				}
			}
		}
		fsys.Stat("EFI/BOOT/BOOTX64.EFI")
		fsys.VolumeID()
	})
}
