package fsinspect

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// espFiles is an EFI System Partition as Ubuntu's cloud images leave it.
func espFiles() fstest.MapFS {
	return fstest.MapFS{
		"EFI/BOOT/BOOTX64.EFI":   fixtures.File("MZ fallback loader", 0o644),
		"EFI/ubuntu/grub.cfg":    fixtures.File("search.fs_uuid x root\n", 0o644),
		"EFI/ubuntu/shimx64.efi": fixtures.File("MZ shim", 0o644),
	}
}

// openFATImage opens the FAT filesystem image at img as fsTypes does.
func openFATImage(t *testing.T, img string) (Backend, *FSFacts) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b, facts, err := openFAT(f, st.Size(), settings{})
	if err != nil {
		t.Fatal(err)
	}
	return b, facts
}

// TestFATBackend: an EFI System Partition read as a Backend passes
// fstest.TestFS, and its identity is what blkid says it is.
func TestFATBackend(t *testing.T) {
	img := fixtures.MustFAT(t, espFiles(), fixtures.FATOptions{Bits: 32, Size: 40 << 20, Label: "UEFI"})
	b, facts := openFATImage(t, img)
	if err := fstest.TestFS(b, "EFI/BOOT/BOOTX64.EFI", "EFI/ubuntu/grub.cfg", "EFI/ubuntu/shimx64.efi"); err != nil {
		t.Error(err)
	}
	if data, err := fs.ReadFile(b, "EFI/ubuntu/grub.cfg"); err != nil || string(data) != "search.fs_uuid x root\n" {
		t.Errorf("grub.cfg = %q, %v", data, err)
	}
	if _, err := b.ReadLink("EFI"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadLink(EFI) = %v, want ErrInvalid", err)
	}
	if _, err := b.Open("EFI/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(EFI/none) = %v, want ErrNotExist", err)
	}
	bin, err := fixtures.Tool("blkid")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-o", "export", img).Output()
	if err != nil {
		t.Fatalf("blkid: %v", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			want[k] = v
		}
	}
	if facts.Type != want["TYPE"] || facts.UUID != want["UUID"] || facts.Label != want["LABEL"] || facts.UUID == "" {
		t.Errorf("facts %s uuid=%s label=%s; blkid says %s uuid=%s label=%s", facts.Type, facts.UUID, facts.Label, want["TYPE"], want["UUID"], want["LABEL"])
	}
}

// TestOpenImageBootEFI: the EFI System Partition that fstab mounts on
// /boot/efi by label, as Ubuntu's cloud images do, is attached and read.
func TestOpenImageBootEFI(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\nLABEL=UEFI /boot/efi vfat umask=0077 0 1\n"
	tree := rootTree(fstab)
	tree["boot/efi"] = fixtures.Dir(0o755)
	root := fixtures.MustExt4(t, tree, fixtures.Ext4Options{UUID: rootUUID})
	esp := fixtures.MustFAT(t, espFiles(), fixtures.FATOptions{Bits: 32, Size: 40 << 20, Label: "UEFI"})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "efi", Image: esp}, {Type: "linux", Image: root}}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mounts) != 1 || l.Mounts[0].Point != "/boot/efi" || l.Mounts[0].FS != 0 || l.Mounts[0].Err != "" || l.Filesystems[0].Label != "UEFI" {
		t.Fatalf("mounts %+v, filesystems %+v, notes %q", l.Mounts, l.Filesystems, l.Notes)
	}
	if b, err := g.ReadFile("boot/efi/EFI/BOOT/BOOTX64.EFI"); err != nil || string(b) != "MZ fallback loader" {
		t.Errorf("BOOTX64.EFI = %q, %v", b, err)
	}
	if fi, err := g.Stat("boot/efi/EFI/ubuntu"); err != nil || !fi.IsDir() || fi.Sys().(*Stat).Uid != 0 {
		t.Errorf("Stat(boot/efi/EFI/ubuntu) = %v, %v", fi, err)
	}
	for _, n := range l.Notes {
		if strings.Contains(n, "efi") {
			t.Errorf("note about the ESP: %s", n)
		}
	}
}

// TestFATIdentityVariants: FAT12 and FAT16 keep the serial number and
// label at other offsets than FAT32.
func TestFATIdentityVariants(t *testing.T) {
	for bits, size := range map[int]int64{12: 4 << 20, 16: 32 << 20} {
		_, facts := openFATImage(t, fixtures.MustFAT(t, espFiles(), fixtures.FATOptions{Bits: bits, Size: size, Label: "ESP"}))
		if facts.Label != "ESP" || facts.UUID != "1234-5678" { // fixtures makes them with -i 12345678
			t.Errorf("FAT%d: label %q, id %q", bits, facts.Label, facts.UUID)
		}
	}
}

// TestOpenImageUbuntuCloudLayout: the layout of Ubuntu's current cloud
// images, all by label: the root, a separate ext4 /boot, and the EFI
// System Partition mounted on /boot/efi inside it.
func TestOpenImageUbuntuCloudLayout(t *testing.T) {
	fstab := "LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n" +
		"LABEL=BOOT /boot ext4 defaults 0 2\n" +
		"LABEL=UEFI /boot/efi vfat umask=0077 0 1\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{Label: "cloudimg-rootfs"})
	boot := fixtures.MustExt4(t, fstest.MapFS{"vmlinuz-6.8.0-49-generic": fixtures.File("kernel", 0o600), "efi": fixtures.Dir(0o755)},
		fixtures.Ext4Options{Label: "BOOT", UUID: "11111111-2222-4333-8444-555555555555"})
	esp := fixtures.MustFAT(t, espFiles(), fixtures.FATOptions{Bits: 32, Size: 40 << 20, Label: "UEFI"})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{
		{Type: "linux", Image: root}, {Type: "bios-boot", Size: 4 << 20}, {Type: "efi", Image: esp}, {Type: "linux", Image: boot}}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mounts) != 2 || l.Mounts[0].Point != "/boot" || l.Mounts[0].FS != 3 || l.Mounts[1].Point != "/boot/efi" || l.Mounts[1].FS != 2 || len(l.Notes) != 0 {
		t.Fatalf("mounts %+v, notes %q", l.Mounts, l.Notes)
	}
	for name, want := range map[string]string{"boot/vmlinuz-6.8.0-49-generic": "kernel", "boot/efi/EFI/ubuntu/grub.cfg": "search.fs_uuid x root\n"} {
		if b, err := g.ReadFile(name); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
}
