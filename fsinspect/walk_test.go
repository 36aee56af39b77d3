package fsinspect

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestWalkDirDAG: on an ext4 image whose directories are hard-linked twice
// per level (2^30 paths), WalkDir reads each directory once, still passes
// every entry it reads to fn, and honours SkipDir.
func TestWalkDirDAG(t *testing.T) {
	must := fixtures.MustHostile(t)
	base := fixtures.MustExt4(t, fstest.MapFS{"srv/x": fixtures.File("x\n", 0o644)}, fixtures.Ext4Options{})
	g := NewGuest(openExt4(t, must(fixtures.Ext4DirDAG(base, "/srv/dag", 30))))
	var seen []string
	err := g.WalkDir("srv", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		seen = append(seen, name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// srv, srv/x, srv/dag, then per level a (read) and b (not read again).
	if len(seen) != 3+2*30 {
		t.Fatalf("walk saw %d names, want %d: %v", len(seen), 3+2*30, seen)
	}
	if deepest := "srv/dag" + strings.Repeat("/a", 30); !slices.Contains(seen, deepest) {
		t.Errorf("the walk never reached %s", deepest)
	}
	var skipped []string
	err = g.WalkDir("srv", func(name string, d fs.DirEntry, err error) error {
		skipped = append(skipped, name)
		if name == "srv/dag" {
			return fs.SkipDir
		}
		return err
	})
	if err != nil || !slices.Equal(skipped, []string{"srv", "srv/dag", "srv/x"}) {
		t.Errorf("walk with SkipDir at srv/dag saw %v, %v", skipped, err)
	}
}

// TestWalkDirMapFS: on a backend without inode numbers WalkDir visits what
// fs.WalkDir visits, and reports a missing root to fn.
func TestWalkDirMapFS(t *testing.T) {
	tree := guestTree()
	g := NewGuest(tree)
	var got, want []string
	if err := g.WalkDir(".", func(name string, d fs.DirEntry, err error) error { got = append(got, name); return err }); err != nil {
		t.Fatal(err)
	}
	if err := fs.WalkDir(tree, ".", func(name string, d fs.DirEntry, err error) error { want = append(want, name); return err }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("WalkDir saw %v, fs.WalkDir %v", got, want)
	}
	err := g.WalkDir("nonexistent", func(name string, d fs.DirEntry, err error) error { return err })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WalkDir of a missing root: %v", err)
	}
}
