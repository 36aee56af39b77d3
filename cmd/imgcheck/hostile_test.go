package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestMain lets a test run the command in a child process (see runChild):
// with IMGCHECK_TEST_CHILD=1 the test binary is imgcheck itself.
func TestMain(m *testing.M) {
	if os.Getenv("IMGCHECK_TEST_CHILD") == "1" {
		code := run(os.Args[1:], os.Stdout, os.Stderr)
		if f := os.Getenv("IMGCHECK_TEST_HWM"); f != "" {
			// The peak resident set of this process alone: rusage's
			// maxrss would include the parent's at fork.
			status, _ := os.ReadFile("/proc/self/status")
			os.WriteFile(f, status, 0o644)
		}
		os.Exit(code)
	}
	// A Droplet size catalogue saved in the user's own configuration
	// directory must not change what the tests see.
	config, err := os.MkdirTemp("", "imgcheck-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", config)
	code := m.Run()
	os.RemoveAll(config)
	os.Exit(code)
}

// childResult is how a child imgcheck process ended.
type childResult struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // peak resident memory, bytes
}

// childTimeout bounds one child process: a hang becomes a failure naming
// the case instead of a stuck test binary.
const childTimeout = 2 * time.Minute

var vmHWM = regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB`)

// runChild runs imgcheck args in a child process with a deadline and
// reports its output, exit code and peak memory.
func runChild(t *testing.T, env []string, args ...string) childResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	hwm := filepath.Join(t.TempDir(), "status")
	cmd.Env = append(append(os.Environ(), "IMGCHECK_TEST_CHILD=1", "IMGCHECK_TEST_HWM="+hwm), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("imgcheck %s: no answer within %v (hang?)", strings.Join(args, " "), childTimeout)
	}
	r := childResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("imgcheck %s: %v", strings.Join(args, " "), err)
	}
	if status, err := os.ReadFile(hwm); err == nil {
		if m := vmHWM.FindSubmatch(status); m != nil {
			kib, _ := strconv.ParseInt(string(m[1]), 10, 64)
			r.maxRSS = kib << 10
		}
	}
	return r
}

// A hostileCase is one image of the hostile corpus and what imgcheck must
// say about it.
type hostileCase struct {
	name string
	path string
	args []string // extra scan flags
	code int      // exit code of imgcheck scan
	want []string // each must appear in stdout or stderr
}

// hostileCorpus builds every image of the hostile corpus from fixture
// images (fixtures/hostile*.go).
func hostileCorpus(t *testing.T) []hostileCase {
	t.Helper()
	must := fixtures.MustHostile(t)
	cache := fixtures.CacheDir()
	root := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	plain := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20, Features: "^metadata_csum"})
	disk := gptImage(t, cleanTree())
	qcow := fixtures.MustQCOW2(t, disk, fixtures.QCOW2Options{})
	qcowZ := fixtures.MustQCOW2(t, disk, fixtures.QCOW2Options{Compress: true})
	inDisk := func(fs string) string {
		return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fs}}})
	}
	mbr := fixtures.MustDisk(t, fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
		{Type: "linux", Image: root, Bootable: true}, {Type: "extended"},
		{Type: "linux", Logical: true, Size: 1 << 20}, {Type: "linux", Logical: true, Size: 1 << 20},
	}})
	data := fixtures.MustExt4(t, fstest.MapFS{"srv/data.txt": fixtures.File("payload\n", 0o644)}, fixtures.Ext4Options{Size: 16 << 20})
	secondRoot := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: data}, {Type: "linux", Image: root}}})
	loops := cleanTree()
	loops["etc/passwd"] = fixtures.Symlink("passwd-")
	loops["etc/passwd-"] = fixtures.Symlink("/etc/passwd")
	loops["etc/ssh/sshd_config"] = fixtures.Symlink("sshd_config")
	dirs := cleanTree()
	dirs["tmp/a/b/c"] = fixtures.File("x\n", 0o644)
	dirLoop := inDisk(must(fixtures.Ext4Debugfs(must(fixtures.Ext4(cache, dirs, fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})),
		"ln /tmp /tmp/a/b/up", "ln / /var/log/root", "ln /var/log /var/log/again")))
	frag := must(fixtures.Ext4Fragmented(must(fixtures.Ext4Debugfs(plain, "rm /etc/ssh/sshd_config")), "/etc/ssh/sshd_config", 8))
	extentLoop := inDisk(must(fixtures.Ext4ExtentLoop(frag, "/etc/ssh/sshd_config")))
	escapes := cleanTree()
	escapes["etc/shadow"] = fixtures.Symlink("/../../../../../etc/shadow")
	escapes["root/.ssh"] = fixtures.Symlink("../../../../../root/.ssh")
	escapes["etc/ssh/sshd_config"] = fixtures.Symlink("../../../../../../../etc/ssh/sshd_config")

	const noRoot = "no Linux root filesystem found"
	return []hostileCase{
		{name: "gpt cut in the entry array", path: must(fixtures.Truncated(disk, 8192)), code: 3,
			want: []string{"GPT entry array at LBA 2 runs past the end of the disk", "backup unreadable"}},
		{name: "qcow2 cut in the L1 table", path: must(fixtures.QCOW2TruncatedL1(qcow)), code: 3,
			want: []string{"qcow2: L1 table at 0x", "runs past end of file"}},
		{name: "ext4 cut in the inode table", path: must(fixtures.Ext4TruncatedInodeTable(root, "/etc/passwd")), code: 3,
			want: []string{noRoot, "partition 1: ext4: corrupt filesystem: superblock:", "(truncated image?)"}},
		{name: "random bytes", path: must(fixtures.RandomBytes(cache, 4<<20, 8)), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)"}},
		{name: "all zeros", path: must(fixtures.Zeros(cache, 4<<20)), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)"}},
		{name: "zero length", path: must(fixtures.Zeros(cache, 0)), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)"}},
		{name: "qcow2 L1 past EOF", path: must(fixtures.QCOW2L1PastEOF(qcow)), code: 3,
			want: []string{"qcow2: L1 table at 0x", "runs past end of file"}},
		// qemu-img reads these two as zeros too: the virtual disk is
		// empty, not unreadable.
		{name: "qcow2 L1 over the refcount table", path: must(fixtures.QCOW2OverlappingTables(qcow)), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)", "none, 1 partitions"}},
		{name: "qcow2 L2 table at the header", path: must(fixtures.QCOW2L2AtHeader(qcow)), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)", "none, 1 partitions"}},
		// Like qemu, the reader inflates a cluster no further than its
		// size: the bomb becomes one cluster of zeros where the ext4
		// superblock was.
		{name: "qcow2 cluster inflating past its size", path: must(fixtures.QCOW2InflatingCluster(qcowZ)), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)", "gpt, 1 partitions"}},
		{name: "qcow2 data cluster past EOF", path: must(fixtures.QCOW2ClusterPastEOF(qcow, 1<<20)), code: 3,
			want: []string{noRoot + " (partition 1: qcow2: "}},
		{name: "gpt with 100k entries", path: must(fixtures.GPTEntryCount(disk, 100000)), code: 3,
			want: []string{"GPT 100000 entries of 128 bytes is more than imgcheck reads (the gpt-entries limit is 16384) at LBA 1 and backup unreadable"}},
		{name: "mbr with a looping EBR", path: must(fixtures.EBRLoop(mbr)), args: []string{"--format", "json"}, code: 0,
			want: []string{`"EBR chain loops back to LBA `, `"verdict": "pass"`}},
		{name: "mbr with a looping EBR, text", path: must(fixtures.EBRLoop(mbr)), code: 0,
			want: []string{"[INFO] disk.layout: ", "EBR chain loops back to LBA "}},
		{name: "ext4 bad superblock magic", path: inDisk(must(fixtures.Ext4BadMagic(root))), code: 3,
			want: []string{noRoot + " (partition 1: no filesystem recognised)"}},
		// fsinspect/ext4 does not verify checksums (its package doc says
		// so); every structure is bounds-checked instead.
		{name: "ext4 bad group descriptor checksum", path: inDisk(must(fixtures.Ext4BadGroupChecksum(root))), code: 0,
			want: []string{"OS:      Ubuntu 22.04.4 LTS (deb)", ": PASS: 0 FAIL, 0 ERROR"}},
		{name: "ext4 inode pointing outside the fs", path: inDisk(must(fixtures.Ext4InodeOutside(plain, "/etc/passwd"))), code: 3,
			want: []string{"[ERROR] accounts.password: cannot evaluate: /etc/passwd: readfile etc/passwd: ext4: corrupt filesystem: inode ",
				"extent of 1 blocks at block 140737488355312 outside 65536 blocks"}},
		{name: "ext4 directories hard-linked into themselves", path: dirLoop, code: 3, want: []string{
			`[ERROR] clean.tmp-contents: cannot evaluate: /tmp/a: readdir tmp/a/b/up: ext4: corrupt filesystem: inode `, `directory "up" refers back to its ancestor`,
			`[ERROR] logs.uncleared: cannot evaluate: /var/log: readdir var/log/`, `refers back to its ancestor`}},
		{name: "ext4 extent tree pointing back at itself", path: extentLoop, code: 3, want: []string{"[ERROR] sshd.root-login: cannot evaluate: /etc/ssh/sshd_config:", "ext4: corrupt filesystem: inode ", "extent node of depth 1 below depth 1"}},
		{name: "ext4 directory claiming 4 GiB", path: inDisk(must(fixtures.Ext4InodeSize(plain, "/var/log", 4<<30))), code: 3,
			want: []string{"[ERROR] logs.uncleared: cannot evaluate: /var/log: readdir var/log: ext4: corrupt filesystem: inode ", "directory size 4294967296"}},
		// Loops are guest facts: the files count as absent.
		{name: "symlink loops", path: gptImage(t, loops), code: 0,
			want: []string{"subject=/etc/ssh/sshd_config keyword=PermitRootLogin value=prohibit-password source=default"}},
		{name: "absolute symlinks escaping", path: gptImage(t, escapes), code: 0,
			want: []string{"[INFO] accounts.password: no /etc/shadow: password fields read from /etc/passwd"}},
		{name: "root on the second linux partition", path: secondRoot, code: 0,
			want: []string{"OS:      Ubuntu 22.04.4 LTS (deb)", "root_offset=17825792"}},
		// 10⁸ groups of one 1 KiB block, with 3.2 GB of valid
		// descriptors in a 1.6 MB qcow2: descriptors are read on demand
		// (the first and last at open), nothing is sized by the count.
		{name: "ext4 claiming 10^8 block groups", path: groupBomb(t, 100_000_000), code: 3,
			want: []string{noRoot + " (partition 1: looking for os-release: lstat etc/os-release: ext4: corrupt filesystem: inode 2: mode 00)"}},
		// A directory too large for the entry-count cache was parsed again
		// for every lookup in it: ls -R never ended. Now its index is
		// cached by bytes, and one too large for memory is refused.
		{name: "ext4 directory of 201k entries", path: bigDir(t, "/var/log/many", 201_000, 12), code: 0,
			want: []string{"[PASS] logs.uncleared: every log file under /var/log is empty"}},
		{name: "ext4 directory of 190k names of 255 bytes", path: bigDir(t, "/var/log/long", 190_000, 255), code: 3,
			want: []string{"[ERROR] logs.uncleared: cannot evaluate: /var/log: readdir var/log/long: ext4: unsupported: inode ", "directory index needs more than 33554432 bytes of memory"}},
		// Each lookup walked every prefix from the root: 40 symlinks
		// diving 800 levels took cat 20 s, and ls -R of a 1,500-deep tree
		// never ended. Now a lookup visits at most 4096 components
		// (lookup-components) and starts below the directories it knows.
		{name: "40 symlinks diving 800 levels", path: symlinkDive(t, 40, 800), code: 3,
			want: []string{"[ERROR] accounts.users: cannot evaluate: /etc/passwd: open etc/passwd: lookup visits too many path components"}},
		{name: "1,500-deep directory tree", path: deepTree(t, 1500), code: 0,
			want: []string{"OS:      Ubuntu 22.04.4 LTS (deb)"}},
		// Two hard links per level, 30 levels: 2^30 paths. ls -R walks
		// with fsinspect.Guest.WalkDir, which enters each directory once.
		{name: "ext4 directory DAG of 2^30 paths", path: inDisk(must(fixtures.Ext4DirDAG(root, "/etc/dag", 30))), code: 0,
			want: []string{"OS:      Ubuntu 22.04.4 LTS (deb)"}},
		// The same under /var/log, which the log rules walk: each
		// directory is read once per walk.
		{name: "ext4 directory DAG under /var/log", path: inDisk(must(fixtures.Ext4DirDAG(root, "/var/log/dag", 30))), code: 0,
			want: []string{"OS:      Ubuntu 22.04.4 LTS (deb)"}},
		{name: "guest text with ESC sequences, newlines and Latin-1 names", path: gptImage(t, escapeNamesTree()), code: 0,
			want: []string{`OS:      Ubuntu 22.04.4 LTS\x1b[2J\x1b]0;pwned\a (deb)`, `[WARN] clean.tmp-contents: /tmp/caf\xe9 is left over`,
				`[WARN] clean.tmp-contents: /tmp/x\n[PASS] forged is left over`, `log file /var/log/caf\xe9.log is not truncated`}},
		{name: "private key behind 100 KiB of blank lines", path: gptImage(t, schemesTree()), code: 1,
			want: []string{"[FAIL] ssh.private-keys: Private key (pem-rsa) in /root/.ssh/id_rsa"}},
		{name: "possible private key past the search cap", path: gptImage(t, capTree()), code: 3,
			want: []string{"[ERROR] ssh.private-keys: cannot evaluate: /root/.ssh/id_rsa: cap reached"}},
		// Decompression bombs expanded toward the 200 GiB --max-expand
		// for minutes (bzip2: 45). Past its first 256 MiB an upload may
		// expand at most 1000 times what it has read (expand-ratio).
		{name: "bzip2 bomb: 200 GiB of zeros in 3,200 streams", path: compressionBomb(t, "bzip2", 3200), code: 3,
			want: []string{"bzip2: upload expands to 256 MiB from ", expandRatioSays}},
		{name: "zstd bomb: 200 GiB of zeros in 3,200 frames", path: compressionBomb(t, "zstd", 3200), code: 3,
			want: []string{"zstd: upload expands to 256 MiB from ", expandRatioSays}},
		{name: "gzip bomb: 4 GiB of zeros in 64 members", path: compressionBomb(t, "gzip", 64), code: 3,
			want: []string{"gzip: upload expands to 256 MiB from ", expandRatioSays}},
		// The decoders allocated what the headers declare.
		{name: "xz stream declaring a 4 GiB dictionary", path: xzDictionaryBomb(t), code: 3,
			want: []string{"xz block at 0xc declares a 4.0 GiB dictionary, over the xz-dictionary limit of 64 MiB; --limit xz-dictionary=SIZE raises it"}},
		{name: "zstd frame declaring a 512 MiB window", path: zstdWindowBomb(t, 29), code: 3,
			want: []string{"zstd: a frame declares a window over the zstd-window limit of 128 MiB; --limit zstd-window=SIZE raises it"}},
	}
}

