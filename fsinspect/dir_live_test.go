package fsinspect

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"testing"
)

// TestDirLiveRoot opens this machine's own "/" as a live Droplet would be
// scanned: /proc reads as the empty mount point a disk snapshot holds, a
// file under it does not exist, a device node is refused without being
// opened, and files on the disk read as usual.
func TestDirLiveRoot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("statfs filesystem types are Linux's")
	}
	proc, err := os.Open("/proc")
	if err != nil || kindOf(proc) != runtimeFS {
		t.Skip("/proc is not a mounted procfs here")
	}
	proc.Close()
	d, err := OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.rootFS == runtimeFS {
		t.Skip("/ is itself on a memory filesystem")
	}

	if ents, err := d.ReadDir("proc"); err != nil || len(ents) != 0 {
		t.Errorf("ReadDir(proc) = %d entries, %v; want the empty mount point", len(ents), err)
	}
	if _, err := d.Open("proc/self/status"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(proc/self/status) = %v; want fs.ErrNotExist", err)
	}
	g := NewGuest(d)
	if _, err := g.ReadFileLimit("proc/self/environ", 1<<20); !IsFact(err) {
		t.Errorf("guest read of proc/self/environ = %v; want a missing-file fact", err)
	}
	if fi, err := os.Lstat("/dev/null"); err == nil && fi.Mode()&fs.ModeCharDevice != 0 {
		if _, err := d.Open("dev/null"); !errors.Is(err, errNotRegular) {
			t.Errorf("Open(dev/null) = %v; want errNotRegular", err)
		}
	}
	if _, err := g.ReadFileLimit("etc/passwd", 1<<20); err != nil {
		t.Errorf("guest read of etc/passwd on disk: %v", err)
	}
}
