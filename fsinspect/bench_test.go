package fsinspect

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// realTree is a deterministic tree shaped like a small Ubuntu Droplet:
// about 20,000 entries, a dpkg status of 600 packages, and the files a
// compliance run reads.
func realTree() fstest.MapFS {
	t := fstest.MapFS{
		"etc/os-release":      fixtures.Symlink("../usr/lib/os-release"),
		"usr/lib/os-release":  fixtures.File("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n", 0o644),
		"etc/passwd":          fixtures.File("root:x:0:0:root:/root:/bin/bash\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n", 0o644),
		"etc/shadow":          fixtures.Owned("root:*:19000:0:99999:7:::\nubuntu:!:19000:0:99999:7:::\n", 0o640, 0, 42),
		"etc/group":           fixtures.File("root:x:0:\nshadow:x:42:\nubuntu:x:1000:\n", 0o644),
		"etc/gshadow":         fixtures.Owned("root:*::\n", 0o640, 0, 42),
		"etc/ssh/sshd_config": fixtures.File("Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin prohibit-password\n", 0o644),
		"etc/ssh/sshd_config.d/50-cloud-init.conf": fixtures.File("PasswordAuthentication no\n", 0o644),
		"etc/ssh/ssh_host_ed25519_key.pub":         fixtures.File("ssh-ed25519 AAAAC3 root@host\n", 0o644),
		"root/.ssh/authorized_keys":                fixtures.File("", 0o600),
		"home/ubuntu/.ssh/authorized_keys":         fixtures.Owned("", 0o600, 1000, 1000),
		"etc/ufw/ufw.conf":                         fixtures.File("ENABLED=yes\nLOGLEVEL=low\n", 0o644),
		"etc/fstab":                                fixtures.File("LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n", 0o644),
		"etc/hostname":                             fixtures.File("ubuntu\n", 0o644),
		"etc/sudoers":                              fixtures.File("root ALL=(ALL:ALL) ALL\n", 0o440),
		"etc/cloud/cloud.cfg":                      fixtures.File(strings.Repeat("# cloud-init\n", 200), 0o644),
		"etc/apt/sources.list":                     fixtures.File("deb http://archive.ubuntu.com/ubuntu noble main\n", 0o644),
		"etc/default/grub":                         fixtures.File("GRUB_CMDLINE_LINUX=\"\"\n", 0o644),
		"etc/login.defs":                           fixtures.File(strings.Repeat("# login.defs\n", 300), 0o644),
		"tmp":                                      fixtures.Dir(0o1777),
		"var/tmp":                                  fixtures.Dir(0o1777),
	}
	var status strings.Builder
	for i := range 600 {
		pkg := fmt.Sprintf("pkg%03d", i)
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: %d\nMaintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>\nArchitecture: amd64\nVersion: 1.%d-1ubuntu1\nDepends: libc6 (>= 2.34)\nDescription: package %d\n %s\n\n", pkg, 100+i, i, i, strings.Repeat("long description ", 20))
		t["usr/share/doc/"+pkg+"/copyright"] = fixtures.File("Copyright "+pkg+"\n", 0o644)
		t["usr/share/doc/"+pkg+"/changelog.Debian.gz"] = fixtures.File(strings.Repeat("z", 200), 0o644)
		for _, ext := range []string{"list", "md5sums", "postinst", "conffiles"} {
			t["var/lib/dpkg/info/"+pkg+"."+ext] = fixtures.File("/usr/share/doc/"+pkg+"\n", 0o644)
		}
	}
	t["var/lib/dpkg/status"] = fixtures.File(status.String(), 0o644)
	for d := range 300 {
		for f := range 20 {
			t[fmt.Sprintf("usr/lib/python3/dist-packages/mod%03d/file%02d.py", d, f)] = fixtures.File("import os\n", 0o644)
		}
	}
	for d := range 100 {
		for f := range 30 {
			t[fmt.Sprintf("usr/share/locale/l%03d/LC_MESSAGES/m%02d.mo", d, f)] = fixtures.File("mo", 0o644)
		}
	}
	for i := range 800 {
		t[fmt.Sprintf("usr/bin/cmd%03d", i)] = fixtures.File("#!/bin/sh\n", 0o755)
	}
	for i := range 2000 {
		t[fmt.Sprintf("usr/lib/x86_64-linux-gnu/lib%04d.so.1", i)] = fixtures.File("\x7fELF", 0o644)
	}
	for s := 1; s <= 8; s++ {
		for i := range 350 {
			t[fmt.Sprintf("usr/share/man/man%d/page%03d.%d.gz", s, i, s)] = fixtures.File("man", 0o644)
		}
	}
	for i := range 30 {
		t[fmt.Sprintf("var/log/log%02d.log", i)] = fixtures.Owned("log line\n", 0o640, 0, 4)
	}
	for i := range 15 {
		unit := fmt.Sprintf("svc%02d.service", i)
		t["usr/lib/systemd/system/"+unit] = fixtures.File("[Unit]\n", 0o644)
		t["etc/systemd/system/multi-user.target.wants/"+unit] = fixtures.Symlink("/usr/lib/systemd/system/" + unit)
	}
	t["lib"] = fixtures.Symlink("usr/lib")
	return t
}

