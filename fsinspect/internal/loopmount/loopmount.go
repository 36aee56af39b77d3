// Package loopmount is the kernel oracle of the filesystem readers'
// tests: it loop-mounts an image and checks that a reader lists and reads
// what the kernel's driver does. It needs root and loop devices, and
// skips the test without them.
package loopmount

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Mount loop-mounts img as a filesystem of type fstype with the mount
// options opts and returns the mount point and a function that unmounts
// it, which cleanup also runs. It skips t when it is not root or the
// mount fails.
func Mount(t *testing.T, img, fstype, opts string) (string, func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loop mounts need root")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", fstype, "-o", "loop,"+opts, img, dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot loop-mount %s (needs root, loop devices and the %s driver): %v: %s", fstype, fstype, err, out)
	}
	mounted := true
	umount := func() {
		if !mounted {
			return
		}
		mounted = false
		// Another test process walking the host's / (the live --root
		// tests) may hold the mount busy for a moment: retry, then
		// detach it lazily.
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

// Stat is what Agree compares of a file's metadata besides its mode and
// size: the reader's FileInfo.Sys, in the kernel's terms.
type Stat struct {
	Uid, Gid            uint32
	Ino, Nlink          uint64
	Atime, Ctime, Mtime time.Time
	// Crtime is the birth time; zero where the filesystem records none,
	// as the kernel then reports none.
	Crtime time.Time
}

// Agree compares every entry the kernel lists below the mount point dir
// with fsys (the same image read by the reader under test), and the
// number of entries each lists: for each the mode, size, Stat (from
// stat, the reader's FileInfo.Sys translated), and the link target or
// contents.
func Agree(t *testing.T, fsys fs.FS, dir string, stat func(fs.FileInfo) Stat) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(dir, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, host)
		seen++
		compare(t, fsys, filepath.ToSlash(rel), host, stat)
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

// compare compares name in fsys with host, its path in the mount.
func compare(t *testing.T, fsys fs.FS, name, host string, stat func(fs.FileInfo) Stat) {
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
	fi, err := fs.Lstat(fsys, name)
	if err != nil {
		t.Errorf("Lstat(%q): %v", name, err)
		return
	}
	ks := kfi.Sys().(*syscall.Stat_t)
	st := stat(fi)
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
		if got, err := fs.ReadLink(fsys, name); err != nil || got != want {
			t.Errorf("ReadLink(%q) = %q, %v; kernel says %q", name, got, err, want)
		}
	case kfi.Mode().IsRegular():
		want, err := os.ReadFile(host)
		if err != nil {
			t.Errorf("kernel: %v", err)
			return
		}
		if got, err := fs.ReadFile(fsys, name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%q): %d bytes, %v; kernel read %d bytes", name, len(got), err, len(want))
		}
	}
}
