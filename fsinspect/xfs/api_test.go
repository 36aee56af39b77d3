package xfs_test

import (
	"errors"
	"io"
	"io/fs"
	"slices"
	"syscall"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// TestSemantics checks the io/fs contract details the Guest relies on:
// symlinks are never followed, errors are *fs.PathError with the
// caller's name, ReadDir omits "." and "..", and devices, FIFOs and
// symlinks open but cannot be read.
func TestSemantics(t *testing.T) {
	t.Parallel()
	fsys := openFS(t, fixtures.MustXFS(t, standardTree(true, false), fixtures.XFSOptions{}))

	errCases := []struct {
		op, name string
		call     func(string) error
		want     error
	}{
		{"stat", "l/dir/passwd", func(n string) error { _, err := fsys.Stat(n); return err }, syscall.ENOTDIR},
		{"open", "l/dir/passwd", func(n string) error { _, err := fsys.Open(n); return err }, syscall.ENOTDIR},
		{"readdir", "l/dir", func(n string) error { _, err := fsys.ReadDir(n); return err }, syscall.ENOTDIR},
		{"lstat", "etc/passwd/x", func(n string) error { _, err := fsys.Lstat(n); return err }, syscall.ENOTDIR},
		{"stat", "etc/nope", func(n string) error { _, err := fsys.Stat(n); return err }, fs.ErrNotExist},
		{"read", "etc/nope", func(n string) error { _, err := fsys.ReadFile(n); return err }, fs.ErrNotExist},
		{"readlink", "etc/passwd", func(n string) error { _, err := fsys.ReadLink(n); return err }, fs.ErrInvalid},
		{"read", "l/short", func(n string) error { _, err := fsys.ReadFile(n); return err }, fs.ErrInvalid},
		{"read", "dev/null", func(n string) error { _, err := fsys.ReadFile(n); return err }, fs.ErrInvalid},
		{"read", "etc", func(n string) error { _, err := fsys.ReadFile(n); return err }, syscall.EISDIR},
		{"stat", "/etc", func(n string) error { _, err := fsys.Stat(n); return err }, fs.ErrInvalid},
		{"open", "etc/../etc", func(n string) error { _, err := fsys.Open(n); return err }, fs.ErrInvalid},
		{"readlink", "etc/", func(n string) error { _, err := fsys.ReadLink(n); return err }, fs.ErrInvalid},
	}
	for _, c := range errCases {
		err := c.call(c.name)
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Op != c.op || pe.Path != c.name || !errors.Is(err, c.want) {
			t.Errorf("%s(%q) = %v; want *fs.PathError{%s, %q} wrapping %v", c.op, c.name, err, c.op, c.name, c.want)
		}
	}

	// Stat is Lstat: a symlink is reported as such, and opens as one.
	for _, stat := range []func(string) (fs.FileInfo, error){fsys.Stat, fsys.Lstat} {
		if fi, err := stat("l/abs"); err != nil || fi.Mode().Type() != fs.ModeSymlink || fi.Name() != "abs" {
			t.Errorf("stat(l/abs) = %v, %v; want a symlink", fi, err)
		}
	}
	for name, typ := range map[string]fs.FileMode{"l/dir": fs.ModeSymlink, "dev/null": fs.ModeDevice | fs.ModeCharDevice, "dev/loop": fs.ModeDevice, "dev/fifo": fs.ModeNamedPipe} {
		f, err := fsys.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := f.Stat(); err != nil || fi.Mode().Type() != typ {
			t.Errorf("Open(%s).Stat() = %v, %v; want type %v", name, fi, err, typ)
		}
		if _, err := f.Read(make([]byte, 8)); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Read of %s = %v, want ErrInvalid", name, err)
		}
		f.Close()
	}

	// The root.
	fi, err := fsys.Stat(".")
	if err != nil || !fi.IsDir() || fi.Name() != "." || fi.Sys().(*xfs.Stat).Ino != 128 {
		t.Errorf("Stat(.) = %v, %v", fi, err)
	}
	ents, err := fsys.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"blk", "data", "deep", "dev", "empty", "etc", "home", "l", "leaf", "names", "sf", "usr"}
	if !slices.Equal(names, want) {
		t.Errorf("ReadDir(.) = %q, want %q", names, want)
	}

	// Read, Seek and ReadAt on an open file agree; ReadAt past the end
	// says io.EOF, and a closed file refuses reads.
	f, err := fsys.Open("data/size-70000")
	if err != nil {
		t.Fatal(err)
	}
	rs := f.(io.ReadSeeker)
	if _, err := rs.Seek(50000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rs)
	whole, _ := fsys.ReadFile("data/size-70000")
	if err != nil || string(rest) != string(whole[50000:]) {
		t.Errorf("read after Seek: %d bytes, %v", len(rest), err)
	}
	buf := make([]byte, 100)
	if n, err := f.(io.ReaderAt).ReadAt(buf, 69950); n != 50 || err != io.EOF || string(buf[:n]) != string(whole[69950:]) {
		t.Errorf("ReadAt at the end = %d, %v", n, err)
	}
	f.Close()
	if _, err := f.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
}

// TestASCIICI: on a filesystem made with -n version=ci, exact names are
// found, and a name that is missing may exist in another case, which
// this reader does not try: ErrUnsupported, not ErrNotExist.
func TestASCIICI(t *testing.T) {
	t.Parallel()
	fsys := openFS(t, fixtures.MustXFS(t, standardTree(false, false), fixtures.XFSOptions{Extra: []string{"-n", "version=ci"}}))
	if b, err := fsys.ReadFile("etc/passwd"); err != nil || len(b) == 0 {
		t.Errorf("etc/passwd: %q, %v", b, err)
	}
	if _, err := fsys.Stat("etc/PASSWD"); !errors.Is(err, xfs.ErrUnsupported) {
		t.Errorf("Stat(etc/PASSWD) = %v; want ErrUnsupported", err)
	}
	if s := fsys.Super(); !slices.Contains(s.Features, "ascii-ci") {
		t.Errorf("features %v", s.Features)
	}
}
