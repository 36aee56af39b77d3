package ext4_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestRealTree compares a real guest tree on the host with the image it
// was packed into, entry by entry: type, mode, owner, size, mtime (to the
// second; directories excepted, as a live tree moves on), content and
// link target. It runs only when IMGCHECK_REAL_TREE names the tree and
// IMGCHECK_REAL_FS the filesystem as path[@byte offset], for example
// IMGCHECK_REAL_FS=/work/real/bookworm.raw@2097152 for a root partition
// at sector 4096.
func TestRealTree(t *testing.T) {
	root, spec := os.Getenv("IMGCHECK_REAL_TREE"), os.Getenv("IMGCHECK_REAL_FS")
	if root == "" || spec == "" {
		t.Skip("set IMGCHECK_REAL_TREE and IMGCHECK_REAL_FS to compare a real tree with its image")
	}
	p, offText, _ := strings.Cut(spec, "@")
	var off int64
	if offText != "" {
		var err error
		if off, err = strconv.ParseInt(offText, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	cr := &countingReader{r: io.NewSectionReader(f, off, st.Size()-off)}
	fsys, err := ext4.New(cr, st.Size()-off)
	if err != nil {
		t.Fatal(err)
	}
	n, contents, bad := 0, 0, 0
	report := func(format string, args ...any) {
		if bad++; bad <= 25 {
			t.Errorf(format, args...)
		}
	}
	err = filepath.WalkDir(root, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, host)
		name := filepath.ToSlash(rel)
		hfi, err := os.Lstat(host)
		if err != nil {
			return err
		}
		hs := hfi.Sys().(*syscall.Stat_t)
		n++
		fi, err := fsys.Lstat(name)
		if err != nil {
			report("%s: %v", name, err)
			return nil
		}
		s := fi.Sys().(*ext4.Stat)
		if fi.Mode() != hfi.Mode() || !hfi.IsDir() && (fi.Size() != hfi.Size() || fi.ModTime().Unix() != hfi.ModTime().Unix()) ||
			s.Uid != hs.Uid || s.Gid != hs.Gid {
			report("%s: image %v %d %d:%d %v; tree %v %d %d:%d %v", name, fi.Mode(), fi.Size(), s.Uid, s.Gid, fi.ModTime(),
				hfi.Mode(), hfi.Size(), hs.Uid, hs.Gid, hfi.ModTime())
			return nil
		}
		switch {
		case hfi.Mode().IsRegular():
			want, err := os.ReadFile(host)
			if err != nil {
				return err
			}
			if got, err := fsys.ReadFile(name); err != nil || !bytes.Equal(got, want) {
				report("%s: content differs (%v)", name, err)
			}
			contents++
		case hfi.Mode()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(host)
			if got, err := fsys.ReadLink(name); err != nil || got != want {
				report("%s: link %q, tree says %q (%v)", name, got, want, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries compared (%d file contents), %d differ; %d bytes read in %d calls", n, contents, bad, cr.bytes.Load(), cr.calls.Load())
}
