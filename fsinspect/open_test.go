package fsinspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

const (
	rootUUID = "11111111-2222-4333-8444-555555555555"
	varUUID  = "66666666-7777-4888-9999-aaaaaaaaaaaa"
	bootUUID = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
)

// rootTree is a root filesystem whose fstab is given.
func rootTree(fstab string) fstest.MapFS {
	return fstest.MapFS{
		"usr/lib/os-release": fixtures.File("ID=debian\nVERSION_ID=12\n", 0o644),
		"etc/os-release":     fixtures.Symlink("../usr/lib/os-release"),
		"etc/fstab":          fixtures.File(fstab, 0o644),
		"etc/passwd":         fixtures.File("root:x:0:0:root:/root:/bin/bash\n", 0o644),
		"var/hidden":         fixtures.File("on the root filesystem, under the /var mount", 0o644),
		"home":               fixtures.Dir(0o755),
		"boot":               fixtures.Dir(0o755),
		"root/.ssh":          fixtures.Symlink("/var/keys"),
	}
}

// varTree is a separate /var filesystem.
func varTree() fstest.MapFS {
	return fstest.MapFS{
		"lib/dpkg/status":      fixtures.File("Package: bash\nStatus: install ok installed\n", 0o644),
		"log/syslog":           fixtures.Owned("log\n", 0o640, 0, 4),
		"keys/authorized_keys": fixtures.File("ssh-ed25519 AAAA root\n", 0o600),
	}
}

func openDisk(t *testing.T, path string) (*Guest, *Layout, error) {
	t.Helper()
	img, err := image.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return OpenImage(img)
}

// TestOpenImageGPTSeparateVar: BIOS-boot and EFI partitions first, the
// root third, /var on the fourth attached by UUID=.
func TestOpenImageGPTSeparateVar(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 errors=remount-ro 0 1\nUUID=" + varUUID + " /var ext4 defaults 0 2\ntmpfs /tmp tmpfs defaults 0 0\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID, Label: "cloudimg-rootfs"})
	vr := fixtures.MustExt4(t, varTree(), fixtures.Ext4Options{UUID: varUUID, Label: "var"})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{
		{Type: "bios-boot", Size: 1 << 20},
		{Type: "efi", Size: 8 << 20},
		{Type: "linux", Image: root, Name: "root"},
		{Type: "linux", Image: vr, Name: "var"},
	}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	if l.Root != 2 || !l.Filesystems[2].Root || l.Filesystems[2].UUID != rootUUID || l.Filesystems[2].MountPoint != "/" {
		t.Errorf("root = %d, filesystems %+v", l.Root, l.Filesystems)
	}
	if fi := l.Filesystems[3]; fi.MountPoint != "/var" || fi.Label != "var" || fi.Type != "ext4" || fi.Facts == nil {
		t.Errorf("var filesystem = %+v", fi)
	}
	if len(l.Mounts) != 1 || l.Mounts[0] != (MountInfo{Point: "/var", Spec: "UUID=" + varUUID, FS: 3}) {
		t.Errorf("Mounts = %+v", l.Mounts)
	}
	if !l.TmpIsTmpfs || len(l.Fstab) != 3 {
		t.Errorf("TmpIsTmpfs = %v, fstab %v", l.TmpIsTmpfs, l.Fstab)
	}
	for name, want := range map[string]string{
		"var/lib/dpkg/status":       "Package: bash\nStatus: install ok installed\n",
		"root/.ssh/authorized_keys": "ssh-ed25519 AAAA root\n",
		"etc/os-release":            "ID=debian\nVERSION_ID=12\n",
	} {
		if got, err := g.ReadFileLimit(name, 1<<20); err != nil || string(got) != want {
			t.Errorf("ReadFile(%q) = %q, %v", name, got, err)
		}
	}
	if _, err := g.Stat("var/hidden"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the root's /var shows through the mount: %v", err)
	}
	fi, err := g.Stat("var/log/syslog")
	if err != nil || fi.Sys().(*Stat).Gid != 4 {
		t.Errorf("Stat(var/log/syslog) = %v, %v", fi, err)
	}
	if s := g.Stats(); s.BytesRead == 0 || s.ReadCalls == 0 || s.CacheMisses == 0 {
		t.Errorf("Stats = %+v", s)
	}
	if err := fstest.TestFS(g, "etc/passwd", "var/log/syslog", "var/lib/dpkg/status"); err != nil {
		t.Error(err)
	}
}

