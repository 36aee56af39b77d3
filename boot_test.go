package imgcheck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// bootUUID is the UUID of the separate /boot filesystems built here.
const bootUUID = "0b0b0b0b-1111-4222-8333-444455556666"

// treeDisk puts tree in an ext4 root on a GPT disk, after the extra
// partitions given.
func treeDisk(t testing.TB, tree fstest.MapFS, extra ...fixtures.Part) string {
	t.Helper()
	root := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Size: 64 << 20, Label: "root", UUID: fixtures.DemoRootUUID})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: append(extra, fixtures.Part{Type: "linux", Image: root})})
}

// withoutKernel is the demo tree with /boot empty, and fstab naming a
// separate /boot when fstab is set.
func withoutKernel(separateBoot bool) fstest.MapFS {
	tree := fixtures.DemoTree()
	delete(tree, "boot/"+fixtures.DemoKernel)
	tree["boot"] = fixtures.Dir(0o755)
	if separateBoot {
		tree["etc/fstab"] = fixtures.File("UUID="+fixtures.DemoRootUUID+" / ext4 errors=remount-ro 0 1\nUUID="+bootUUID+" /boot ext4 defaults 0 2\n", 0o644)
	}
	return tree
}

func TestBootKernel(t *testing.T) {
	bootFS := fixtures.MustExt4(t, fstest.MapFS{"vmlinuz-6.1.0-26-amd64": fixtures.File("MZ kernel", 0o644), "lost+found": fixtures.Dir(0o700)},
		fixtures.Ext4Options{Size: 8 << 20, Label: "boot", UUID: bootUUID})
	emptyKernel := withoutKernel(false)
	emptyKernel["boot/vmlinuz-6.1.0-26-amd64"] = fixtures.File("", 0o644)
	onlyConfig := withoutKernel(false)
	onlyConfig["boot/config-6.1.0-26-amd64"] = fixtures.File("CONFIG_VIRTIO_BLK=y\n", 0o644)
	cases := []struct {
		name  string
		disk  string
		level rules.Level
		msg   string
	}{
		{"demo", treeDisk(t, fixtures.DemoTree()), rules.Pass, "kernel in /boot: " + fixtures.DemoKernel},
		{"no kernel", treeDisk(t, onlyConfig), rules.Fail, "no kernel in /boot"},
		{"empty kernel file", treeDisk(t, emptyKernel), rules.Fail, "no kernel in /boot"},
		{"separate /boot present", treeDisk(t, withoutKernel(true), fixtures.Part{Type: "linux", Image: bootFS}), rules.Pass, "kernel in /boot: vmlinuz-6.1.0-26-amd64"},
		{"separate /boot missing", treeDisk(t, withoutKernel(true)), rules.Fail, "/boot is a separate filesystem (UUID=" + bootUUID + " in /etc/fstab) that is not in the image"},
		{"bare filesystem", demoDisk(t, "none"), rules.Skip, "bare filesystem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findingsOf(t, scanImage(t, c.disk, rules.Marketplace).Results, "boot.kernel")
			if len(fs) != 1 || fs[0].Level != c.level || !strings.Contains(fs[0].Message, c.msg) {
				t.Fatalf("%+v, want one %s containing %q", fs, c.level, c.msg)
			}
			if c.level == rules.Fail && (fs[0].Fix == "" || fs[0].Get("path") != "/boot") {
				t.Errorf("FAIL evidence %+v, fix %q", fs[0].Evidence, fs[0].Fix)
			}
		})
	}
}

// bootDisk builds a disk of the demo tree with the given MBR boot code
// ("" for none, standIn for fixtures' stand-in) and partitions before the
// root.
func bootDisk(t *testing.T, scheme, bootCode string, parts ...fixtures.Part) string {
	t.Helper()
	root := fixtures.MustExt4(t, fixtures.DemoTree(), fixtures.Ext4Options{Size: 64 << 20, Label: "root", UUID: fixtures.DemoRootUUID})
	l := fixtures.Layout{Scheme: scheme, BootCode: bootCode, NoBootCode: bootCode == "", Parts: append(parts, fixtures.Part{Type: "linux", Image: root})}
	if bootCode == standIn {
		l.BootCode = ""
	}
	return fixtures.MustDisk(t, l)
}

// standIn asks bootDisk for fixtures' default, non-GRUB boot code.
const standIn = "stand-in"

