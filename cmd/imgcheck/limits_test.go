package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// limitsTree is cleanTree with an sshd_config three links away from its
// file, which says "PermitRootLogin no", and 20 empty logs in /var/log.
func limitsTree() fstest.MapFS {
	tree := cleanTree()
	tree["etc/ssh/sshd_config"] = fixtures.Symlink("sshd_config.1")
	tree["etc/ssh/sshd_config.1"] = fixtures.Symlink("/etc/ssh/sshd_config.2")
	tree["etc/ssh/sshd_config.2"] = fixtures.Symlink("sshd_config.real")
	tree["etc/ssh/sshd_config.real"] = fixtures.File("PermitRootLogin no\n", 0o644)
	for i := range 20 {
		tree[fmt.Sprintf("var/log/app%02d.log", i)] = fixtures.File("", 0o640)
	}
	return tree
}

// limitsImages are the images TestLimits lowers limits on.
type limitsImages struct {
	gpt     string // raw GPT disk of limitsTree (128 entries)
	mbr     string // MBR disk: the root, an extended partition, two logical ones
	qcow    string // qcow2 of gpt
	backed  string // top.qcow2 -> mid.qcow2 -> base.raw (a copy of gpt)
	backDir string
	rpm     string // raw GPT disk of centosLegacyTree (an rpmdb.sqlite)
}

