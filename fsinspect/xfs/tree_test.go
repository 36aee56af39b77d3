package xfs_test

import (
	"fmt"
	"io/fs"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// featureSets are the filesystems the tree tests build: today's mkfs
// defaults, small blocks (directories and files in a btree fork), large
// directory blocks, and v4 with and without file types in directories.
var featureSets = []struct {
	name string
	opts fixtures.XFSOptions
}{
	{"v5", fixtures.XFSOptions{Label: "root"}},
	{"v5-1k", fixtures.XFSOptions{BlockSize: 1024}},
	{"v5-dir64k", fixtures.XFSOptions{DirBlock: 65536, Extra: []string{"-i", "nrext64=1"}}},
	{"v5-nobigtime", fixtures.XFSOptions{Extra: []string{"-m", "bigtime=0,finobt=0,reflink=0", "-i", "sparse=0"}}},
	{"v4", fixtures.XFSOptions{V4: true, BlockSize: 1024, InodeSize: 256}},
	{"v4-noftype", fixtures.XFSOptions{V4: true, Extra: []string{"-n", "ftype=0"}}},
}

// TestTree reads every declared entry back on each feature set, and
// compares the whole tree with the kernel's view where loop mounts work.
func TestTree(t *testing.T) {
	t.Parallel()
	for _, set := range featureSets {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			tree := standardTree(true, true)
			if set.opts.V4 {
				// Remote symlinks: mkfs.xfs 6.1 writes those of a v5
				// filesystem without their block header (the kernel
				// rejects them too); TestWrittenByKernel covers them.
				tree["l/long"] = fixtures.Symlink(longTarget(1000))
				tree["l/max"] = fixtures.Symlink(longTarget(1023))
			}
			img := fixtures.MustXFS(t, tree, set.opts)
			fsys := openFS(t, img)
			checkTree(t, fsys, tree)
			for dir, n := range map[string]int{"sf": 3, "blk": 40, "leaf": 300, "big": 3000, "empty": 0} {
				ents, err := fsys.ReadDir(dir)
				if err != nil || len(ents) != n || !slices.IsSortedFunc(ents, func(a, b fs.DirEntry) int { return compare(a.Name(), b.Name()) }) {
					t.Errorf("ReadDir(%s): %d entries, %v; want %d sorted", dir, len(ents), err, n)
				}
			}
			if s := fsys.Super(); s.Label != set.opts.Label || s.UUID != "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d" || s.Log != xfs.LogClean || s.FreeBlocks == 0 || s.FreeBlocks >= s.Blocks {
				t.Errorf("Super() = %+v", s)
			}
			kernelAgrees(t, fsys, img)
		})
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestDirectoryForms: the tree's directories really come in every form
// the reader parses, as xfs_db reports them: short-form in the inode,
// one block, data blocks with one leaf block, data blocks with a node
// index and free-space blocks, and (with 1 KiB blocks) a btree fork; on
// v5 and v4.
func TestDirectoryForms(t *testing.T) {
	t.Parallel()
	tree := standardTree(false, true)
	for _, set := range []struct {
		name string
		opts fixtures.XFSOptions
	}{featureSets[0], featureSets[1], featureSets[4]} {
		img := fixtures.MustXFS(t, tree, set.opts)
		bs := int64(4096)
		if set.opts.BlockSize != 0 {
			bs = int64(set.opts.BlockSize)
		}
		leaf, free := (int64(32)<<30)/bs, (int64(64)<<30)/bs
		for dir, want := range map[string]string{"sf": "local", "blk": "block", "leaf": "leaf", "big": "node"} {
			format, offs := xfsDB(t, img, dir)
			got := "block"
			switch {
			case format == "local":
				got = "local"
			case slices.Contains(offs, free):
				got = "node"
			case slices.Contains(offs, leaf):
				got = "leaf"
			}
			if got != want {
				t.Errorf("%s %s: %s form (format %s, extents at %v); want %s", set.name, dir, got, format, offs, want)
			}
			if set.opts.BlockSize == 1024 && dir == "big" && format != "btree" {
				t.Errorf("%s big: format %s, want btree", set.name, format)
			}
		}
	}
}

// xfsDB returns the data fork format of the inode at path in img and
// the logical offsets of its extents, as xfs_db prints them.
func xfsDB(t *testing.T, img, path string) (format string, offsets []int64) {
	t.Helper()
	bin, err := fixtures.Tool("xfs_db") // xfsprogs, as mkfs.xfs
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-r", "-c", "path /"+path, "-c", "p core.format", "-c", "bmap", img).CombinedOutput()
	if err != nil {
		t.Fatalf("xfs_db: %v: %s", err, out)
	}
	if m := regexp.MustCompile(`core.format = \d+ \((\w+)\)`).FindSubmatch(out); m != nil {
		format = string(m[1])
	}
	for _, m := range regexp.MustCompile(`data offset (\d+) `).FindAllSubmatch(out, -1) {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		offsets = append(offsets, n)
	}
	return format, offsets
}

// TestFS runs the io/fs conformance suite over a tree without symlinks
// (TestFS opens every entry, and would follow them).
func TestFS(t *testing.T) {
	t.Parallel()
	tree := standardTree(false, false)
	// TestFS reads every file: devices and FIFOs cannot be read.
	for _, n := range []string{"dev/fifo", "dev/null", "dev/loop"} {
		delete(tree, n)
	}
	for _, set := range []struct {
		name string
		opts fixtures.XFSOptions
	}{featureSets[0], featureSets[4]} {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			fsys := openFS(t, fixtures.MustXFS(t, tree, set.opts))
			if err := fstest.TestFS(fsys, "etc/passwd", "usr/bin/sudo", "data/size-4097", "deep/a/b/c/d/e/f/g/h/file", "leaf/entry-with-a-longer-name-00299"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConcurrent reads different files from 16 goroutines at once and
// checks every byte.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{}
	for i := range 16 {
		tree[fmt.Sprintf("f%02d", i)] = fixtures.File(pattern(300000+i*4099, byte(i)), 0o644)
	}
	fsys := openFS(t, fixtures.MustXFS(t, tree, fixtures.XFSOptions{BlockSize: 1024}))
	done := make(chan error)
	for i := range 16 {
		go func() {
			name := fmt.Sprintf("f%02d", i)
			for round := range 5 {
				var got []byte
				var err error
				if round%2 == 0 {
					got, err = fsys.ReadFile(name)
				} else {
					got, err = fs.ReadFile(fsys, name)
				}
				if err != nil || string(got) != string(tree[name].Data) {
					done <- fmt.Errorf("%s round %d: %d bytes, %v", name, round, len(got), err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
