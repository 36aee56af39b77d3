package ext4_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// openFS opens the filesystem image at p.
func openFS(t testing.TB, p string) *ext4.FS {
	t.Helper()
	fsys, err := ext4.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// copyImage copies the image at p into the test's temporary directory, so
// a tool may modify it without touching the fixture cache.
func copyImage(t testing.TB, p string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(p))
	// cp keeps holes, so sparse images stay small.
	if b, err := exec.Command("cp", "--sparse=always", p, out).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, b)
	}
	return out
}

// runTool runs an e2fsprogs tool and returns its standard output.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	bin, err := fixtures.Tool(name)
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		// e2fsck exits 1 when it changed the filesystem.
		var ee *exec.ExitError
		if !(name == "e2fsck" && errors.As(err, &ee) && ee.ExitCode() == 1) {
			t.Fatalf("%s %s: %v: %s%s", name, strings.Join(args, " "), err, out.String(), stderr.String())
		}
	}
	return out.String()
}

// wantMode is the fs.FileMode a declared MapFile should have on disk:
// type bits, permissions and setuid/setgid/sticky given either as Go
// mode bits or in Unix octal (as fixtures.Materialize accepts them).
func wantMode(f *fstest.MapFile) fs.FileMode {
	m := f.Mode
	if m&fs.ModeSymlink != 0 {
		return fs.ModeSymlink | 0o777
	}
	for unix, goBit := range map[fs.FileMode]fs.FileMode{0o1000: fs.ModeSticky, 0o2000: fs.ModeSetgid, 0o4000: fs.ModeSetuid} {
		if m&unix != 0 {
			m = m&^unix | goBit
		}
	}
	keep := fs.ModeDir | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	if m&keep == fs.ModeDir {
		return fs.ModeDir | 0o755
	}
	return m & keep
}

// declaredSize is the size of a declared regular file or symlink.
func declaredSize(f *fstest.MapFile) int64 {
	if meta, ok := f.Sys.(fixtures.Meta); ok && meta.SparseSize > 0 {
		return meta.SparseSize
	}
	return int64(len(f.Data))
}

// checkTree compares every declared entry of tree with what fsys reports
// (type, mode, owner, size, mtime, link target, content, hard links), and
// checks that fsys holds nothing undeclared besides lost+found and
// implied parent directories.
func checkTree(t *testing.T, fsys *ext4.FS, tree fstest.MapFS) {
	t.Helper()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range tree {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		f := tree[n]
		fi, err := fsys.Lstat(n)
		if err != nil {
			t.Errorf("Lstat(%q): %v", n, err)
			continue
		}
		st := fi.Sys().(*ext4.Stat)
		meta, _ := f.Sys.(fixtures.Meta)
		if meta.HardLink != "" {
			other, err := fsys.Lstat(meta.HardLink)
			if err != nil {
				t.Errorf("Lstat(%q): %v", meta.HardLink, err)
				continue
			}
			if os := other.Sys().(*ext4.Stat); os.Ino != st.Ino || st.Nlink != 2 {
				t.Errorf("%s: inode %d nlink %d, want hard link to %s (inode %d) with nlink 2", n, st.Ino, st.Nlink, meta.HardLink, os.Ino)
			}
			f = tree[meta.HardLink]
			meta, _ = f.Sys.(fixtures.Meta)
		}
		if got, want := fi.Mode(), wantMode(f); got != want {
			t.Errorf("%s: mode %v, want %v", n, got, want)
		}
		if fi.Name() != path.Base(n) {
			t.Errorf("%s: Name() = %q", n, fi.Name())
		}
		if st.Uid != uint32(meta.Uid) || st.Gid != uint32(meta.Gid) {
			t.Errorf("%s: owner %d:%d, want %d:%d", n, st.Uid, st.Gid, meta.Uid, meta.Gid)
		}
		want := f.ModTime
		if want.IsZero() {
			want = fixtures.Epoch
		}
		if !fi.ModTime().Equal(want) || !st.Mtime.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", n, fi.ModTime(), want)
		}
		switch {
		case f.Mode&fs.ModeSymlink != 0:
			target, err := fsys.ReadLink(n)
			if err != nil || target != string(f.Data) {
				t.Errorf("ReadLink(%q) = %q, %v; want %q", n, target, err, f.Data)
			}
			if fi.Size() != int64(len(f.Data)) {
				t.Errorf("%s: symlink size %d, want %d", n, fi.Size(), len(f.Data))
			}
		case f.Mode&fs.ModeDir == 0:
			if fi.Size() != declaredSize(f) {
				t.Errorf("%s: size %d, want %d", n, fi.Size(), declaredSize(f))
			}
			checkContent(t, fsys, n, f)
		}
	}
	// Nothing undeclared.
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." || p == "lost+found" || strings.HasPrefix(p, "lost+found/") {
			return nil
		}
		if _, ok := tree[p]; ok {
			return nil
		}
		if d.IsDir() && hasPrefixIn(tree, p+"/") {
			return nil
		}
		t.Errorf("undeclared entry %q (%v)", p, d.Type())
		return nil
	})
	if err != nil {
		t.Errorf("WalkDir: %v", err)
	}
}

func hasPrefixIn(tree fstest.MapFS, prefix string) bool {
	for n := range tree {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// checkContent compares the content of regular file n with f. Files over
// 64 MiB (sparse ones) are compared in windows: the data and 1 MiB after
// it, 1 MiB either side of 4 GiB, and the last 1 MiB.
func checkContent(t *testing.T, fsys *ext4.FS, n string, f *fstest.MapFile) {
	t.Helper()
	size := declaredSize(f)
	if size <= 64<<20 {
		got, err := fsys.ReadFile(n)
		want := make([]byte, size)
		copy(want, f.Data)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%q): %d bytes, %v; want %d bytes (equal: %v)", n, len(got), err, size, bytes.Equal(got, want))
		}
		return
	}
	file, err := fsys.Open(n)
	if err != nil {
		t.Errorf("Open(%q): %v", n, err)
		return
	}
	defer file.Close()
	ra := file.(io.ReaderAt)
	windows := [][2]int64{{0, int64(len(f.Data)) + 1<<20}, {4<<30 - 1<<20, 4<<30 + 1<<20}, {size - 1<<20, size}}
	for _, w := range windows {
		lo, hi := max(w[0], 0), min(w[1], size)
		if lo >= hi {
			continue
		}
		got := make([]byte, hi-lo)
		if k, err := ra.ReadAt(got, lo); k != len(got) || err != nil && !(err == io.EOF && hi == size) {
			t.Errorf("%s: ReadAt(%d bytes at %d) = %d, %v", n, len(got), lo, k, err)
			continue
		}
		want := make([]byte, hi-lo)
		if lo < int64(len(f.Data)) {
			copy(want, f.Data[lo:])
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: bytes %d..%d differ from the declaration", n, lo, hi)
		}
	}
	if k, err := ra.ReadAt(make([]byte, 1), size); k != 0 || err != io.EOF {
		t.Errorf("%s: ReadAt at size = %d, %v; want 0, EOF", n, k, err)
	}
}

// pattern returns n bytes of a deterministic non-repeating-looking
// pattern seeded by seed.
func pattern(n int, seed byte) string {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return string(b)
}

// at returns a MapFile with a modification time.
func at(f *fstest.MapFile, t time.Time) *fstest.MapFile {
	f.ModTime = t
	return f
}