func buildLimitsImages(t *testing.T) limitsImages {
	t.Helper()
	tree := limitsTree()
	root := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	im := limitsImages{gpt: fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: root}}})}
	im.mbr = fixtures.MustDisk(t, fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
		{Type: "linux", Image: root, Bootable: true}, {Type: "extended"},
		{Type: "linux", Logical: true, Size: 1 << 20}, {Type: "linux", Logical: true, Size: 1 << 20},
	}})
	im.qcow = fixtures.MustQCOW2(t, im.gpt, fixtures.QCOW2Options{})
	im.rpm = gptImage(t, centosLegacyTree(t))
	im.backDir = t.TempDir()
	qemu, err := fixtures.Tool("qemu-img")
	if err != nil {
		t.Fatal(err) // MustQCOW2 already needed it
	}
	for _, c := range [][]string{
		{"cp", "--sparse=always", im.gpt, "base.raw"},
		{qemu, "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "mid.qcow2"},
		{qemu, "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", "top.qcow2"},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = im.backDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	im.backed = filepath.Join(im.backDir, "top.qcow2")
	return im
}

// TestLimits runs each verb on a fixture image twice, with a limit
// lowered below what the image needs and without it: lowered, it ends
// with the same clear error, fact or note the default limit gives on a
// bigger image; at the default, the same command succeeds and says none
// of it.
func TestLimits(t *testing.T) {
	im := buildLimitsImages(t)
	const (
		gptError  = "GPT 128 entries of 128 bytes is more than imgcheck reads (the gpt-entries limit is 64) at LBA 1 and backup unreadable"
		dirError  = "directory has more than 10 entries (the dir-entries limit)"
		loopFact  = "subject=/etc/ssh/sshd_config keyword=PermitRootLogin value=prohibit-password source=default"
		loopError = "too many levels of symbolic links"
	)
	for _, tt := range []struct {
		name  string
		args  []string // the command; --limit LIMIT goes after the verb
		limit string
		code  int      // exit status with the limit
		want  []string // each in stdout or stderr with the limit, in neither without
		base  int      // exit status without the limit
	}{
		{name: "scan symlink-hops", args: []string{"scan", "--color", "never", "-v", im.gpt}, limit: "symlink-hops=2",
			code: 0, want: []string{loopFact}, base: 0},
		{name: "cat symlink-hops", args: []string{"cat", im.gpt, "/etc/ssh/sshd_config"}, limit: "symlink-hops=2",
			code: 3, want: []string{"open etc/ssh/sshd_config: " + loopError}, base: 0},
		{name: "scan dir-entries", args: []string{"scan", "--color", "never", "-v", im.gpt}, limit: "dir-entries=10",
			code: 3, want: []string{"[ERROR] logs.uncleared: cannot evaluate: /var/log: readdir var/log: ext4: unsupported: inode ", dirError}, base: 0},
		{name: "ls dir-entries", args: []string{"ls", im.gpt, "/var/log"}, limit: "dir-entries=10",
			code: 3, want: []string{dirError}, base: 0},
		{name: "scan gpt-entries", args: []string{"scan", im.gpt}, limit: "gpt-entries=64",
			code: 3, want: []string{gptError}, base: 0},
		{name: "info gpt-entries", args: []string{"info", im.gpt}, limit: "gpt-entries=64",
			code: 3, want: []string{gptError}, base: 0},
		{name: "diff gpt-entries", args: []string{"diff", im.gpt, im.qcow}, limit: "gpt-entries=64",
			code: 3, want: []string{gptError}, base: 0},
		{name: "do submit gpt-entries", args: []string{"do", "submit", "--dry-run", "--app-id", "app", "--image-id", "7", im.gpt}, limit: "gpt-entries=64",
			code: 3, want: []string{gptError}, base: 0},
		{name: "scan ebr-links", args: []string{"scan", "--color", "never", "-v", im.mbr}, limit: "ebr-links=1",
			code: 0, want: []string{"[INFO] disk.layout: ", "is longer than 1 links (the ebr-links limit); stopped"}, base: 0},
		{name: "scan backing-depth", args: []string{"scan", "--allow-backing", im.backed}, limit: "backing-depth=1",
			code: 3, want: []string{`backing chain deeper than 1 files (the backing-depth limit) at "base.raw"`}, base: 0},
		{name: "scan qcow2-l1", args: []string{"scan", im.qcow}, limit: "qcow2-l1=4",
			code: 3, want: []string{"qcow2: L1 table of 1 entries exceeds 4 B (the qcow2-l1 limit)"}, base: 0},
		{name: "info qcow2-l1", args: []string{"info", im.qcow}, limit: "qcow2-l1=4",
			code: 3, want: []string{"exceeds 4 B (the qcow2-l1 limit)"}, base: 0},
		{name: "scan rpm-db", args: []string{"scan", "--color", "never", im.rpm}, limit: "rpm-db=4KiB",
			code: 3, want: []string{"[ERROR] ssh.server: cannot evaluate: package database: /var/lib/rpm/rpmdb.sqlite: file exceeds read cap: ", "over 4096 (the rpm-db limit), cap reached"}, base: 1},
		{name: "diff rpm-db", args: []string{"diff", im.rpm, im.rpm}, limit: "rpm-db=4KiB",
			code: 3, want: []string{"packages: /var/lib/rpm/rpmdb.sqlite: file exceeds read cap: "}, base: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			limited := append([]string{tt.args[0], "--limit", tt.limit}, tt.args[1:]...)
			if tt.args[0] == "do" {
				limited = append([]string{"do", tt.args[1], "--limit", tt.limit}, tt.args[2:]...)
			}
			stdout, stderr, code := runCmd(t, limited...)
			all := stdout + stderr
			if code != tt.code {
				t.Errorf("with --limit %s: exit %d, want %d; stderr %q", tt.limit, code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("with --limit %s: output lacks %q:\n%s", tt.limit, w, all)
				}
			}
			stdout, stderr, code = runCmd(t, tt.args...)
			all = stdout + stderr
			if code != tt.base {
				t.Errorf("without --limit: exit %d, want %d; stderr %q", code, tt.base, stderr)
			}
			for _, w := range tt.want {
				if strings.Contains(all, w) && !strings.HasPrefix(w, "[INFO]") {
					t.Errorf("without --limit: output has %q:\n%s", w, all)
				}
			}
		})
	}
}

var hitRate = regexp.MustCompile(`(\d+) bytes read in \d+ read calls, cache hit rate ([\d.]+)%`)

