package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// memoryBound is the peak resident memory imgcheck may use on these
// images, as the README's security model promises. Reports are built in
// memory, so the peak grows with the number of findings: 13,000 here;
// 33,000 (one WARN per /tmp entry) reach about 250 MiB for SARIF alone.
const memoryBound = 256 << 20

// bigTree is cleanTree with what makes a reader allocate: directories of
// thousands of entries (each a finding) and files far over every read
// cap (sparse).
func bigTree(t *testing.T) fstest.MapFS {
	tree := cleanTree()
	for i := range 10000 {
		tree[fmt.Sprintf("tmp/f%05d", i)] = fixtures.File("", 0o644)
	}
	for i := range 3000 {
		tree[fmt.Sprintf("var/log/app.%d.log", i)] = fixtures.File("x\n", 0o640)
	}
	sparse := func(size int64) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("head\n"), Mode: 0o600, Sys: fixtures.Meta{SparseSize: size}}
	}
	tree["root/.bash_history"] = sparse(512 << 20)
	tree["var/log/huge.log"] = sparse(4 << 30)
	tree["etc/ssh/sshd_config.d/big.conf"] = sparse(100 << 20)
	tree["root/.ssh/authorized_keys"] = sparse(200 << 20)
	tree["var/backups/under-cap.bin"] = sparse(60 << 20) // cat prints up to 64 MiB
	return tree
}