func TestBootLoader(t *testing.T) {
	grub, core := fixtures.MustGRUB(t)
	haltStub := filepath.Join(t.TempDir(), "halt-stub.img")
	if err := os.WriteFile(haltStub, append([]byte(fixtures.HaltStub), make([]byte, 440-len(fixtures.HaltStub))...), 0o644); err != nil {
		t.Fatal(err)
	}
	fallback := fixtures.MustFAT(t, fstest.MapFS{"EFI/BOOT/BOOTX64.EFI": fixtures.File("MZ shim", 0o644)}, fixtures.FATOptions{Bits: 32, Size: 40 << 20, Label: "ESP"})
	vendor := fixtures.MustFAT(t, fstest.MapFS{"EFI/almalinux/shimx64.efi": fixtures.File("MZ shim", 0o644), "EFI/almalinux/grub.cfg": fixtures.File("x", 0o644)}, fixtures.FATOptions{Bits: 16, Size: 20 << 20})
	noLoader := fixtures.MustFAT(t, fstest.MapFS{"EFI/ubuntu/grub.cfg": fixtures.File("x", 0o644)}, fixtures.FATOptions{Bits: 12, Size: 2 << 20})
	garbage := fixtures.MustHostile(t)(fixtures.RandomBytes(fixtures.CacheDir(), 1<<20, 14))
	biosBoot := fixtures.Part{Type: "bios-boot", Size: 1 << 20}
	biosCore := fixtures.Part{Type: "bios-boot", Size: 1 << 20, Image: core}
	cases := []struct {
		name  string
		disk  string
		level rules.Level
		msg   string
		ev    map[string]string
	}{
		{"GRUB on GPT", bootDisk(t, "gpt", grub, biosCore), rules.Pass, "GRUB's boot code in the MBR and its core image in a BIOS boot partition", map[string]string{"mbr_code": "GRUB", "bios_boot": "partition 1: GRUB core image"}},
		{"GRUB on MBR", bootDisk(t, "mbr", grub), rules.Pass, "boot code (GRUB) in the MBR", nil},
		{"other boot code", bootDisk(t, "gpt", standIn), rules.Pass, "boot code (unknown) in the MBR", nil},
		{"halt stub", bootDisk(t, "gpt", haltStub), rules.Fail, "a stub that never reads the disk", map[string]string{"mbr_code": "stub"}},
		{"hybrid: GRUB and UEFI", bootDisk(t, "gpt", grub, biosCore, fixtures.Part{Type: "efi", Image: fallback}), rules.Pass, "; UEFI loaders too", map[string]string{"efi_loader": "partition 2: /EFI/BOOT/BOOTX64.EFI", "esp": "partition 2 (FAT32)"}},
		{"nothing", bootDisk(t, "gpt", "", biosBoot), rules.Fail, "no boot path: the MBR holds no boot code", map[string]string{"mbr_code": "none (440 zero bytes)", "bios_boot": "partition 1: empty"}},
		{"GRUB without core", bootDisk(t, "gpt", grub, biosBoot), rules.Fail, "GRUB's boot code is in the MBR but no BIOS boot partition holds its core image", nil},
		{"UEFI fallback only", bootDisk(t, "gpt", "", fixtures.Part{Type: "efi", Image: fallback}), rules.Warn, "the only boot path is UEFI (partition 1: /EFI/BOOT/BOOTX64.EFI)", nil},
		{"UEFI vendor loader only", bootDisk(t, "gpt", "", fixtures.Part{Type: "efi", Image: vendor}), rules.Warn, "the only boot path is UEFI (partition 1: /EFI/almalinux/shimx64.efi)", map[string]string{"esp": "partition 1 (FAT16)"}},
		{"ESP without loader", bootDisk(t, "gpt", "", fixtures.Part{Type: "efi", Image: noLoader}), rules.Fail, "no EFI System Partition holds a UEFI loader", map[string]string{"esp": "partition 1 (FAT12)"}},
		{"unformatted ESP", bootDisk(t, "gpt", "", fixtures.Part{Type: "efi", Size: 1 << 20}), rules.Fail, "no boot path", map[string]string{"esp": "partition 1 (unformatted)"}},
		{"corrupt ESP", bootDisk(t, "gpt", "", fixtures.Part{Type: "efi", Image: garbage}), rules.Error, "partition 1: fat: corrupt filesystem", nil},
		{"bare filesystem", demoDisk(t, "none"), rules.Skip, "bare filesystem", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findingsOf(t, scanImage(t, c.disk, rules.Marketplace).Results, "boot.loader")
			if len(fs) != 1 || fs[0].Level != c.level || !strings.Contains(fs[0].Message, c.msg) {
				t.Fatalf("%+v, want one %s containing %q", fs, c.level, c.msg)
			}
			for k, v := range c.ev {
				if fs[0].Get(k) != v {
					t.Errorf("%s = %q, want %q (%+v)", k, fs[0].Get(k), v, fs[0].Evidence)
				}
			}
			if (c.level == rules.Fail || c.level == rules.Warn) && fs[0].Fix == "" {
				t.Error("no fix")
			}
		})
	}
}
