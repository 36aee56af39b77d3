package fat_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/fat"
)

// espTree is an EFI System Partition as distributions leave it, plus a
// directory of more entries than one cluster holds.
func espTree() fstest.MapFS {
	t := fstest.MapFS{
		"EFI/BOOT/BOOTX64.EFI":                        fixtures.File("MZ fallback loader", 0o644),
		"EFI/almalinux/shimx64.efi":                   fixtures.File("MZ shim", 0o644),
		"EFI/almalinux/grubx64.efi":                   fixtures.File("MZ grub", 0o644),
		"EFI/ubuntu/grub.cfg":                         fixtures.File("search.fs_uuid x root\n", 0o644),
		"A Long Directory Name/ünïcödé file name.txt": fixtures.File(strings.Repeat("x", 5000), 0o644),
	}
	for i := range 100 {
		t[fmt.Sprintf("many/entry with a long name %03d.dat", i)] = fixtures.File("", 0o644)
	}
	return t
}

func open(t *testing.T, bits int, size int64) *fat.FS {
	t.Helper()
	img := fixtures.MustFAT(t, espTree(), fixtures.FATOptions{Bits: bits, Size: size, Label: "ESP"})
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	fsys, err := fat.New(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func names(ents []fat.Entry) []string {
	var out []string
	for _, e := range ents {
		out = append(out, e.Name)
	}
	slices.Sort(out)
	return out
}

func TestReadsEveryFATType(t *testing.T) {
	for _, c := range []struct {
		bits int
		size int64
	}{{12, 2 << 20}, {16, 20 << 20}, {32, 40 << 20}} {
		t.Run(fmt.Sprint("FAT", c.bits), func(t *testing.T) {
			f := open(t, c.bits, c.size)
			if f.Type() != fmt.Sprint("FAT", c.bits) {
				t.Errorf("Type %s", f.Type())
			}
			root, err := f.ReadDir("/")
			if err != nil {
				t.Fatal(err)
			}
			if got := names(root); !slices.Equal(got, []string{"A Long Directory Name", "EFI", "many"}) {
				t.Errorf("root %q", got)
			}
			efi, err := f.ReadDir("EFI")
			if err != nil {
				t.Fatal(err)
			}
			if got := names(efi); !slices.Equal(got, []string{"BOOT", "almalinux", "ubuntu"}) {
				t.Errorf("EFI %q", got)
			}
			for path, size := range map[string]int64{"EFI/BOOT/BOOTX64.EFI": 18, "efi/boot/bootx64.efi": 18, "EFI/almalinux/shimx64.efi": 7, "/a long directory name/ÜNÏCÖDÉ FILE NAME.TXT": 5000} {
				e, err := f.Stat(path)
				if err != nil || e.Dir || e.Size != size {
					t.Errorf("Stat %s: %+v, %v; want a %d-byte file", path, e, err, size)
				}
			}
			many, err := f.ReadDir("many")
			if err != nil || len(many) != 100 || many[99].Name != "entry with a long name 099.dat" {
				t.Errorf("many: %d entries, %v", len(many), err)
			}
			if _, err := f.Stat("EFI/debian/shimx64.efi"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("missing file: %v, want ErrNotExist", err)
			}
			if _, err := f.ReadDir("EFI/BOOT/BOOTX64.EFI"); err == nil {
				t.Error("ReadDir of a file succeeded")
			}
		})
	}
}

func TestRefusesDamage(t *testing.T) {
	img := fixtures.MustFAT(t, espTree(), fixtures.FATOptions{Bits: 16, Size: 20 << 20})
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		data []byte
		size int64
	}{
		"cut in half":  {b[:len(b)/2], int64(len(b) / 2)},
		"no signature": {append(append([]byte{}, b[:510]...), 0, 0), 512},
		"zeros":        {make([]byte, 4096), 4096},
		"too short":    {b[:100], 100},
	} {
		if _, err := fat.New(strings.NewReader(string(c.data)), c.size); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

// TestChainLoop: a directory whose cluster chain loops back on itself is
// read to the directory size limit, never endlessly.
func TestChainLoop(t *testing.T) {
	img := fixtures.MustFAT(t, espTree(), fixtures.FATOptions{Bits: 16, Size: 20 << 20})
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	// every FAT16 entry of the first FAT made to point at cluster 2
	reserved := int(b[14]) | int(b[15])<<8
	fatSz := int(b[22]) | int(b[23])<<8
	loop := append([]byte{}, b...)
	for off := reserved*512 + 4; off < (reserved+fatSz)*512; off += 2 {
		loop[off], loop[off+1] = 2, 0
	}
	g, err := fat.New(strings.NewReader(string(loop)), int64(len(loop)))
	if err != nil {
		t.Fatal(err)
	}
	ents, err := g.ReadDir("many")
	if err == nil && len(ents) > 65536 {
		t.Errorf("looping chain: %d entries", len(ents))
	}
}
