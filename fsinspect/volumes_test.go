package fsinspect

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestOpenImageLVM opens the installer-like LVM disks: the root is found
// inside the LV, and fstab's /boot (by-uuid, UUID=) is attached.
func TestOpenImageLVM(t *testing.T) {
	for _, tt := range []struct {
		name, root string
		build      func(testing.TB) string
	}{
		{"ubuntu", "ubuntu-vg/ubuntu-lv", fixtures.MustUbuntuLVM},
		{"rhel", "rhel/root", fixtures.MustRHELLVM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, l, err := openDisk(t, tt.build(t))
			if err != nil {
				t.Fatal(err)
			}
			if root := l.Filesystems[l.Root]; root.LV != tt.root || root.MountPoint != "/" || root.UUID != fixtures.LVMRootUUID {
				t.Fatalf("root %+v", root)
			}
			if len(l.VolumeGroups) != 1 || len(l.Notes) != 0 {
				t.Errorf("VGs %v, notes %q", l.VolumeGroups, l.Notes)
			}
			if len(l.Mounts) != 1 || l.Mounts[0].Point != "/boot" || l.Mounts[0].FS < 0 || l.Filesystems[l.Mounts[0].FS].UUID != fixtures.LVMBootUUID {
				t.Fatalf("mounts %+v", l.Mounts)
			}
			b, err := fs.ReadFile(g, "boot/grub/grub.cfg")
			if err != nil || !strings.Contains(string(b), "linux /vmlinuz") {
				t.Fatalf("grub.cfg %q: %v", b, err)
			}
			if _, err := fs.ReadFile(g, "etc/passwd"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenImageLVMNames attaches LVs named the other ways fstab can:
// /dev/<vg>/<lv> for the root, /dev/mapper with doubled dashes for /var,
// udev's dm-uuid-LVM link for /home; and a PV partition without a root
// in it makes the no-root error say what each LV holds.
func TestOpenImageLVMNames(t *testing.T) {
	small := func(tree map[string]string) string {
		m := rootTree("")
		for k := range m {
			delete(m, k)
		}
		for k, v := range tree {
			m[k] = fixtures.File(v, 0o644)
		}
		return fixtures.MustExt4(t, m, fixtures.Ext4Options{Size: 4 << 20, UUID: varUUID})
	}
	linear := func(at int64) []fixtures.LVSegment {
		return []fixtures.LVSegment{{Extents: 4, Stripes: []fixtures.PVExtent{{PV: 0, Extent: at}}}}
	}
	spec := fixtures.LVMSpec{
		Layout:     fixtures.Layout{Parts: []fixtures.Part{{Type: "lvm", Size: 16 << 20}}},
		VG:         "my-vg",
		ExtentSize: 1 << 20,
		LVs: []fixtures.LVSpec{
			{Name: "root", Image: fixtures.MustExt4(t, rootTree("/dev/my-vg/root / ext4 defaults 0 1\n/dev/mapper/my--vg-var--lv /var ext4 defaults 0 2\n"), fixtures.Ext4Options{Size: 4 << 20, UUID: rootUUID}), Segments: linear(0)},
			{Name: "var-lv", Image: small(map[string]string{"lib/dpkg/status": "Package: bash\n"}), Segments: linear(4)},
			{Name: "hidden", Segments: linear(8), Hidden: true},
		},
	}
	g, l, err := openDisk(t, fixtures.MustLVMDisk(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Filesystems[l.Root].LV; got != "my-vg/root" {
		t.Errorf("root %q", got)
	}
	if len(l.Filesystems) != 3 {
		t.Errorf("filesystems %+v: the hidden LV is a candidate", l.Filesystems)
	}
	if b, err := fs.ReadFile(g, "var/lib/dpkg/status"); err != nil || string(b) != "Package: bash\n" {
		t.Errorf("/var: %q %v (mounts %+v)", b, err, l.Mounts)
	}
	vg := l.VolumeGroups[0]
	uuid := strings.ReplaceAll(vg.UUID+vg.LVs[1].UUID, "-", "")
	for spec, want := range map[string]int{
		"/dev/mapper/my--vg-var--lv":          2,
		"/dev/disk/by-id/dm-name-my--vg-root": 1,
		"/dev/disk/by-id/dm-uuid-LVM-" + uuid: 2,
		"/dev/my-vg/var-lv":                   2,
		"/dev/my-vg/hidden":                   -1,
		"/dev/mapper/my-vg-var-lv":            -1,
		"UUID=" + varUUID:                     2,
	} {
		if got := l.match(spec); got != want {
			t.Errorf("match(%q) = %d, want %d", spec, got, want)
		}
	}
}

// TestOpenImageLUKS: a root encrypted with LUKS (as Ubuntu's "encrypt the
// LVM group" install makes it) is named in the no-root error, not read.
func TestOpenImageLUKS(t *testing.T) {
	luks := filepath.Join(t.TempDir(), "luks.img")
	header := make([]byte, 1<<20)
	copy(header, "LUKS\xba\xbe\x00\x02")
	if err := os.WriteFile(luks, header, 0o644); err != nil {
		t.Fatal(err)
	}
	boot := fixtures.MustExt4(t, fstest.MapFS{"grub/grub.cfg": fixtures.File("set root\n", 0o644)}, fixtures.Ext4Options{UUID: bootUUID})
	_, l, err := openDisk(t, fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{
		{Type: "linux", Image: boot},
		{Type: "luks", Image: luks},
	}}))
	if err == nil || !strings.Contains(err.Error(), "partition 2: LUKS-encrypted, not read") || l.Filesystems[1].Type != "crypto_LUKS" {
		t.Fatalf("err %v, filesystems %+v", err, l.Filesystems)
	}
}
