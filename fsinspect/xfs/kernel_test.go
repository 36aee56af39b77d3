package xfs_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// TestWrittenByKernel writes through a read-write loop mount what a
// protofile cannot make: a file of hundreds of extents (a btree data
// fork), preallocated (unwritten) extents, a sparse file, remote
// symlinks, hard links, a socket, the sticky bit, times before 1970 and
// after 2038, and a big directory with most entries deleted (holes among
// its data blocks). The reader must then agree with the kernel on every
// entry.
func TestWrittenByKernel(t *testing.T) {
	t.Parallel()
	for _, set := range []struct {
		name string
		opts fixtures.XFSOptions
	}{featureSets[0], featureSets[1]} {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			img := copyImage(t, fixtures.MustXFS(t, standardTree(true, false), set.opts))
			dir, umount := mount(t, img, "rw")
			want := map[string][]byte{}
			write := func(name string, b []byte, at int64) {
				f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE, 0o644)
				if err == nil {
					_, err = f.WriteAt(b, at)
					f.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			// Every other block of frag, synced often so that the
			// allocator cannot merge the writes.
			frag := make([]byte, 799*4096)
			for i := 0; i < 800; i += 2 {
				chunk := []byte(pattern(4096, byte(i)))
				copy(frag[i*4096:], chunk)
				write("frag", chunk, int64(i)*4096)
				if i%20 == 0 {
					exec.Command("sync").Run()
				}
			}
			want["frag"] = frag
			prealloc := make([]byte, 1<<20)
			f, err := os.Create(filepath.Join(dir, "prealloc"))
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Fallocate(int(f.Fd()), 0, 0, 1<<20); err != nil {
				t.Fatal(err)
			}
			f.Close()
			copy(prealloc[300000:], "written into an unwritten extent")
			write("prealloc", prealloc[300000:300032], 300000)
			want["prealloc"] = prealloc
			write("sparse", []byte("start"), 0)
			write("sparse", []byte("middle"), 32<<20)
			if err := os.Truncate(filepath.Join(dir, "sparse"), 64<<20); err != nil {
				t.Fatal(err)
			}
			for name, target := range map[string]string{"l/long": longTarget(1000), "l/max": longTarget(1023), "l/dangling": "nowhere"} {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Link(filepath.Join(dir, "etc/passwd"), filepath.Join(dir, "etc/passwd.hard")); err != nil {
				t.Fatal(err)
			}
			l, err := net.Listen("unix", filepath.Join(dir, "sock"))
			if err != nil {
				t.Fatal(err)
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
			if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chmod(filepath.Join(dir, "tmp"), 0o1777|os.ModeSticky)
			old, future := time.Date(1960, 5, 6, 7, 8, 9, 123456789, time.UTC), time.Date(2200, 1, 2, 3, 4, 5, 6, time.UTC)
			if err := os.Chtimes(filepath.Join(dir, "data/size-1"), old, future); err != nil {
				t.Fatal(err)
			}
			churn := filepath.Join(dir, "churn")
			os.Mkdir(churn, 0o755)
			for i := range 2000 {
				write(fmt.Sprintf("churn/entry-%05d-with-a-longer-name", i), nil, 0)
			}
			for i := range 2000 {
				if i%7 != 0 {
					os.Remove(filepath.Join(churn, fmt.Sprintf("entry-%05d-with-a-longer-name", i)))
				}
			}
			umount()

			fsys := openFS(t, img)
			for name, b := range want {
				if got, err := fsys.ReadFile(name); err != nil || !bytes.Equal(got, b) {
					t.Errorf("ReadFile(%s): %d bytes, %v; content equal: %v", name, len(got), err, bytes.Equal(got, b))
				}
			}
			if format, _ := xfsDB(t, img, "frag"); format != "btree" {
				t.Errorf("frag has format %s, want btree", format)
			}
			if ents, err := fsys.ReadDir("churn"); err != nil || len(ents) != 286 {
				t.Errorf("ReadDir(churn): %d entries, %v; want 286", len(ents), err)
			}
			fi, err := fsys.Stat("data/size-1")
			if st, _ := fi.Sys().(*xfs.Stat); err != nil || !st.Atime.Equal(old) || !fi.ModTime().Equal(future) {
				t.Errorf("times of data/size-1: %v, %v", fi.Sys(), err)
			}
			checkTree(t, fsys, fstest.MapFS{"l/long": fixtures.Symlink(longTarget(1000)), "l/max": fixtures.Symlink(longTarget(1023))})
			kernelAgrees(t, fsys, img)
		})
	}
}

// TestLogState: the log of a new filesystem and of one unmounted
// cleanly is clean; one shut down after writes, or copied while
// mounted, needs recovery, as the kernel's log replay confirms. Also
// with a log stripe unit and 4 KiB sectors, where records are padded.
func TestLogState(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		opts     fixtures.XFSOptions
		maxBytes int64 // what New may read: more when records are padded
	}{
		{"default", fixtures.XFSOptions{}, 80 << 10},
		{"stripe-4kn", fixtures.XFSOptions{Extra: []string{"-l", "su=32k", "-s", "size=4096"}}, 200 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			logStates(t, fixtures.MustXFS(t, fstest.MapFS{"f": fixtures.File("x", 0o644)}, c.opts), c.maxBytes)
		})
	}
}

