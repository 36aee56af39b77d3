package facts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/image"
)

// imageGuest opens tree as a real ext4 image.
func imageGuest(t *testing.T, tree fstest.MapFS, opts ...fsinspect.Option) *fsinspect.Guest {
	t.Helper()
	img, err := image.Open(fixtures.MustExt4(t, tree, fixtures.Ext4Options{Size: 64 << 20}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	g, _, err := fsinspect.OpenImage(img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// copyGuest copies the guest file name with copyToHost.
func copyGuest(g *fsinspect.Guest, name string, s *Scratch, max int64) (string, error) {
	f, err := g.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return copyToHost(s, f, max)
}

// only returns the one entry of dir.
func only(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("%s holds %v (%v), want one entry", dir, ents, err)
	}
	return filepath.Join(dir, ents[0].Name())
}

// TestCopyToHostSparse copies a 256 MiB guest file of 8 KiB of data and a
// hole: the copy has the file's bytes and costs the host its data only,
// in a private directory under the parent that Close removes.
func TestCopyToHostSparse(t *testing.T) {
	head := bytes.Repeat([]byte("rpm\x00"), 2048)
	tree := fstest.MapFS{
		"etc/os-release": fixtures.File("ID=rocky\n", 0o644),
		"etc/passwd":     fixtures.File("root:x:0:0::/root:/bin/sh\n", 0o644),
		"db":             &fstest.MapFile{Data: head, Mode: 0o644, Sys: fixtures.Meta{SparseSize: 256 << 20}},
	}
	g := imageGuest(t, tree)
	parent := t.TempDir()
	s := NewScratch(parent)
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Fatalf("a directory made before use: %v", ents)
	}
	p, err := copyGuest(g, "db", s, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	dir := only(t, parent)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 || filepath.Dir(p) != dir {
		t.Errorf("copy %s in %s (%v, %v), want a private directory under %s", p, dir, fi.Mode(), err, parent)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	used := fi.Sys().(*syscall.Stat_t).Blocks * 512
	t.Logf("copy of %d bytes uses %d bytes", fi.Size(), used)
	if fi.Size() != 256<<20 || used > 1<<20 {
		t.Errorf("copy of %d bytes uses %d bytes of disk, want 256 MiB using at most 1 MiB", fi.Size(), used)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(head)+copyBlock)
	_, err = f.ReadAt(got, 0)
	f.Close()
	if err != nil || !bytes.Equal(got[:len(head)], head) || !bytes.Equal(got[len(head):], zeroBlock[:]) {
		t.Errorf("the copy's first bytes differ from the guest file's (%v)", err)
	}

	if _, err := copyGuest(g, "db", s, 1<<20); !errors.Is(err, fsinspect.ErrTooLarge) {
		t.Errorf("over the cap: err = %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := copyGuest(imageGuest(t, tree, fsinspect.WithContext(ctx)), "db", s, 256<<20); err == nil {
		t.Error("a copy after the scan's context ended succeeded")
	}
	if only(t, dir) != p {
		t.Errorf("a refused or stopped copy left a file in %s", dir)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("Close left %v", ents)
	}
	if _, err := s.CreateTemp("x"); err == nil {
		t.Error("CreateTemp after Close succeeded")
	}
}

// TestRemoveScratch removes the directory of a scan abandoned with a
// file still open in it, as a process does before it exits, and refuses
// new temporary files afterwards.
func TestRemoveScratch(t *testing.T) {
	t.Cleanup(func() {
		live.Lock()
		live.exiting = false
		live.Unlock()
	})
	parent := t.TempDir()
	abandoned := NewScratch(parent)
	f, err := abandoned.CreateTemp("copy-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	RemoveScratch()
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("RemoveScratch left %v", ents)
	}
	if _, err := f.Write([]byte("late")); err != nil {
		t.Errorf("the abandoned reader's open file failed: %v", err)
	}
	for _, s := range []*Scratch{abandoned, NewScratch(parent)} {
		if _, err := s.CreateTemp("x"); err == nil {
			t.Error("CreateTemp after RemoveScratch succeeded")
		}
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("left after RemoveScratch: %v", ents)
	}
}
