package ext4_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestHtree reads a directory of 5,000 entries that e2fsck -fyD turned
// into an htree: its index blocks must not show up as entries.
func TestHtree(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{"big": fixtures.Dir(0o755), "big/sub": fixtures.Dir(0o700)}
	for i := range 5000 {
		tree[fmt.Sprintf("big/file-%05d-%s", i, "name")] = fixtures.File(fmt.Sprint(i), 0o644)
	}
	for _, o := range []fixtures.Ext4Options{{BlockSize: 4096}, {BlockSize: 1024}, {Type: "ext3", BlockSize: 1024}} {
		t.Run(fmt.Sprintf("%s-%d", o.Type, o.BlockSize), func(t *testing.T) {
			t.Parallel()
			img := copyImage(t, fixtures.MustExt4(t, tree, o))
			runTool(t, "e2fsck", "-fyD", img)
			probeCost(t, img, "big/file-03210-name", "big/sub")
			fsys := openFS(t, img)
			fi, err := fsys.Stat("big")
			if err != nil {
				t.Fatal(err)
			}
			if fi.Sys().(*ext4.Stat).Flags&0x1000 == 0 {
				t.Fatalf("big is not an htree directory after e2fsck -D (flags %#x)", fi.Sys().(*ext4.Stat).Flags)
			}
			checkTree(t, fsys, tree)
			var sample []string
			for i := 0; i < 5000; i += 619 { // go-ext4-filesystem reads every inode of the directory per lookup
				sample = append(sample, fmt.Sprintf("big/file-%05d-name", i))
			}
			if n := oracleAgrees(t, fsys, img, sample); n != len(sample) {
				t.Errorf("go-ext4-filesystem read %d of %d files", n, len(sample))
			}
			kernelAgrees(t, fsys, img)
		})
	}
}

// probeCost checks that cold lookups of names in an htree directory read
// a few blocks (the index path, a leaf, extent tree nodes), not the
// whole directory.
func probeCost(t *testing.T, img string, names ...string) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	cr := &countingReader{r: f}
	fsys, err := ext4.New(cr, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	bs := fsys.Super().BlockSize
	if _, err := fsys.Stat("."); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		before := cr.bytes.Load()
		fi, err := fsys.Stat(n)
		if err != nil || fi.Name() != filepath.Base(n) {
			t.Fatalf("Stat(%q) = %v, %v", n, fi, err)
		}
		if got := cr.bytes.Load() - before; got > 8*bs+2*256 {
			t.Errorf("Stat(%q) read %d bytes, want at most 8 blocks and 2 inodes", n, got)
		}
	}
}