// logStates checks the log states of img: new, copied while mounted,
// shut down, and unmounted after replay.
func logStates(t *testing.T, img string, maxBytes int64) {
	if s := openFS(t, img).Super(); s.Log != xfs.LogClean {
		t.Errorf("new filesystem: log %v", s.Log)
	}
	// A clean log is found near the superblock's LSN, without a search:
	// New reads the superblock, the root inode, and block 0 of the log
	// beside the blocks around that LSN (and, on a new filesystem, the
	// end of the log, where the record before its head wraps).
	cheap := func(p string, maxCalls int64) {
		t.Helper()
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		c := &countingReader{r: f}
		if _, err := xfs.New(c, st.Size()); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: New read %d bytes in %d calls", filepath.Base(p), c.bytes, c.calls)
		if c.calls > maxCalls || c.bytes > maxBytes {
			t.Errorf("%s: New read %d bytes in %d calls", filepath.Base(p), c.bytes, c.calls)
		}
	}
	cheap(img, 6)
	live := copyImage(t, img)
	dir, umount := mount(t, live, "rw")
	for i := range 200 {
		os.WriteFile(filepath.Join(dir, fmt.Sprint("file", i)), []byte("data"), 0o644)
	}
	exec.Command("sync").Run()
	snapshot := filepath.Join(t.TempDir(), "snapshot.img")
	if out, err := exec.Command("cp", "--sparse=always", live, snapshot).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "late"), []byte("after the snapshot"), 0o644)
	if out, err := exec.Command("xfs_io", "-x", "-c", "shutdown -f", dir).CombinedOutput(); err != nil {
		t.Fatalf("xfs_io shutdown: %v: %s", err, out)
	}
	umount()
	for _, p := range []string{snapshot, live} {
		if s := openFS(t, p).Super(); s.Log != xfs.LogDirty {
			t.Errorf("%s: log %v, want dirty", filepath.Base(p), s.Log)
		}
	}
	// Mounting replays the log; unmounting leaves it clean.
	_, umount = mount(t, live, "rw")
	umount()
	fsys := openFS(t, live)
	if s := fsys.Super(); s.Log != xfs.LogClean {
		t.Errorf("after replay: log %v", s.Log)
	}
	if _, err := fsys.Stat("file199"); err != nil {
		t.Errorf("after replay: %v", err)
	}
	cheap(live, 4)
}

// countingReader counts the calls and bytes read through it.
type countingReader struct {
	r            io.ReaderAt
	mu           sync.Mutex
	calls, bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.calls++
	c.bytes += int64(len(p))
	c.mu.Unlock()
	return c.r.ReadAt(p, off)
}
