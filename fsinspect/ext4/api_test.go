package ext4_test

import (
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestSemantics checks the io/fs contract details the Guest relies on:
// symlinks are never followed, errors are *fs.PathError with the
// caller's name, ReadDir is sorted and omits "." and "..".
func TestSemantics(t *testing.T) {
	t.Parallel()
	tree := standardTree(treeOptions{maxLink: 4095, links: true})
	fsys := openFS(t, fixtures.MustExt4(t, tree, fixtures.Ext4Options{BlockSize: 4096}))

	errCases := []struct {
		op, name string
		call     func(string) error
		want     error
	}{
		{"stat", "links/dir/sudo", func(n string) error { _, err := fsys.Stat(n); return err }, syscall.ENOTDIR},
		{"open", "links/dir/sudo", func(n string) error { _, err := fsys.Open(n); return err }, syscall.ENOTDIR},
		{"readdir", "links/dir", func(n string) error { _, err := fsys.ReadDir(n); return err }, syscall.ENOTDIR},
		{"lstat", "etc/passwd/x", func(n string) error { _, err := fsys.Lstat(n); return err }, syscall.ENOTDIR},
		{"stat", "etc/nope", func(n string) error { _, err := fsys.Stat(n); return err }, fs.ErrNotExist},
		{"read", "etc/nope", func(n string) error { _, err := fsys.ReadFile(n); return err }, fs.ErrNotExist},
		{"readlink", "etc/passwd", func(n string) error { _, err := fsys.ReadLink(n); return err }, fs.ErrInvalid},
		{"read", "links/rel", func(n string) error { _, err := fsys.ReadFile(n); return err }, fs.ErrInvalid},
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

	// Stat is Lstat: a symlink is reported as such.
	for _, stat := range []func(string) (fs.FileInfo, error){fsys.Stat, fsys.Lstat} {
		fi, err := stat("links/abs")
		if err != nil || fi.Mode().Type() != fs.ModeSymlink || fi.Name() != "abs" {
			t.Errorf("stat(links/abs) = %v, %v; want a symlink", fi, err)
		}
	}
	// Opening a symlink gives a file that says so and cannot be read.
	f, err := fsys.Open("links/dir")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Open(links/dir).Stat() = %v, %v; want a symlink", fi, err)
	}
	if _, err := f.Read(make([]byte, 8)); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Read of an open symlink = %v, want ErrInvalid", err)
	}
	f.Close()

	// The root.
	fi, err := fsys.Stat(".")
	if err != nil || !fi.IsDir() || fi.Name() != "." || fi.Sys().(*ext4.Stat).Ino != 2 {
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
	want := []string{"data", "deep", "etc", "home", "links", "lost+found", "many", "names", "old", "root", "tmp", "usr"}
	if !slices.Equal(names, want) {
		t.Errorf("ReadDir(.) = %q, want %q", names, want)
	}
	ents, err = fsys.ReadDir("many")
	if err != nil || len(ents) != 300 || !slices.IsSortedFunc(ents, func(a, b fs.DirEntry) int {
		return strings.Compare(a.Name(), b.Name())
	}) {
		t.Errorf("ReadDir(many): %d entries, sorted: %v, %v", len(ents), err == nil, err)
	}

	// Read, Seek and ReadAt on an open file agree.
	f, err = fsys.Open("data/size-200000")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs := f.(io.ReadSeeker)
	if _, err := rs.Seek(150000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rs)
	whole, _ := fsys.ReadFile("data/size-200000")
	if err != nil || string(rest) != string(whole[150000:]) {
		t.Errorf("read after Seek: %d bytes, %v", len(rest), err)
	}
}
