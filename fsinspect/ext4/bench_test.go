package ext4_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// countingReader counts the bytes and calls that reach the image.
type countingReader struct {
	r            io.ReaderAt
	bytes, calls atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	n, err := c.r.ReadAt(p, off)
	c.bytes.Add(int64(n))
	return n, err
}

// guestTree is a Debian-sized guest of about 20,000 entries: big
// directories (dpkg info, docs, libraries) beside the few files a
// compliance check reads.
func guestTree() fstest.MapFS {
	tree := fstest.MapFS{
		"etc/passwd":                       fixtures.File(pattern(1800, 1), 0o644),
		"etc/group":                        fixtures.File(pattern(900, 2), 0o644),
		"etc/shadow":                       fixtures.Owned(pattern(1000, 3), 0o640, 0, 42),
		"etc/gshadow":                      fixtures.Owned(pattern(700, 4), 0o640, 0, 42),
		"etc/os-release":                   fixtures.File("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", 0o644),
		"etc/fstab":                        fixtures.File("UUID=x / ext4 defaults 0 1\n", 0o644),
		"etc/hostname":                     fixtures.File("droplet\n", 0o644),
		"etc/sudoers":                      fixtures.File(pattern(1700, 5), 0o440),
		"etc/ssh/sshd_config":              fixtures.File(pattern(3300, 6), 0o644),
		"etc/ssh/sshd_config.d/50.conf":    fixtures.File("PasswordAuthentication no\n", 0o644),
		"etc/ufw/ufw.conf":                 fixtures.File("ENABLED=yes\n", 0o644),
		"etc/default/ufw":                  fixtures.File(pattern(1500, 7), 0o644),
		"etc/cloud/cloud.cfg":              fixtures.File(pattern(3800, 8), 0o644),
		"root/.ssh/authorized_keys":        fixtures.File("ssh-ed25519 AAAA test\n", 0o600),
		"root/.bash_history":               fixtures.File("", 0o600),
		"home/debian/.ssh/authorized_keys": fixtures.Owned("ssh-ed25519 AAAA user\n", 0o600, 1000, 1000),
		"var/lib/dpkg/status":              fixtures.File(pattern(600000, 9), 0o644),
		"var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease": fixtures.File(pattern(150000, 10), 0o644),
	}
	for i, n := range []string{"etc/hosts", "etc/resolv.conf", "etc/apt/sources.list", "etc/login.defs", "etc/pam.d/sshd",
		"etc/crontab", "etc/security/limits.conf", "etc/sysctl.conf", "etc/default/grub", "var/log/auth.log"} {
		tree[n] = fixtures.File(pattern(500+i*300, byte(20+i)), 0o644)
	}
	wants := "etc/systemd/system/multi-user.target.wants/"
	for _, u := range []string{"ssh.service", "ufw.service", "cron.service", "rsyslog.service", "droplet-agent.service", "networking.service"} {
		tree[wants+u] = fixtures.Symlink("/lib/systemd/system/" + u)
	}
	for i := range 30 {
		tree[fmt.Sprintf("var/log/log-%02d.log", i)] = fixtures.File(pattern(200, byte(i)), 0o640)
	}
	for i := range 1600 {
		pkg := fmt.Sprintf("package-%04d", i)
		tree["var/lib/dpkg/info/"+pkg+".list"] = fixtures.File("/usr/bin/"+pkg+"\n", 0o644)
		tree["var/lib/dpkg/info/"+pkg+".md5sums"] = fixtures.File("0123456789abcdef  usr/bin/"+pkg+"\n", 0o644)
		tree["usr/share/doc/"+pkg+"/copyright"] = fixtures.File("GPL\n", 0o644)
		tree["usr/share/doc/"+pkg+"/changelog.Debian.gz"] = fixtures.File("gz", 0o644)
		tree["usr/bin/"+pkg] = fixtures.File("#!/bin/sh\n", 0o755)
		tree[fmt.Sprintf("usr/lib/x86_64-linux-gnu/lib%s.so.1", pkg)] = fixtures.File("ELF", 0o644)
		tree[fmt.Sprintf("usr/share/locale/l%02d/LC_MESSAGES/%s.mo", i%100, pkg)] = fixtures.File("mo", 0o644)
		tree[fmt.Sprintf("usr/share/man/man1/%s.1.gz", pkg)] = fixtures.File("man", 0o644)
		tree[fmt.Sprintf("usr/include/%s.h", pkg)] = fixtures.File("h", 0o644)
		tree[fmt.Sprintf("usr/share/zoneinfo/z%02d/%s", i%40, pkg)] = fixtures.File("tz", 0o644)
		tree[fmt.Sprintf("usr/lib/python3/dist-packages/%s.py", pkg)] = fixtures.File("py", 0o644)
	}
	return tree
}

