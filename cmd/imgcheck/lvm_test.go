package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// lvmLayouts are the installer-like LVM disks: the spec (for the root
// filesystem image inside it) and the disk.
var lvmLayouts = []struct {
	name  string
	spec  func(string) (fixtures.LVMSpec, error)
	build func(testing.TB) string
	root  string // the LV that holds /
	fstab string // a line of its /etc/fstab
}{
	{"ubuntu", fixtures.UbuntuLVM, fixtures.MustUbuntuLVM, "LV ubuntu-vg/ubuntu-lv (ext4)", "/dev/mapper/ubuntu--vg-ubuntu--lv / ext4"},
	{"rhel", fixtures.RHELLVM, fixtures.MustRHELLVM, "LV rhel/root (xfs)", "/dev/mapper/rhel-root   /"},
}

// TestLVMCat reads /etc/fstab from the root inside the LV, and a file of
// /boot, attached by fstab from its own partition.
func TestLVMCat(t *testing.T) {
	for _, tt := range lvmLayouts {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.build(t)
			out, stderr, code := runCmd(t, "cat", img, "/etc/fstab")
			if code != 0 || !strings.Contains(out, tt.fstab) {
				t.Fatalf("cat /etc/fstab: exit %d %s\n%s", code, stderr, out)
			}
			out, stderr, code = runCmd(t, "cat", img, "/boot/grub/grub.cfg")
			if code != 0 || !strings.Contains(out, "linux /vmlinuz") {
				t.Fatalf("cat /boot/grub/grub.cfg: exit %d %s\n%s", code, stderr, out)
			}
		})
	}
}

// TestLVMInfo prints the VG, its PVs and LVs with their segments, and
// which LV holds /, as text and JSON.
func TestLVMInfo(t *testing.T) {
	img := fixtures.MustRHELLVM(t)
	out, stderr, code := runCmd(t, "info", img)
	if code != 0 {
		t.Fatalf("info: exit %d %s", code, stderr)
	}
	for _, want := range []string{
		"Filesystem:  partition 2: LVM2_member\n",
		"Filesystem:  LV rhel/swap: swap\n",
		"LVM VG:      rhel uuid=",
		"  PV pv0 on partition 2 uuid=",
		"  LV swap: linear, 8388608 bytes (0.01 GB, 0.01 GiB)\n    extents 0-1: linear pv0:0-1\n",
		"  LV root: linear, 20971520 bytes (0.02 GB, 0.02 GiB) on /\n    extents 0-2: linear pv0:5-7\n    extents 3-4: linear pv0:2-3\n",
		"Root:        LV rhel/root (xfs)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runCmd(t, "info", "--json", img)
	var doc infoDoc
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("info --json: exit %d %v", code, err)
	}
	if len(doc.VolumeGroups) != 1 || len(doc.VolumeGroups[0].LVs) != 2 {
		t.Fatalf("volume groups %+v", doc.VolumeGroups)
	}
	root := doc.VolumeGroups[0].LVs[1]
	if root.Name != "root" || root.Mountpoint != "/" || len(root.Segments) != 2 || !slices.Equal(root.Segments[1].Stripes, []string{"pv0:2-3"}) || root.Segments[1].Start != 3*4<<20 {
		t.Errorf("root LV %+v", root)
	}
}

// TestLVMScan scans each LVM disk and the same root and /boot
// filesystems on plain partitions: the findings are the same, but for
// the disk layout rules.
func TestLVMScan(t *testing.T) {
	for _, tt := range lvmLayouts {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.build(t)
			spec, err := tt.spec(fixtures.CacheDir())
			if err != nil {
				t.Fatal(err)
			}
			var boot, root string
			for _, p := range spec.Layout.Parts {
				if p.Image != "" {
					boot = p.Image
				}
			}
			for _, lv := range spec.LVs {
				if lv.Name != "swap" {
					root = lv.Image
				}
			}
			plain := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "bios-boot", Size: 1 << 20}, {Type: "linux", Image: boot}, {Type: "linux", Image: root}}})
			got, want := scanFindings(t, img), scanFindings(t, plain)
			if len(got) < 20 || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("LVM disk findings:\n%s\nplain disk findings:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			js, _, _ := runCmd(t, "scan", "--format", "json", img)
			if lv := strings.TrimPrefix(tt.root[:strings.LastIndexByte(tt.root, ' ')], "LV "); !strings.Contains(js, `"lv": "`+lv+`"`) {
				t.Errorf("scan JSON does not name the root's LV %s", lv)
			}
		})
	}
}

// scanFindings scans img and returns its findings as "rule level
// subject", leaving out the disk layout rules.
func scanFindings(t *testing.T, img string) []string {
	t.Helper()
	out, stderr, code := runCmd(t, "scan", "--format", "json", img)
	if code != 0 && code != 1 {
		t.Fatalf("scan %s: exit %d %s", img, code, stderr)
	}
	var doc struct {
		Images []struct {
			Findings []struct{ Rule, Level, Subject string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Images) != 1 {
		t.Fatalf("scan JSON: %v\n%s", err, out)
	}
	var fs []string
	for _, f := range doc.Images[0].Findings {
		if !strings.HasPrefix(f.Rule, "disk.") {
			fs = append(fs, f.Rule+" "+f.Level+" "+f.Subject)
		}
	}
	return fs
}