// complianceRead reads the 30 inputs a compliance run needs and returns
// the first unexpected error.
func complianceRead(g *Guest) error {
	files := []string{
		"etc/os-release", "etc/passwd", "etc/shadow", "etc/group", "etc/gshadow",
		"etc/ssh/sshd_config", "etc/ssh/sshd_config.d/50-cloud-init.conf", "var/lib/dpkg/status",
		"root/.ssh/authorized_keys", "home/ubuntu/.ssh/authorized_keys", "etc/ufw/ufw.conf",
		"etc/fstab", "etc/hostname", "etc/sudoers", "etc/cloud/cloud.cfg", "etc/apt/sources.list",
		"etc/default/grub", "etc/ssh/ssh_host_ed25519_key.pub", "etc/login.defs",
	}
	for _, f := range files {
		if _, err := g.ReadFileLimit(f, 64<<20); err != nil {
			return err
		}
	}
	dirs := []string{"var/log", "etc/ssh/sshd_config.d", "tmp", "var/tmp", "etc/systemd/system/multi-user.target.wants"}
	for _, d := range dirs {
		ents, err := g.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if _, err := e.Info(); err != nil {
				return err
			}
		}
	}
	wants, _ := g.ReadDir("etc/systemd/system/multi-user.target.wants")
	for _, e := range wants {
		if _, err := g.Stat("etc/systemd/system/multi-user.target.wants/" + e.Name()); err != nil {
			return err
		}
	}
	for _, missing := range []string{"root/.bash_history", "var/lib/cloud/instance", "etc/ssh/sshd_config.d/99-x.conf", "home/ubuntu/.bash_history", "var/lib/apt/lists", "etc/update-motd.d"} {
		if _, err := g.Lstat(missing); !IsFact(err) {
			return fmt.Errorf("%s: %v", missing, err)
		}
	}
	return nil
}

// BenchmarkComplianceRead opens a 25 GiB sparse GPT image of a
// 20,000-entry tree and reads the 30 inputs of a compliance run.
func BenchmarkComplianceRead(b *testing.B) {
	const diskSize = 25 << 30
	root := fixtures.MustExt4(b, realTree(), fixtures.Ext4Options{
		Size:  diskSize - 8<<20,
		Label: "cloudimg-rootfs",
		Extra: []string{"-E", "hash_seed=1d2c3b4a-5f6e-4d7c-8b9a-a0b1c2d3e4f5,lazy_itable_init=1,lazy_journal_init=1"},
	})
	disk := fixtures.MustDisk(b, fixtures.Layout{Scheme: "gpt", DiskSize: diskSize, Parts: []fixtures.Part{
		{Type: "bios-boot", Size: 1 << 20},
		{Type: "linux", Image: root},
	}})
	var s Stats
	for b.Loop() {
		img, err := image.Open(disk)
		if err != nil {
			b.Fatal(err)
		}
		g, _, err := OpenImage(img)
		if err != nil {
			b.Fatal(err)
		}
		if err := complianceRead(g); err != nil {
			b.Fatal(err)
		}
		s = g.Stats()
		img.Close()
	}
	b.ReportMetric(float64(s.BytesRead), "bytes-read/op")
	b.ReportMetric(float64(s.ReadCalls), "read-calls/op")
	b.ReportMetric(s.HitRate(), "cache-hit-rate")
	if s.BytesRead > 4<<20 {
		b.Errorf("read %d bytes from the image; the target is at most 4 MiB", s.BytesRead)
	}
}