// expandRatioSays is the end of the error refusing a decompression bomb.
const expandRatioSays = "more than 1000 times over past the first 256 MiB (the expand-ratio limit; a decompression bomb? --limit expand-ratio=N raises it)"

// compressionBomb is an upload of copies streams of 64 MiB of zeros, each
// made by kind's real tool (bzip2: 50 bytes a stream).
func compressionBomb(t *testing.T, kind string, copies int) string {
	must := fixtures.MustHostile(t)
	return must(fixtures.Repeat(must(fixtures.ZeroStream(fixtures.CacheDir(), kind, 64<<20)), copies))
}

// xzDictionaryBomb is xz's compression of 512 MiB of zeros in one block
// whose header declares a 4 GiB dictionary: the decoder kept all 512 MiB.
func xzDictionaryBomb(t *testing.T) string {
	must := fixtures.MustHostile(t)
	return must(fixtures.XZDictionary(must(fixtures.ZeroStream(fixtures.CacheDir(), "xz", 512<<20)), 40))
}

// zstdWindowBomb is zstd's compression of 512 MiB of zeros in one frame
// declaring a window of 2^log bytes: the decoder keeps that much.
func zstdWindowBomb(t *testing.T, log int) string {
	must := fixtures.MustHostile(t)
	return must(fixtures.ZstdWindow(must(fixtures.ZeroStream(fixtures.CacheDir(), "zstd", 512<<20)), log))
}

