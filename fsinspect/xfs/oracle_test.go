package xfs_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	goxfs "github.com/masahiro331/go-xfs-filesystem/xfs"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestOracleGoXFS reads the fixture images with
// github.com/masahiro331/go-xfs-filesystem too: where it can read a
// regular file or list a directory, the two readers must agree on the
// bytes, the names, the mode and the size. Its failures and panics are
// skipped (it is an oracle, not the reader under test).
func TestOracleGoXFS(t *testing.T) {
	t.Parallel()
	tree := standardTree(false, true)
	for _, set := range featureSets {
		if set.name == "v5-dir64k" {
			// On this nrext64 image it returns wrong bytes for every
			// file, where the kernel agrees with this reader (TestTree).
			continue
		}
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			img := fixtures.MustXFS(t, tree, set.opts)
			fsys := openFS(t, img)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			oracle, err := goxfs.NewFS(*io.NewSectionReader(f, 0, st.Size()), nil)
			if err != nil {
				t.Skipf("go-xfs-filesystem cannot open this image: %v", err)
			}
			files, dirs := 0, 0
			for name, mf := range tree {
				switch {
				case strings.HasPrefix(name, "big/") || strings.HasPrefix(name, "leaf/"):
					// It walks every directory on a path again for each
					// file: the listings below are compared instead.
				case mf.Mode.IsRegular():
					want, wfi, err := oracleRead(oracle, name)
					if err != nil {
						continue
					}
					got, err := fsys.ReadFile(name)
					fi, _ := fsys.Stat(name)
					if err != nil || !bytes.Equal(got, want) || fi.Mode() != wfi.Mode() || fi.Size() != wfi.Size() {
						t.Errorf("%s: %d bytes, %v, %v; go-xfs-filesystem: %d bytes (equal: %v), %v", name, len(got), err, fi, len(want), bytes.Equal(got, want), fs.FormatFileInfo(wfi))
					}
					files++
				}
			}
			for _, dir := range []string{".", "sf", "blk", "leaf", "big", "etc", "deep/a/b"} {
				want, err := oracleNames(oracle, dir)
				if err != nil {
					continue
				}
				ents, err := fsys.ReadDir(dir)
				var got []string
				for _, e := range ents {
					got = append(got, e.Name())
				}
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("ReadDir(%s): %d names, %v; go-xfs-filesystem lists %d", dir, len(got), err, len(want))
				}
				dirs++
			}
			t.Logf("%d files and %d directories compared", files, dirs)
			if files < 10 || dirs < 3 {
				t.Errorf("go-xfs-filesystem read only %d files and %d directories", files, dirs)
			}
		})
	}
}

// oracleRead reads a file with go-xfs-filesystem, turning its panics into
// errors.
func oracleRead(oracle *goxfs.FileSystem, name string) (b []byte, fi fs.FileInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f, err := oracle.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, nil, err
	}
	b, err = io.ReadAll(f)
	return b, fi, err
}

// oracleNames lists a directory with go-xfs-filesystem, sorted, without
// "." and "..".
func oracleNames(oracle *goxfs.FileSystem, dir string) (names []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	ents, err := oracle.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Name() != "." && e.Name() != ".." {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}