// scanStats scans path with the extra arguments and returns the bytes
// read and the block cache's hit rate that --stats reports.
func scanStats(t *testing.T, path string, args ...string) (bytesRead int64, rate float64) {
	t.Helper()
	_, stderr, code := runCmd(t, append(append([]string{"scan", "--stats"}, args...), path)...)
	m := hitRate.FindStringSubmatch(stderr)
	if code != 0 || m == nil {
		t.Fatalf("scan %s %s: exit %d, stderr %q", strings.Join(args, " "), path, code, stderr)
	}
	bytesRead, _ = strconv.ParseInt(m[1], 10, 64)
	rate, _ = strconv.ParseFloat(m[2], 64)
	return bytesRead, rate
}

// TestLimitCaches checks that the memory limits reach the caches: the
// verdict stays the same, but a one-block cache hits less often, and a
// smaller qcow2 cluster cache under it reads more of the file.
func TestLimitCaches(t *testing.T) {
	im := buildLimitsImages(t)
	_, rate := scanStats(t, im.gpt)
	_, small := scanStats(t, im.gpt, "--limit", "cache=64KiB")
	if small >= rate {
		t.Errorf("cache=64KiB: hit rate %.1f%%, default %.1f%%; want lower", small, rate)
	}
	// 4 KiB clusters: the smallest cluster cache holds 8 of them.
	qcow := fixtures.MustQCOW2(t, im.gpt, fixtures.QCOW2Options{ClusterSize: 4096})
	big, _ := scanStats(t, qcow, "--limit", "cache=64KiB")
	smallQ, _ := scanStats(t, qcow, "--limit", "cache=64KiB", "--limit", "qcow2-cache=1")
	if smallQ <= big {
		t.Errorf("qcow2-cache=1: %d bytes read, default %d; want more", smallQ, big)
	}
}

// TestLimitUsage checks that a bad --limit is a usage error listing every
// limit with its default, and that scan --help lists them.
func TestLimitUsage(t *testing.T) {
	const list = "symlink-hops=40, dir-entries=1000000, gpt-entries=16384, ebr-links=256, backing-depth=8, qcow2-l1=32MiB, cache=32MiB, qcow2-cache=32MiB"
	for _, arg := range []string{"hops=3", "symlink-hops=0", "symlink-hops=-1", "symlink-hops=x", "dir-entries", "cache=0", "qcow2-l1=lots", "gpt-entries=1.5"} {
		for _, verb := range []string{"scan", "info", "ls", "cat", "diff"} {
			_, stderr, code := runCmd(t, verb, "--limit", arg, "a.img", "b")
			if code != 2 || !strings.Contains(stderr, list) || !strings.Contains(stderr, `for "--limit" flag`) {
				t.Errorf("%s --limit %s: exit %d, stderr %q; want 2 and the list of limits", verb, arg, code, stderr)
			}
		}
	}
	help, _, code := runCmd(t, "scan", "--help")
	if code != 0 || !strings.Contains(help, "--limit NAME=VALUE") {
		t.Fatalf("scan --help: exit %d, no --limit:\n%s", code, help)
	}
	for _, def := range strings.Split(list, ", ") {
		if !strings.Contains(help, "  "+def+" ") {
			t.Errorf("scan --help lacks %q", def)
		}
	}
	var l limits
	for _, arg := range []string{"symlink-hops=3", "cache=1MiB", "symlink-hops=5", "qcow2-l1=4096"} {
		if err := l.Set(arg); err != nil {
			t.Fatalf("Set(%q): %v", arg, err)
		}
	}
	il := l.imageLimits()
	if l.symlinkHops != 5 || l.cache != 1<<20 || l.dirEntries != 0 || il.QCOW2L1Bytes != 4096 || il.GPTEntries != 0 {
		t.Errorf("limits %+v, image limits %+v; want the last symlink-hops, cache 1 MiB, L1 4096 bytes, the rest 0 (default)", l, il)
	}
	if s := l.String(); s != "symlink-hops=3,cache=1MiB,symlink-hops=5,qcow2-l1=4096" {
		t.Errorf("String() = %q", s)
	}
}