// TestMemoryBound scans the worst images in child processes, in every
// format at once, and lists and reads their largest files: the peak
// resident memory of each process stays under memoryBound, and every cap
// ends in an ERROR or a one-line error, never a crash. (--hash=false
// spares hashing 25 GiB of holes.)
func TestMemoryBound(t *testing.T) {
	must := fixtures.MustHostile(t)
	fsimg := fixtures.MustExt4(t, bigTree(t), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 512 << 20, Extra: []string{"-N", "20000"}})
	big := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", DiskSize: 25 << 30, Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
	bigQ := fixtures.MustQCOW2(t, big, fixtures.QCOW2Options{Compress: true, CompressionType: "zstd"})
	clean := gptImage(t, cleanTree())
	cleanZ := fixtures.MustQCOW2(t, clean, fixtures.QCOW2Options{Compress: true})
	out := t.TempDir()
	cases := []struct {
		name string
		args []string
	}{
		{"big raw", []string{"scan", "--format", "json=" + filepath.Join(out, "r.json"), "--format", "sarif=" + filepath.Join(out, "r.sarif"),
			"--format", "junit=" + filepath.Join(out, "r.xml"), "--format", "text", "--show-contents", "--hash=false", big}},
		{"big qcow2 zstd", []string{"scan", "--format", "json", "--hash=false", bigQ}},
		{"big img_check", []string{"scan", "--profile", "img_check", "--show-contents", bigQ}},
		{"ls -R", []string{"ls", "-R", big, "/"}},
		{"cat over the cap", []string{"cat", big, "/var/log/huge.log"}},
		{"cat history", []string{"cat", bigQ, "/root/.bash_history"}},
		{"cat 60 MiB", []string{"cat", bigQ, "/var/backups/under-cap.bin"}},
		{"img_check 20k rotated logs", []string{"scan", "--profile", "img_check", rotatedLogs(t)}},
		{"dpkg status of 64 MiB", []string{"scan", hugeDpkg(t)}},
		{"diff of 64 MiB dpkg status", []string{"diff", clean, hugeDpkg(t)}},
		{"qcow2 cluster bomb", []string{"scan", must(fixtures.QCOW2InflatingCluster(cleanZ))}},
		{"gpt 100k entries", []string{"scan", must(fixtures.GPTEntryCount(clean, 100000))}},
		{"gzip upload", []string{"scan", "--tmpdir", t.TempDir(), fixtures.MustGzip(t, clean, "gzip")}},
		{"batch", []string{"scan", "-j", "2", big, bigQ, clean, cleanZ}},
		{"ext4 claiming 10^9 block groups", []string{"scan", groupBomb(t, 1_000_000_000)}},
		{"8k inline_data inodes of 32 KiB, scan", []string{"scan", "--hash=false", inlineBomb(t)}},
		{"8k inline_data inodes of 32 KiB, ls -R", []string{"ls", "-R", inlineBomb(t), "/"}},
		{"201k entries in /var/log/many, scan", []string{"scan", "--hash=false", bigDir(t, "var/log/many", 201_000, 12)}},
		{"201k entries in /var/log/many, ls -R", []string{"ls", "-R", bigDir(t, "var/log/many", 201_000, 12), "/"}},
		{"190k names of 255 bytes, scan", []string{"scan", "--hash=false", bigDir(t, "var/log/long", 190_000, 255)}},
		{"190k names of 255 bytes, ls -R", []string{"ls", "-R", bigDir(t, "var/log/long", 190_000, 255), "/"}},
		// The img_check profile streams lfd.log to count its lines: the
		// file-read limit ends it with an ERROR (it never ended).
		{"lfd.log of 4 TiB in four blocks, img_check", []string{"scan", "--profile", "img_check", lfdBomb(t)}},
		// The rpm database was read whole (516 MiB) and, as a Berkeley DB
		// claiming every page, walked page by page by go-rpmdb (1 GiB).
		{"rpm Packages of 500 MiB claiming every page, scan", []string{"scan", "--hash=false", sparseRPMImage(t, 500<<20, true)}},
		{"rpmdb.sqlite of 500 MiB, diff", []string{"diff", sparseRPMImage(t, 500<<20, false), sparseRPMImage(t, 500<<20, true)}},
		// Decoders: a bomb stops at its ratio; headers declaring more
		// memory than the limits are refused before it is allocated;
		// at the zstd limit the window fills (128 MiB) before the ratio
		// stops the zeros.
		{"bzip2 bomb of 200 GiB", []string{"scan", compressionBomb(t, "bzip2", 3200)}},
		{"xz 4 GiB dictionary", []string{"scan", xzDictionaryBomb(t)}},
		{"zstd 512 MiB window", []string{"scan", zstdWindowBomb(t, 29)}},
		{"zstd 128 MiB window, the limit", []string{"scan", zstdWindowBomb(t, 27)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runChild(t, nil, c.args...)
			t.Logf("exit %d, peak RSS %d MiB", r.code, r.maxRSS>>20)
			if r.maxRSS == 0 {
				t.Fatal("no peak RSS measured")
			}
			if r.maxRSS > memoryBound {
				t.Errorf("peak RSS %d MiB is over the %d MiB bound", r.maxRSS>>20, memoryBound>>20)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("crashed:\n%s", r.stderr)
			}
			if r.code == 2 {
				t.Errorf("usage error: %s", r.stderr)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != 3 {
		t.Errorf("--output-dir wrote %v", files)
	}
}

// groupBomb is a qcow2 disk whose ext4 superblock claims groups block
// groups of one 1 KiB block (fixtures.Ext4GroupCount), each with a valid
// descriptor: a terabyte-sized virtual disk whose gigabytes of
// descriptors are one repeated qcow2 cluster, in a file of a few MiB.
func groupBomb(t *testing.T, groups uint32) string {
	must := fixtures.MustHostile(t)
	plain := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20, BlockSize: 1024, Features: "^metadata_csum"})
	const partStart = 1 << 20 // where fixtures.Disk puts the first partition
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", DiskSize: int64(groups)<<10 + 16<<20,
		Parts: []fixtures.Part{{Type: "linux", Size: fixtures.Rest, Image: must(fixtures.Ext4GroupCount(plain, groups))}}})
	q := fixtures.MustQCOW2(t, disk, fixtures.QCOW2Options{})
	from := int64(partStart + fixtures.Ext4GroupTableFilled - 64<<10)
	return must(fixtures.QCOW2RepeatCluster(q, from, partStart+2048+int64(groups)*32))
}

