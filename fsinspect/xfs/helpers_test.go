package xfs_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/internal/loopmount"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// openFS opens the filesystem image at p.
func openFS(t testing.TB, p string) *xfs.FS {
	t.Helper()
	fsys, err := xfs.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// pattern returns n bytes that differ from block to block, so a read of
// the wrong block shows.
func pattern(n int, seed byte) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/512) ^ byte(i) ^ seed
	}
	return string(b)
}

// dirOf returns n entries called prefix-%05d, each a small file.
func dirOf(tree fstest.MapFS, dir, prefix string, n int) {
	for i := range n {
		tree[fmt.Sprintf("%s/%s-%05d", dir, prefix, i)] = fixtures.File(fmt.Sprint(i), 0o644)
	}
}

// standardTree is a small Linux-like tree with every kind of file a
// protofile can make, and directories of each size class: short-form
// (sf), one directory block (blk), data blocks plus one leaf (leaf). With
// big, a directory large enough for node form.
func standardTree(links, big bool) fstest.MapFS {
	tree := fstest.MapFS{
		"etc/passwd":                        fixtures.File("root:x:0:0:root:/root:/bin/bash\n", 0o644),
		"etc/shadow":                        fixtures.Owned("root:*:19000:0:99999:7:::\n", 0o640, 0, 42),
		"etc/ssh/sshd_config":               fixtures.File("PermitRootLogin prohibit-password\n", 0o600),
		"usr/bin/sudo":                      {Data: []byte("ELF"), Mode: 0o755 | fs.ModeSetuid},
		"usr/bin/wall":                      {Data: []byte("ELF"), Mode: 0o755 | fs.ModeSetgid, Sys: fixtures.Meta{Gid: 5}},
		"home/u/f":                          fixtures.Owned("x", 0o600, 1000, 1001),
		"home/u/big-ids":                    fixtures.Owned("y", 0o644, 4000000000, 70000),
		"data/size-0":                       fixtures.File("", 0o644),
		"data/size-1":                       fixtures.File("a", 0o644),
		"data/size-4095":                    fixtures.File(pattern(4095, 1), 0o644),
		"data/size-4096":                    fixtures.File(pattern(4096, 2), 0o644),
		"data/size-4097":                    fixtures.File(pattern(4097, 3), 0o644),
		"data/size-70000":                   fixtures.File(pattern(70000, 4), 0o644),
		"data/sparse":                       {Data: []byte("head"), Mode: 0o644, Sys: fixtures.Meta{SparseSize: 100000}},
		"deep/a/b/c/d/e/f/g/h/file":         fixtures.File("deep\n", 0o644),
		"empty":                             fixtures.Dir(0o700),
		"names/" + strings.Repeat("n", 255): fixtures.File("long name", 0o644),
		"names/héllo-wörld":                 fixtures.File("utf-8", 0o644),
		"dev/fifo":                          {Mode: fs.ModeNamedPipe | 0o600},
		"dev/null":                          {Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666},
		"dev/loop":                          {Mode: fs.ModeDevice | 0o660, Sys: fixtures.Meta{Gid: 6}},
	}
	dirOf(tree, "sf", "e", 3)
	dirOf(tree, "blk", "entry", 40)
	dirOf(tree, "leaf", "entry-with-a-longer-name", 300)
	if big {
		dirOf(tree, "big", "file-with-a-rather-longer-name", 3000)
	}
	if links {
		tree["l/short"] = fixtures.Symlink("../etc/passwd")
		tree["l/abs"] = fixtures.Symlink("/etc/passwd")
		tree["l/dir"] = fixtures.Symlink("../etc")
	}
	return tree
}

// longTarget returns a symlink target of n bytes (a path of short
// components).
func longTarget(n int) string {
	s := strings.Repeat("abcdefg/", n/8+1)
	return s[:n-1] + "x"
}

// wantMode is the fs.FileMode a declared MapFile has on disk.
func wantMode(f *fstest.MapFile) fs.FileMode {
	switch {
	case f.Mode&fs.ModeSymlink != 0:
		return fs.ModeSymlink | 0o777
	case f.Mode == fs.ModeDir:
		return fs.ModeDir | 0o755
	}
	return f.Mode
}

// checkTree checks every declared entry of tree in fsys: type, mode,
// owner, size, content or link target.
func checkTree(t *testing.T, fsys *xfs.FS, tree fstest.MapFS) {
	t.Helper()
	for name, f := range tree {
		fi, err := fsys.Lstat(name)
		if err != nil {
			t.Errorf("Lstat(%q): %v", name, err)
			continue
		}
		st := fi.Sys().(*xfs.Stat)
		meta, _ := f.Sys.(fixtures.Meta)
		uid, gid := meta.Owner()
		if fi.Mode() != wantMode(f) || st.Uid != uid || st.Gid != gid || st.Ino == 0 || st.Nlink == 0 {
			t.Errorf("%s: mode %v uid %d gid %d ino %d nlink %d; want mode %v uid %d gid %d", name, fi.Mode(), st.Uid, st.Gid, st.Ino, st.Nlink, wantMode(f), uid, gid)
		}
		switch {
		case f.Mode&fs.ModeSymlink != 0:
			if got, err := fsys.ReadLink(name); err != nil || got != string(f.Data) {
				t.Errorf("ReadLink(%q) = %q, %v; want %q", name, got, err, f.Data)
			}
		case f.Mode.IsRegular():
			want := f.Data
			if meta.SparseSize > 0 {
				want = append(bytes.Clone(want), make([]byte, meta.SparseSize-int64(len(want)))...)
			}
			if got, err := fsys.ReadFile(name); err != nil || !bytes.Equal(got, want) || fi.Size() != int64(len(want)) {
				t.Errorf("ReadFile(%q): %d bytes (size %d), %v; want %d bytes", name, len(got), fi.Size(), err, len(want))
			}
		}
	}
}

// mount loop-mounts the XFS image img with the options opts (see
// loopmount.Mount). nouuid: the fixtures share one UUID, and tests mount
// them at once.
func mount(t *testing.T, img, opts string) (string, func()) {
	t.Helper()
	return loopmount.Mount(t, img, "xfs", "nouuid,"+opts)
}

// copyImage copies the image at p into the test's temporary directory,
// so it may be mounted read-write without touching the fixture cache.
func copyImage(t testing.TB, p string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(p))
	if b, err := exec.Command("cp", "--sparse=always", p, out).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, b)
	}
	return out
}

// kernelAgrees mounts img read-only without log recovery and compares
// every entry the kernel lists with fsys (see loopmount.Agree). It skips
// t if mounting is not permitted.
func kernelAgrees(t *testing.T, fsys *xfs.FS, img string) {
	t.Helper()
	dir, _ := mount(t, img, "ro,norecovery")
	loopmount.Agree(t, fsys, dir, kernelStat)
}

// kernelStat is an XFS file's Stat as the kernel oracle compares it.
func kernelStat(fi fs.FileInfo) loopmount.Stat {
	st := fi.Sys().(*xfs.Stat)
	return loopmount.Stat{Uid: st.Uid, Gid: st.Gid, Ino: st.Ino, Nlink: st.Nlink,
		Atime: st.Atime, Ctime: st.Ctime, Mtime: st.Mtime, Crtime: st.Crtime}
}