// TestHostileCorpus scans every image of the hostile corpus in a child
// process with a deadline: each ends with its expected exit code and
// verdict or one-line error, and none panics, hangs or reports an
// internal error. info, ls -R and cat end too.
func TestHostileCorpus(t *testing.T) {
	for _, c := range hostileCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			r := runChild(t, nil, append(append([]string{"scan", "--color", "never", "-v"}, c.args...), c.path)...)
			all := r.stdout + r.stderr
			if r.code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, c.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "panic") || strings.Contains(all, "goroutine ") || strings.Contains(all, "internal error") {
				t.Errorf("a panic reached the output:\n%s", all)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 0 {
				t.Errorf("the error must be one line: %q", r.stderr)
			}
			if r.stderr != "" && !strings.Contains(r.stderr, c.path) {
				t.Errorf("the error does not name the image: %q", r.stderr)
			}
			// The other verbs walk the same structures: no panic, no
			// hang, a decided exit code.
			for _, args := range [][]string{{"info", c.path}, {"ls", "-R", c.path, "/"}, {"cat", c.path, "/etc/passwd"}} {
				r := runChild(t, nil, args...)
				if r.code != 0 && r.code != 3 || strings.Contains(r.stderr, "goroutine ") {
					t.Errorf("imgcheck %s: exit %d:\n%s", args[0], r.code, r.stderr)
				}
			}
		})
	}
}

// TestHostileBatch: bad images in a parallel batch do not stop it; every
// image gets its own report and the good one still passes.
func TestHostileBatch(t *testing.T) {
	good := gptImage(t, cleanTree())
	args := []string{"scan", "-j", "2", "--color", "never", good}
	corpus := hostileCorpus(t)
	for _, c := range corpus {
		args = append(args, c.path)
	}
	r := runChild(t, nil, args...)
	want := 3 // some images could not be read; a FAIL anywhere wins over 3
	for _, c := range corpus {
		if c.code == 1 {
			want = 1
		}
	}
	if r.code != want {
		t.Errorf("exit %d, want %d; stderr %q", r.code, want, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(good) + ` +Ubuntu +22\.04 .* PASS$`).MatchString(r.stdout) {
		t.Errorf("the good image lost its verdict in the batch:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("%d images: ", len(corpus)+1)) {
		t.Errorf("the batch summary does not count every image:\n%s", r.stdout)
	}
	for _, c := range corpus {
		if !strings.Contains(r.stdout+r.stderr, c.path) {
			t.Errorf("%s (%s) is missing from the batch output", c.name, c.path)
		}
	}
}