// TestOpenImageMBRRootSecond: /boot on the first Linux partition (by
// device name), the root on the second.
func TestOpenImageMBRRootSecond(t *testing.T) {
	fstab := "/dev/vda2 / ext4 defaults 0 1\n/dev/vda1 /boot ext4 defaults 0 2\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID})
	boot := fixtures.MustExt4(t, fstest.MapFS{"vmlinuz": fixtures.File("kernel", 0o644)}, fixtures.Ext4Options{UUID: bootUUID, Type: "ext2"})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
		{Type: "linux", Image: boot},
		{Type: "linux", Image: root},
	}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	if l.Table.Scheme != image.MBR || l.Root != 1 || l.Filesystems[0].MountPoint != "/boot" || l.Filesystems[0].Type != "ext2" {
		t.Errorf("layout = %+v", l)
	}
	if got, err := g.ReadFile("boot/vmlinuz"); err != nil || string(got) != "kernel" {
		t.Errorf("ReadFile(boot/vmlinuz) = %q, %v", got, err)
	}
}

// TestOpenImageBare: a filesystem with no partition table, and no fstab.
func TestOpenImageBare(t *testing.T) {
	tree := rootTree("")
	delete(tree, "etc/fstab")
	img := fixtures.MustExt4(t, tree, fixtures.Ext4Options{UUID: rootUUID})
	g, l, err := openDisk(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if l.Table.Scheme != image.None || l.Root != 0 || len(l.Fstab) != 0 {
		t.Errorf("layout = %+v", l)
	}
	if _, err := g.ReadFile("etc/passwd"); err != nil {
		t.Error(err)
	}
	// Without /var mounted, /root/.ssh dangles: a fact, not a fault.
	if _, err := g.Stat("root/.ssh/authorized_keys"); !IsFact(err) {
		t.Errorf("dangling link = %v; want a fact", err)
	}
}

// TestOpenImageMissingMount: fstab names filesystems the image lacks; the
// guest opens, and reads below those mount points are faults.
func TestOpenImageMissingMount(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\n" +
		"UUID=deadbeef-0000-4000-8000-000000000000 /var ext4 defaults 0 2\n" +
		"LABEL=home /home xfs defaults 0 2\n" +
		"/dev/vda9 /srv ext4 noauto 0 0\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID})
	disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"var", "var/hidden", "var/log/syslog", "home/alice", "root/.ssh/authorized_keys"} {
		_, err := g.Stat(name)
		var me *MountError
		if err == nil || IsFact(err) || !errors.As(err, &me) || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v; want a mount fault that is not ErrNotExist", name, err)
		}
	}
	if _, err := g.ReadFile("etc/passwd"); err != nil {
		t.Errorf("the root itself must read: %v", err)
	}
	if !strings.Contains(strings.Join(l.Notes, "\n"), "/var") {
		t.Errorf("notes do not mention /var: %q", l.Notes)
	}
	if len(l.Mounts) != 2 || l.Mounts[0].Point != "/var" || l.Mounts[0].FS != -1 || l.Mounts[0].Err == "" ||
		l.Mounts[1].Point != "/home" || l.Mounts[1].FS != -1 {
		t.Errorf("Mounts = %+v; want faulting /var and /home, and no noauto /srv", l.Mounts)
	}
}

