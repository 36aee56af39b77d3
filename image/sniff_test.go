package image_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// TestSniffExt tells ext2, ext3 and ext4 apart on filesystems made by
// mkfs.ext4 with each type.
func TestSniffExt(t *testing.T) {
	for _, typ := range []string{"ext2", "ext3", "ext4"} {
		p := fixtures.MustExt4(t, smallTree, fixtures.Ext4Options{Type: typ, Size: 8 * mib})
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := image.Sniff(bytes.NewReader(b), int64(len(b))); got != typ {
			t.Errorf("mkfs -t %s: Sniff = %q", typ, got)
		}
	}
	// ext4 without extents or flex_bg still has ext4-only features.
	p := fixtures.MustExt4(t, smallTree, fixtures.Ext4Options{Features: "^extent,^flex_bg,^64bit", Size: 8 * mib})
	b, _ := os.ReadFile(p)
	if got := image.Sniff(bytes.NewReader(b), int64(len(b))); got != "ext4" {
		t.Errorf("ext4 ^extent: Sniff = %q", got)
	}
}

func TestSniffSwap(t *testing.T) {
	bin, err := fixtures.Tool("mkswap")
	if err != nil {
		oracleMissing(t, err)
	}
	p := filepath.Join(t.TempDir(), "swap")
	if err := os.WriteFile(p, make([]byte, 4*mib), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, p).CombinedOutput(); err != nil {
		t.Fatalf("mkswap: %v: %s", err, out)
	}
	b, _ := os.ReadFile(p)
	if got := image.Sniff(bytes.NewReader(b), int64(len(b))); got != "swap" {
		t.Errorf("mkswap: Sniff = %q", got)
	}
}

// TestSniffSignatures checks the magic numbers of the formats no tool on
// the build machine makes, placed as their specifications (and libblkid)
// place them.
func TestSniffSignatures(t *testing.T) {
	at := func(size int, parts ...any) []byte {
		b := make([]byte, size)
		for i := 0; i < len(parts); i += 2 {
			copy(b[parts[i].(int):], parts[i+1].(string))
		}
		return b
	}
	fat := at(64*1024, 0, "\xeb\x3c\x90mkfs.fat", 54, "FAT16   ", 510, "\x55\xaa")
	fat32 := at(64*1024, 0, "\xeb\x58\x90mkfs.fat", 82, "FAT32   ", 510, "\x55\xaa")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"xfs", at(64*1024, 0, "XFSB"), "xfs"},
		{"btrfs", at(128*1024, 0x10040, "_BHRfS_M"), "btrfs"},
		{"btrfs cut before its superblock", at(0x10040, 0, ""), ""},
		{"LVM2 label in sector 1", at(8192, 512, "LABELONE", 512+24, "LVM2 001"), "LVM2_member"},
		{"LABELONE without LVM2", at(8192, 512, "LABELONE"), ""},
		{"LUKS", at(8192, 0, "LUKS\xba\xbe\x00\x02"), "crypto_LUKS"},
		{"vfat", fat, "vfat"},
		{"vfat32", fat32, "vfat"},
		{"MBR is not vfat", at(4096, 510, "\x55\xaa"), ""},
		{"iso9660", at(64*1024, 0x8001, "CD001"), "iso9660"},
		{"swap with 64 KiB pages", at(64*1024, 65536-10, "SWAPSPACE2"), "swap"},
		{"zeros", make([]byte, 1<<20), ""},
		{"ext magic in zeros", at(4096, 1024+56, "\x53\xef"), ""},
		{"tiny", []byte("x"), ""},
	}
	for _, tt := range tests {
		if got := image.Sniff(bytes.NewReader(tt.data), int64(len(tt.data))); got != tt.want {
			t.Errorf("%s: Sniff = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestBareFilesystemIsNotMBR checks that a filesystem at sector 0 whose
// boot sector ends in 0x55AA (FAT always, others by chance) is read as a
// bare filesystem, while the same signature over zeros is an empty MBR.
func TestBareFilesystemIsNotMBR(t *testing.T) {
	disk := func(head string, off int, magic string) []byte {
		b := make([]byte, mib)
		copy(b, head)
		copy(b[off:], magic)
		b[510], b[511] = 0x55, 0xaa
		// boot code where the partition entries would be, with
		// valid-looking status bytes
		for i := range 4 {
			b[446+16*i+4] = byte(0x20 + i)
		}
		return b
	}
	empty := make([]byte, mib)
	empty[510], empty[511] = 0x55, 0xaa
	// A real MBR whose boot gap happens to hold an ext superblock.
	gap := make([]byte, 2*mib)
	copy(gap[446+4:], "\x83\x00\x00\x00\x00\x08\x00\x00\x00\x08")
	gap[510], gap[511] = 0x55, 0xaa
	copy(gap[1024:], "\x01\x00\x00\x00\x01\x00\x00\x00")
	copy(gap[1024+32:], "\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00")
	copy(gap[1024+56:], "\x53\xef")
	if image.Sniff(bytes.NewReader(gap), int64(len(gap))) != "ext2" {
		t.Fatal("the crafted superblock does not sniff as ext2")
	}
	for _, tt := range []struct {
		name   string
		data   []byte
		scheme image.Scheme
		parts  int
	}{
		{"vfat", disk("\xeb\x3c\x90mkfs.fat", 54, "FAT16   "), image.None, 1},
		{"xfs", disk("XFSB", 0, "XFSB"), image.None, 1},
		{"empty MBR", empty, image.MBR, 0},
		{"MBR over an ext-looking gap", gap, image.MBR, 1},
	} {
		tab, err := image.ReadTable(bytes.NewReader(tt.data), int64(len(tt.data)))
		if err != nil {
			t.Fatal(err)
		}
		if tab.Scheme != tt.scheme || len(tab.Partitions) != tt.parts {
			t.Errorf("%s: got %s with %d partitions, want %s with %d", tt.name, tab.Scheme, len(tab.Partitions), tt.scheme, tt.parts)
		}
	}
}
