package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRealDebianWithoutVirtioBlk takes a copy of the real Debian disk
// (IMGCHECK_REAL_DEBIAN), rebuilds its initramfs without virtio_blk.ko
// with the host's cpio and gzip (nothing of the image is run), and
// requires boot.virtio to WARN on it and QEMU not to reach its root
// filesystem, where the untouched disk passes (TestRealDebianBoots boots
// that one). Needs root (a loop device over the root partition, debugfs
// -w on the copy) and qemu-system-x86_64; about four minutes.
func TestRealDebianWithoutVirtioBlk(t *testing.T) {
	raw, qemu := realDebianAndQEMU(t)
	if got := ruleLevel(t, raw, "boot.virtio"); got != "pass" {
		t.Fatalf("boot.virtio is %s on the real disk, want pass", got)
	}
	dir := t.TempDir()
	copied := filepath.Join(dir, "no-virtio-blk.raw")
	sh(t, "", "cp", "--sparse=always", raw, copied)
	var table struct {
		PartitionTable struct {
			SectorSize int64 `json:"sectorsize"`
			Partitions []struct {
				Start, Size int64
				Type        string
			}
		}
	}
	if err := json.Unmarshal([]byte(sh(t, "", "sfdisk", "-J", copied)), &table); err != nil {
		t.Fatal(err)
	}
	var loop string
	for _, p := range table.PartitionTable.Partitions {
		if p.Type == "0FC63DAF-8483-4772-8E79-3D69D8477DE4" {
			ss := table.PartitionTable.SectorSize
			loop = strings.TrimSpace(sh(t, "", "losetup", "--find", "--show", "-o", itoa(p.Start*ss), "--sizelimit", itoa(p.Size*ss), copied))
		}
	}
	if loop == "" {
		t.Fatal("no Linux partition")
	}
	defer exec.Command("losetup", "-d", loop).Run()
	initrds := strings.Fields(sh(t, "", "debugfs", "-R", "ls -p /boot", loop))
	var name string
	for _, f := range initrds {
		if parts := strings.Split(f, "/"); len(parts) > 5 && strings.HasPrefix(parts[5], "initrd.img-") {
			name = parts[5]
		}
	}
	if name == "" {
		t.Fatalf("no /boot/initrd.img-* in %s", raw)
	}
	old, unpacked := filepath.Join(dir, "initrd.old"), filepath.Join(dir, "unpacked")
	sh(t, "", "debugfs", "-R", "dump /boot/"+name+" "+old, loop)
	os.Mkdir(unpacked, 0o755)
	sh(t, unpacked, "sh", "-c", `gzip -dc "$1" | cpio -id --quiet --no-absolute-filenames`, "sh", old)
	mods, _ := filepath.Glob(filepath.Join(unpacked, "usr/lib/modules/*/kernel/drivers/block/virtio_blk.ko*"))
	if len(mods) != 1 {
		t.Fatalf("virtio_blk in the initramfs: %q", mods)
	}
	os.Remove(mods[0])
	sh(t, unpacked, "sh", "-c", `find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n > "$1"`, "sh", filepath.Join(dir, "initrd.new"))
	cmds := filepath.Join(dir, "debugfs.cmds")
	os.WriteFile(cmds, []byte("cd /boot\nrm "+name+"\nwrite "+filepath.Join(dir, "initrd.new")+" "+name+"\n"), 0o644)
	sh(t, "", "debugfs", "-w", "-f", cmds, loop)
	if err := exec.Command("losetup", "-d", loop).Run(); err != nil {
		t.Fatal(err)
	}
	if got := ruleLevel(t, copied, "boot.virtio"); got != "warn" {
		t.Errorf("boot.virtio is %s without virtio_blk in the initramfs, want warn", got)
	}
	console := bootConsole(t, qemu, copied)
	if rootMounted.MatchString(console) {
		t.Errorf("booted to its root filesystem without virtio_blk; console ends:\n%s", tail(console, 1500))
	}
	t.Logf("console ends:\n%s", tail(console, 600))
}

// sh runs a host command in dir and returns its output, failing t.
func sh(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