// complianceReads is the work of one benchmark iteration: what the
// Marketplace checks read from a guest.
func complianceReads(fsys *ext4.FS) error {
	files := []string{
		"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow", "etc/os-release", "etc/fstab",
		"etc/hostname", "etc/sudoers", "etc/ssh/sshd_config", "etc/ssh/sshd_config.d/50.conf",
		"etc/ufw/ufw.conf", "etc/default/ufw", "etc/cloud/cloud.cfg", "root/.ssh/authorized_keys",
		"root/.bash_history", "home/debian/.ssh/authorized_keys", "var/lib/dpkg/status",
		"var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
		"usr/share/doc/package-1234/copyright", "var/lib/dpkg/info/package-0042.list",
		"etc/hosts", "etc/resolv.conf", "etc/apt/sources.list", "etc/login.defs", "etc/pam.d/sshd",
		"etc/crontab", "etc/security/limits.conf", "etc/sysctl.conf", "etc/default/grub", "var/log/auth.log",
	}
	for _, f := range files {
		if _, err := fsys.ReadFile(f); err != nil {
			return err
		}
	}
	for _, d := range []string{"var/log", "etc/systemd/system/multi-user.target.wants", "home", "root"} {
		ents, err := fsys.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.Type()&fs.ModeSymlink != 0 {
				if _, err := fsys.ReadLink(d + "/" + e.Name()); err != nil {
					return err
				}
			} else if _, err := e.Info(); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexedOnce guards the building of htree copies of fixture images.
var indexedOnce sync.Mutex

// indexed returns a copy of the fixture image img whose directories
// e2fsck -fyD has indexed, as the kernel indexes directories that grow
// past one block; mkfs -d leaves them linear. The copy is kept beside
// the fixture.
func indexed(tb testing.TB, img string) string {
	tb.Helper()
	indexedOnce.Lock()
	defer indexedOnce.Unlock()
	out := img + ".htree"
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := copyImage(tb, img)
	runTool(tb, "e2fsck", "-fyD", tmp)
	if b, err := exec.Command("cp", "--sparse=always", tmp, out+".tmp").CombinedOutput(); err != nil {
		tb.Fatalf("cp: %v: %s", err, b)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// openCounted opens the guest image, its directories indexed, behind a
// counting reader.
func openCounted(tb testing.TB) (*countingReader, int64) {
	tb.Helper()
	img := indexed(tb, fixtures.MustExt4(tb, guestTree(), fixtures.Ext4Options{BlockSize: 4096}))
	f, err := os.Open(img)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	return &countingReader{r: f}, st.Size()
}

// BenchmarkLookup opens a ~20k-entry guest and does the compliance reads
// (30 files, 4 directory listings with their entries' inodes or links)
// with cold caches each iteration, and again on one warm FS.
func BenchmarkLookup(b *testing.B) {
	cr, size := openCounted(b)
	report := func(b *testing.B, bytes0, calls0 int64) {
		n := float64(b.N)
		b.ReportMetric(float64(cr.bytes.Load()-bytes0)/n, "bytes-read/op")
		b.ReportMetric(float64(cr.calls.Load()-calls0)/n, "read-calls/op")
	}
	b.Run("cold", func(b *testing.B) {
		bytes0, calls0 := cr.bytes.Load(), cr.calls.Load()
		for b.Loop() {
			fsys, err := ext4.New(cr, size)
			if err != nil {
				b.Fatal(err)
			}
			if err := complianceReads(fsys); err != nil {
				b.Fatal(err)
			}
		}
		report(b, bytes0, calls0)
	})
	b.Run("warm", func(b *testing.B) {
		fsys, err := ext4.New(cr, size)
		if err != nil {
			b.Fatal(err)
		}
		if err := complianceReads(fsys); err != nil {
			b.Fatal(err)
		}
		bytes0, calls0 := cr.bytes.Load(), cr.calls.Load()
		for b.Loop() {
			if err := complianceReads(fsys); err != nil {
				b.Fatal(err)
			}
		}
		report(b, bytes0, calls0)
	})
}

// TestLookupCost bounds what a cold lookup reads in the ~20k-entry guest:
// only the directories on the path and one inode per component, never
// the inodes of their siblings.
func TestLookupCost(t *testing.T) {
	t.Parallel()
	cr, size := openCounted(t)
	fsys, err := ext4.New(cr, size)
	if err != nil {
		t.Fatal(err)
	}
	// usr/share/doc holds 1,600 directories in 11 blocks, mapped by a
	// depth-1 extent tree; reading their inodes would cost 400 KiB. Its
	// htree index leads to one leaf: the path needs six directory blocks,
	// one extent leaf and six inodes.
	before := cr.bytes.Load()
	if _, err := fsys.Stat("usr/share/doc/package-1234/copyright"); err != nil {
		t.Fatal(err)
	}
	if got := cr.bytes.Load() - before; got > 7*4096+6*256 {
		t.Errorf("Stat of a path through a 1,600-entry directory read %d bytes, want at most 7 blocks and 6 inodes", got)
	}
	// A missing name: the htree probe (root, extent leaf, leaf) misses,
	// and reading the whole directory (11 blocks, extent leaf) confirms.
	before = cr.bytes.Load()
	if _, err := fsys.Stat("usr/share/doc/no-such-package"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a missing name = %v", err)
	}
	if got := cr.bytes.Load() - before; got < 11*4096 || got > 15*4096 {
		t.Errorf("negative lookup in usr/share/doc read %d bytes, want 11 to 15 blocks", got)
	}
	// A second lookup in the same directory hits the caches.
	before = cr.bytes.Load()
	if _, err := fsys.Stat("usr/share/doc/package-1234/changelog.Debian.gz"); err != nil {
		t.Fatal(err)
	}
	if got := cr.bytes.Load() - before; got > 4096+256 {
		t.Errorf("second Stat in a cached directory read %d bytes, want a leaf block and an inode at most", got)
	}
	before = cr.bytes.Load()
	if err := complianceReads(fsys); err != nil {
		t.Fatal(err)
	}
	if got := cr.bytes.Load() - before; got > 4<<20 {
		t.Errorf("compliance reads took %d bytes, want at most 4 MiB", got)
	}
}