// TestOpenImageUnreadableMount: when the filesystem fstab names may be
// one the image holds but that could not be read (a damaged XFS /boot),
// the mount faults with that reason instead of claiming the filesystem
// is not in the image.
func TestOpenImageUnreadableMount(t *testing.T) {
	const bootUUID = "0b1c2d3e-4f50-4a61-b7c8-d9eaf0b1c2d3"
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\nUUID=" + bootUUID + " /boot xfs defaults 0 0\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID})
	boot := fixtures.MustXFS(t, fstest.MapFS{"vmlinuz-6.1.0-26-amd64": fixtures.File("kernel", 0o644)}, fixtures.XFSOptions{UUID: bootUUID})
	boot = fixtures.MustCorrupt(t, boot, func(b []byte) { b[8] = 0x7f }) // sb_dblocks far past the device
	disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: boot}, {Type: "linux", Image: root}}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.ReadDir("boot")
	var me *MountError
	if !errors.As(err, &me) || errors.Is(err, ErrNoFilesystem) || !strings.Contains(err.Error(), "partition 1") || !strings.Contains(err.Error(), "xfs") {
		t.Errorf("ReadDir(boot) = %v; want a mount fault naming partition 1's XFS", err)
	}
	if len(l.Mounts) != 1 || l.Mounts[0].FS != -1 || !strings.Contains(l.Mounts[0].Err, "no readable filesystem matches it") {
		t.Errorf("Mounts = %+v", l.Mounts)
	}
}

// TestOpenImageNoRoot: a damaged LVM PV and an ext4 without os-release
// give a clear error, and the Layout is still returned.
func TestOpenImageNoRoot(t *testing.T) {
	lvm := filepath.Join(t.TempDir(), "lvm.img")
	label := make([]byte, 1<<20)
	copy(label[512:], "LABELONE")
	copy(label[512+24:], "LVM2 001")
	if err := os.WriteFile(lvm, label, 0o644); err != nil {
		t.Fatal(err)
	}
	data := fixtures.MustExt4(t, fstest.MapFS{"etc/hostname": fixtures.File("x\n", 0o644)}, fixtures.Ext4Options{UUID: bootUUID})
	disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{
		{Type: "linux", Image: data},
		{Type: "lvm", Image: lvm},
	}})
	g, l, err := openDisk(t, disk)
	if err == nil || g != nil {
		t.Fatalf("OpenImage = %v, %v; want an error", g, err)
	}
	msg := err.Error()
	for _, want := range []string{"no Linux root filesystem found", "partition 1: ext4, no os-release", "partition 2: LVM2 PV unreadable: LVM2 label at sector 1: claims to be at sector 0"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if l == nil || l.Table == nil || len(l.Filesystems) != 2 || l.Root != -1 {
		t.Errorf("layout = %+v", l)
	}
}

func TestTmpMount(t *testing.T) {
	wants := "etc/systemd/system/local-fs.target.wants/tmp.mount"
	for _, tc := range []struct {
		tree fstest.MapFS
		want bool
	}{
		{fstest.MapFS{}, false},
		{fstest.MapFS{wants: fixtures.Symlink("/usr/lib/systemd/system/tmp.mount")}, true},
		{fstest.MapFS{"usr/lib/systemd/system/local-fs.target.wants/tmp.mount": fixtures.Symlink("../tmp.mount")}, true},
		{fstest.MapFS{wants: fixtures.Symlink("/usr/lib/systemd/system/tmp.mount"), "etc/systemd/system/tmp.mount": fixtures.Symlink("/dev/null")}, false},
		{fstest.MapFS{wants: fixtures.Symlink("/usr/lib/systemd/system/tmp.mount"), "etc/systemd/system/tmp.mount": fixtures.File("", 0o644)}, false},
	} {
		if got := tmpMountEnabled(NewGuest(tc.tree)); got != tc.want {
			t.Errorf("tmpMountEnabled(%v) = %v, want %v", tc.tree, got, tc.want)
		}
	}
}

