package fsinspect

import (
	"fmt"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// complianceRead reads the 30 inputs a compliance run needs and returns
// the first unexpected error.
func complianceRead(g *Guest) error {
	files := []string{
		"etc/os-release", "etc/passwd", "etc/shadow", "etc/group", "etc/gshadow",
		"etc/ssh/sshd_config", "etc/ssh/sshd_config.d/50-cloud-init.conf", "var/lib/dpkg/status",
		"root/.bashrc", "home/debian/.profile", "etc/ufw/ufw.conf",
		"etc/fstab", "etc/hostname", "etc/sudoers", "etc/cloud/cloud.cfg", "etc/apt/sources.list",
		"etc/default/grub", "etc/ssh/revoked_keys", "etc/login.defs",
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
	for _, missing := range []string{"root/.ssh/authorized_keys", "var/lib/cloud/instance", "etc/ssh/sshd_config.d/99-x.conf", "home/debian/.bash_history", "var/lib/apt/lists", "etc/ssh/ssh_host_ed25519_key"} {
		if _, err := g.Lstat(missing); !IsFact(err) {
			return fmt.Errorf("%s: %v", missing, err)
		}
	}
	return nil
}

// BenchmarkComplianceRead opens a 25 GiB sparse GPT image of
// fixtures.RealisticTree (about 20,000 entries, without apt lists) and
// reads the 30 inputs of a compliance run.
func BenchmarkComplianceRead(b *testing.B) {
	const diskSize = 25 << 30
	root := fixtures.MustExt4(b, fixtures.RealisticTree(fixtures.RealisticOptions{}), fixtures.Ext4Options{
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