// TestSparse reads sparse files: a hole after data (ext4 extents and
// ext3 indirect blocks), a file larger than 4 GiB with data beyond 4 GiB,
// and blocks preallocated by fallocate (uninitialised extents).
func TestSparse(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{
		"sparse":     {Data: []byte(pattern(5000, 1)), Mode: 0o644, Sys: fixtures.Meta{SparseSize: 3 << 20}},
		"empty-hole": {Mode: 0o644, Sys: fixtures.Meta{SparseSize: 1 << 20}},
		"over-4gib":  {Data: []byte("head"), Mode: 0o600, Sys: fixtures.Meta{SparseSize: 5<<30 + 123}},
	}
	// host is a sparse file with data at 0, at 4 GiB + 100 and at its end,
	// copied into the image by debugfs write.
	host := filepath.Join(t.TempDir(), "host")
	hostSize := int64(4<<30 + 64<<20) // its tail needs triple indirect blocks on ext3
	chunks := map[int64]string{0: "start", 4<<30 + 100: pattern(9000, 7), hostSize - 4: "tail"}
	f, err := os.Create(host)
	if err != nil {
		t.Fatal(err)
	}
	for off, s := range chunks {
		if _, err := f.WriteAt([]byte(s), off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	for _, o := range []fixtures.Ext4Options{{BlockSize: 4096}, {Type: "ext3", BlockSize: 4096}, {Type: "ext3", BlockSize: 1024}, {BlockSize: 1024}} {
		t.Run(fmt.Sprintf("%s-%d", o.Type, o.BlockSize), func(t *testing.T) {
			t.Parallel()
			img := copyImage(t, fixtures.MustExt4(t, tree, o))
			runTool(t, "debugfs", "-w", "-R", "write "+host+" written", img)
			prealloc := o.Type == ""
			if prealloc {
				// Blocks 2..9 of "sparse" lie in its hole; fallocate
				// makes them uninitialised extents that read as zeros.
				runTool(t, "debugfs", "-w", "-R", "fallocate /sparse 2 9", img)
				runTool(t, "debugfs", "-w", "-R", "fallocate /empty-hole 0 3", img)
			}
			fsys := openFS(t, img)
			for n, f := range tree {
				// debugfs does not keep owners and times; compare data only.
				if fi, err := fsys.Stat(n); err != nil || fi.Size() != declaredSize(f) {
					t.Errorf("Stat(%q) = %v, %v; want size %d", n, fi, err, declaredSize(f))
				}
				checkContent(t, fsys, n, f)
			}
			if n := oracleAgrees(t, fsys, img, []string{"sparse", "empty-hole"}); n != 2 {
				t.Errorf("go-ext4-filesystem read %d of 2 sparse files", n)
			}
			fi, err := fsys.Stat("written")
			if err != nil || fi.Size() != hostSize {
				t.Fatalf("Stat(written) = %v, %v; want size %d", fi, err, hostSize)
			}
			r, _ := fsys.Open("written")
			defer r.Close()
			ra := r.(interface {
				ReadAt([]byte, int64) (int, error)
			})
			for off, s := range chunks {
				got := make([]byte, len(s)+8)
				start := max(off-4, 0)
				n, err := ra.ReadAt(got, start)
				want := make([]byte, len(got))
				copy(want[off-start:], s)
				if int64(n) != min(int64(len(got)), hostSize-start) || err != nil && start+int64(len(got)) <= hostSize {
					t.Errorf("ReadAt(%d) = %d, %v", start, n, err)
				}
				if string(got[:n]) != string(want[:n]) {
					t.Errorf("written: bytes at %d differ", start)
				}
			}
			if prealloc {
				out := runTool(t, "debugfs", "-R", "ex /sparse", img)
				if !strings.Contains(out, "Uninit") {
					t.Errorf("fallocate made no uninitialised extent:\n%s", out)
				}
			}
		})
	}
}

// TestTimes checks the extra time fields of 256-byte inodes: nanoseconds,
// epoch bits for dates after 2038, negative dates, and crtime. mkfs -d
// stores neither nanoseconds nor dates past 2038, so debugfs sets them.
func TestTimes(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{"future": fixtures.File("x", 0o644), "old": at(fixtures.File("y", 0o644), time.Date(1965, 3, 1, 8, 30, 0, 0, time.UTC))}
	img := copyImage(t, fixtures.MustExt4(t, tree, fixtures.Ext4Options{BlockSize: 4096}))
	runTool(t, "debugfs", "-w", "-R", "set_inode_field /future mtime 20400601120000", img)
	// epoch bits 1, 123456789 ns
	runTool(t, "debugfs", "-w", "-R", fmt.Sprintf("set_inode_field /future mtime_extra %d", 123456789<<2|1), img)
	runTool(t, "debugfs", "-w", "-R", "set_inode_field /old crtime 19650301083000", img)
	runTool(t, "debugfs", "-w", "-R", fmt.Sprintf("set_inode_field /old atime_extra %d", 999999999<<2), img)
	fsys := openFS(t, img)
	fi, err := fsys.Stat("future")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2040, 6, 1, 12, 0, 0, 123456789, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("future: mtime %v, want %v", fi.ModTime(), want)
	}
	fi, err = fsys.Stat("old")
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*ext4.Stat)
	old := time.Date(1965, 3, 1, 8, 30, 0, 0, time.UTC)
	if !st.Crtime.Equal(old) || !st.Mtime.Equal(old) || !st.Atime.Equal(old.Add(999999999)) {
		t.Errorf("old: crtime %v mtime %v atime %v; want %v, %v, %v", st.Crtime, st.Mtime, st.Atime, old, old, old.Add(999999999))
	}
	kernelAgrees(t, fsys, img)
}