// TestOpenImageConcurrent reads the same guest from several goroutines:
// the cache, the resolver and the ext4 reader share state.
func TestOpenImageConcurrent(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\nUUID=" + varUUID + " /var ext4 defaults 0 2\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID, Label: "cloudimg-rootfs"})
	vr := fixtures.MustExt4(t, varTree(), fixtures.Ext4Options{UUID: varUUID, Label: "var"})
	disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}, {Type: "linux", Image: vr}}})
	g, _, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"var/lib/dpkg/status":       "Package: bash\nStatus: install ok installed\n",
		"root/.ssh/authorized_keys": "ssh-ed25519 AAAA root\n",
		"etc/os-release":            "ID=debian\nVERSION_ID=12\n",
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for name, data := range want {
					got, err := g.ReadFile(name)
					if err != nil || string(got) != data {
						errs <- fmt.Errorf("ReadFile(%q) = %q, %v", name, got, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestFstabUnreadable: when fstab itself is a fault, /var, /home, /root
// and /tmp fault too, since whether they are separate is unknown.
func TestFstabUnreadable(t *testing.T) {
	for name, fstab := range map[string]*fstest.MapFile{
		"too large":   fixtures.File(strings.Repeat("#", fstabCap+1), 0o644),
		"a directory": fixtures.Dir(0o755),
	} {
		g := NewGuest(fstest.MapFS{"etc/fstab": fstab, "etc/passwd": fixtures.File("root:x:0:0::/root:/bin/sh\n", 0o644), "var/log/syslog": fixtures.File("x", 0o644)})
		l := &Layout{Root: 0}
		l.mountFstab(g, nil)
		for _, p := range []string{"var/log/syslog", "home", "root/.ssh", "tmp"} {
			if _, err := g.Stat(p); err == nil || IsFact(err) {
				t.Errorf("%s: Stat(%q) = %v; want a fault", name, p, err)
			}
		}
		if _, err := g.Stat("etc/passwd"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(l.Mounts) != 4 {
			t.Errorf("%s: Mounts = %+v", name, l.Mounts)
		}
	}
}

// TestOpenImageQCOW2: the same guest through a compressed qcow2.
func TestOpenImageQCOW2(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\nUUID=" + varUUID + " /var ext4 defaults 0 2\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID})
	vr := fixtures.MustExt4(t, varTree(), fixtures.Ext4Options{UUID: varUUID})
	disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}, {Type: "linux", Image: vr}}})
	g, l, err := openDisk(t, fixtures.MustQCOW2(t, disk, fixtures.QCOW2Options{Compress: true}))
	if err != nil {
		t.Fatal(err)
	}
	if l.Root != 0 || l.Filesystems[1].MountPoint != "/var" {
		t.Errorf("layout = %+v", l)
	}
	if got, err := g.ReadFile("root/.ssh/authorized_keys"); err != nil || string(got) != "ssh-ed25519 AAAA root\n" {
		t.Errorf("ReadFile through qcow2 = %q, %v", got, err)
	}
}

// TestOpenImageCorruptMount: fstab's /var is a filesystem the reader
// refuses (group descriptors zeroed) or no longer recognises (magic
// zeroed); reads below /var are faults, and FSInfo says why.
func TestOpenImageCorruptMount(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\n/dev/vda2 /var ext4 defaults 0 2\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID})
	vr := fixtures.MustExt4(t, varTree(), fixtures.Ext4Options{UUID: varUUID, BlockSize: 4096})
	for name, patch := range map[string]func([]byte){
		"descriptors": func(b []byte) { clear(b[4096:8192]) },
		"magic":       func(b []byte) { b[1024+0x38], b[1024+0x39] = 0, 0 },
	} {
		bad := fixtures.MustCorrupt(t, vr, patch)
		disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}, {Type: "linux", Image: bad}}})
		g, l, err := openDisk(t, disk)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi := l.Filesystems[1]; fi.MountPoint != "" || (fi.Err == "" && fi.Type != "") {
			t.Errorf("%s: var filesystem = %+v; want unmounted with a reason", name, fi)
		}
		if _, err := g.ReadFile("var/lib/dpkg/status"); err == nil || IsFact(err) {
			t.Errorf("%s: ReadFile below a corrupt /var = %v; want a fault", name, err)
		}
		if len(l.Mounts) != 1 || l.Mounts[0].FS != -1 || l.Mounts[0].Err == "" {
			t.Errorf("%s: Mounts = %+v", name, l.Mounts)
		}
	}
}
