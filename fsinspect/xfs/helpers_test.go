package xfs_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imgcheck/imgcheck/fixtures"
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

// mount loop-mounts img with the given options and returns the mount
// point and a function that unmounts it (also run at cleanup). It skips
// t when mounting is not permitted.
func mount(t *testing.T, img, opts string) (string, func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loop mounts need root")
	}
	dir := t.TempDir()
	// nouuid: the fixtures share one UUID, and tests mount them at once.
	out, err := exec.Command("mount", "-t", "xfs", "-o", "loop,nouuid,"+opts, img, dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot loop-mount (needs root, loop devices and the xfs module): %v: %s", err, out)
	}
	mounted := true
	umount := func() {
		if !mounted {
			return
		}
		mounted = false
		for range 20 {
			if exec.Command("umount", dir).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	}
	t.Cleanup(umount)
	return dir, umount
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
// every entry the kernel lists with fsys, and the number of entries each
// lists. It skips t if mounting is not permitted.
func kernelAgrees(t *testing.T, fsys *xfs.FS, img string) {
	t.Helper()
	dir, _ := mount(t, img, "ro,norecovery")
	seen := 0
	err := filepath.WalkDir(dir, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, host)
		seen++
		compareWithKernel(t, fsys, filepath.ToSlash(rel), host)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ours := 0
	fs.WalkDir(fsys, ".", func(string, fs.DirEntry, error) error { ours++; return nil })
	if ours != seen {
		t.Errorf("reader lists %d entries, the kernel %d", ours, seen)
	}
	t.Logf("%d entries compared with the kernel", seen)
}

// compareWithKernel compares name in fsys with host, its path in the
// mount: mode, size, owner, inode number, link count, the four times
// (birth time through statx), and the content or link target.
func compareWithKernel(t *testing.T, fsys *xfs.FS, name, host string) {
	t.Helper()
	var kx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, host, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_ALL, &kx); err != nil {
		t.Errorf("kernel: %v", err)
		return
	}
	kfi, err := os.Lstat(host)
	if err != nil {
		t.Errorf("kernel: %v", err)
		return
	}
	fi, err := fsys.Lstat(name)
	if err != nil {
		t.Errorf("Lstat(%q): %v", name, err)
		return
	}
	ks := kfi.Sys().(*syscall.Stat_t)
	st := fi.Sys().(*xfs.Stat)
	ts := func(t unix.StatxTimestamp) time.Time { return time.Unix(t.Sec, int64(t.Nsec)) }
	btime := time.Time{}
	if kx.Mask&unix.STATX_BTIME != 0 {
		btime = ts(kx.Btime)
	}
	if fi.Mode() != kfi.Mode() || fi.Size() != kfi.Size() || st.Uid != ks.Uid || st.Gid != ks.Gid ||
		st.Ino != ks.Ino || st.Nlink != uint64(ks.Nlink) ||
		!st.Mtime.Equal(ts(kx.Mtime)) || !st.Atime.Equal(ts(kx.Atime)) || !st.Ctime.Equal(ts(kx.Ctime)) || !st.Crtime.Equal(btime) {
		t.Errorf("%s: reader %v size %d %d:%d ino %d nlink %d m/a/c/b %v %v %v %v;\n kernel %v size %d %d:%d ino %d nlink %d m/a/c/b %v %v %v %v",
			name, fi.Mode(), fi.Size(), st.Uid, st.Gid, st.Ino, st.Nlink, st.Mtime, st.Atime, st.Ctime, st.Crtime,
			kfi.Mode(), kfi.Size(), ks.Uid, ks.Gid, ks.Ino, ks.Nlink, ts(kx.Mtime), ts(kx.Atime), ts(kx.Ctime), btime)
	}
	switch {
	case kfi.Mode()&fs.ModeSymlink != 0:
		want, _ := os.Readlink(host)
		if got, err := fsys.ReadLink(name); err != nil || got != want {
			t.Errorf("ReadLink(%q) = %q, %v; kernel says %q", name, got, err, want)
		}
	case kfi.Mode().IsRegular():
		want, err := os.ReadFile(host)
		if err != nil {
			t.Errorf("kernel: %v", err)
			return
		}
		if got, err := fsys.ReadFile(name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%q): %d bytes, %v; kernel read %d bytes", name, len(got), err, len(want))
		}
	}
}
