package ext4_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// mountRO loop-mounts img read-only without journal replay and returns
// the mount point, or skips t when mounting is not permitted.
func mountRO(t *testing.T, img string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "ext4", "-o", "ro,loop,noload", img, dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot loop-mount (needs root and loop devices): %v: %s", err, out)
	}
	// Another test process walking the host's / (the live --root tests)
	// may hold the mount busy for a moment: retry, then detach it lazily.
	t.Cleanup(func() {
		for range 20 {
			if exec.Command("umount", dir).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestOracleMount compares the reader with the kernel's ext4 driver on
// every feature set: the same names, and for each the same type, mode,
// owner, size, inode number, link count, times, link target and content.
func TestOracleMount(t *testing.T) {
	t.Parallel()
	for _, fset := range featureSets {
		t.Run(fset.name, func(t *testing.T) {
			t.Parallel()
			tree := standardTree(treeOptions{maxLink: fset.blockSize - 1, links: true})
			img := fixtures.MustExt4(t, tree, fset.opts)
			kernelAgrees(t, openFS(t, img), img)
		})
	}
}

// kernelAgrees loop-mounts img and compares every entry the kernel
// lists with fsys, and the number of entries each lists. It skips t if
// mounting is not permitted.
func kernelAgrees(t *testing.T, fsys *ext4.FS, img string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loop mounts need root")
	}
	dir := mountRO(t, img)
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

// compareWithKernel compares name in fsys with host, its path in the mount.
func compareWithKernel(t *testing.T, fsys *ext4.FS, name, host string) {
	t.Helper()
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
	st := fi.Sys().(*ext4.Stat)
	ts := func(t syscall.Timespec) time.Time { return time.Unix(t.Sec, t.Nsec).UTC() }
	if fi.Mode() != kfi.Mode() || fi.Size() != kfi.Size() || st.Uid != ks.Uid || st.Gid != ks.Gid ||
		st.Ino != ks.Ino || st.Nlink != uint64(ks.Nlink) ||
		!st.Mtime.Equal(ts(ks.Mtim)) || !st.Atime.Equal(ts(ks.Atim)) || !st.Ctime.Equal(ts(ks.Ctim)) {
		t.Errorf("%s: reader %v size %d %d:%d ino %d nlink %d m/a/c %v %v %v;\n kernel %v size %d %d:%d ino %d nlink %d m/a/c %v %v %v",
			name, fi.Mode(), fi.Size(), st.Uid, st.Gid, st.Ino, st.Nlink, st.Mtime, st.Atime, st.Ctime,
			kfi.Mode(), kfi.Size(), ks.Uid, ks.Gid, ks.Ino, ks.Nlink, ts(ks.Mtim), ts(ks.Atim), ts(ks.Ctim))
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