// inlineBomb is a disk whose /tmp holds 8,192 inline_data files of 30,000
// bytes, each kept in its own 32 KiB inode (64 KiB blocks): 256 MiB of
// inodes that compress to a few MiB.
func inlineBomb(t *testing.T) string {
	tree := cleanTree()
	data := strings.Repeat("x", 30000)
	for i := range 8192 {
		tree[fmt.Sprintf("tmp/inline%04d", i)] = fixtures.File(data, 0o644)
	}
	fsimg := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 400 << 20, BlockSize: 65536, InodeSize: 32768,
		Features: "inline_data,^has_journal,^metadata_csum", Extra: []string{"-N", "8400"}})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
	return fixtures.MustQCOW2(t, disk, fixtures.QCOW2Options{Compress: true})
}

// bigDir is a disk whose directory dir holds n hard links to
// /etc/machine-id with names of nameLen bytes, in plain unindexed blocks
// (fixtures.Ext4BigDir): every lookup in it that misses the directory
// cache parses it whole.
func bigDir(t *testing.T, dir string, n, nameLen int) string {
	must := fixtures.MustHostile(t)
	fsimg := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", BlockSize: 4096, Size: int64(n)*int64(nameLen+12) + 64<<20})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: must(fixtures.Ext4BigDir(fsimg, dir, n, nameLen, "/etc/machine-id"))}}})
}

// deepTree is a disk whose /srv/deep holds a chain of depth directories,
// with a file at the bottom.
func deepTree(t *testing.T, depth int) string {
	tree := cleanTree()
	tree["srv/deep/"+strings.Repeat("d/", depth)+"bottom"] = fixtures.File("x\n", 0o644)
	return gptImage(t, tree)
}

// symlinkDive is a disk whose /etc/passwd resolves through links
// symlinks, each diving depth directories down /srv/deep and climbing
// back before naming the next: links×2×depth components for one lookup.
func symlinkDive(t *testing.T, links, depth int) string {
	tree := cleanTree()
	tree["srv/deep/"+strings.Repeat("d/", depth)+"bottom"] = fixtures.File("x\n", 0o644)
	dive := "../srv/deep/" + strings.Repeat("d/", depth) + strings.Repeat("../", depth+2)
	for i := range links {
		next := "etc/passwd-real"
		if i+1 < links {
			next = fmt.Sprintf("etc/dive%02d", i+1)
		}
		tree[fmt.Sprintf("etc/dive%02d", i)] = fixtures.Symlink(dive + next)
	}
	tree["etc/passwd-real"] = tree["etc/passwd"]
	tree["etc/passwd"] = fixtures.Symlink("dive00")
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux",
		Image: fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", BlockSize: 4096, Size: 64 << 20})}}})
}

// lfdBomb is a disk whose /var/log/lfd.log claims 4 TiB described by four
// blocks (fixtures.Ext4SharedIndirect): lines of x repeated forever, which
// the img_check profile streams to count.
func lfdBomb(t *testing.T) string {
	must := fixtures.MustHostile(t)
	tree := cleanTree()
	tree["var/log/lfd.log"] = fixtures.File(strings.Repeat(strings.Repeat("x", 63)+"\n", 256), 0o600)
	fsimg := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", BlockSize: 4096, Size: 64 << 20, Features: "^extent,^64bit,^metadata_csum"})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux",
		Image: must(fixtures.Ext4SharedIndirect(fsimg, "/var/log/lfd.log", 4<<40))}}})
}

// rotatedLogs builds an image with 20,000 rotated logs in /var/log: one
// finding each in the img_check profile, which folds them past the
// per-rule cap but keeps the script's counters.
func rotatedLogs(t *testing.T) string {
	tree := cleanTree()
	for i := range 20000 {
		tree[fmt.Sprintf("var/log/app%06d.log.1", i)] = fixtures.File("", 0o640)
	}
	fsimg := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 256 << 20, Extra: []string{"-N", "24000"}})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
}

// hugeDpkg builds an image whose dpkg status is just under the 64 MiB cap,
// of stanzas as small as dpkg accepts: about 1.3 million packages.
func hugeDpkg(t *testing.T) string {
	tree := cleanTree()
	var b strings.Builder
	for i := 0; b.Len() < 64<<20-64; i++ {
		fmt.Fprintf(&b, "Package: p%d\nStatus: install ok installed\nVersion: 1\n\n", i)
	}
	tree["var/lib/dpkg/status"] = fixtures.File(b.String(), 0o644)
	fsimg := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 128 << 20})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
}
