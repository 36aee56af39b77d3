package ext4_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goext4 "github.com/masahiro331/go-ext4-filesystem/ext4"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestOracleGoExt4 reads every regular file of the fixture images with
// github.com/masahiro331/go-ext4-filesystem too: where it can read a
// file or symlink, they must agree. Its failures and panics are skipped.
func TestOracleGoExt4(t *testing.T) {
	t.Parallel()
	tree := standardTree(treeOptions{maxLink: 1023, links: true})
	for _, fset := range featureSets {
		// It cannot read inline data, and ignores meta_bg when it locates
		// group descriptors (it reads wrong inodes past the first block).
		if strings.Contains(fset.opts.Features, "inline_data") || strings.Contains(fset.opts.Features, "meta_bg") {
			continue
		}
		t.Run(fset.name, func(t *testing.T) {
			t.Parallel()
			img := fixtures.MustExt4(t, tree, fset.opts)
			fsys := openFS(t, img)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			oracle, err := oracleFS(io.NewSectionReader(f, 0, st.Size()))
			if err != nil {
				t.Skipf("go-ext4-filesystem cannot open this image: %v", err)
			}
			compared, links := 0, 0
			for n, mf := range tree {
				// go-ext4-filesystem returns i_block as the target of ext2/3
				// slow symlinks (60 bytes or more): a known bug, skipped.
				slowBlockMapped := fset.wantType != "ext4" && len(mf.Data) >= 60
				if mf.Mode&fs.ModeSymlink != 0 && !slowBlockMapped {
					want, err := oracleReadLink(oracle, n)
					if err != nil {
						continue
					}
					if got, err := fsys.ReadLink(n); err != nil || got != want {
						t.Errorf("%s: ReadLink = %q, %v; go-ext4-filesystem says %q", n, got, err, want)
					}
					links++
				}
				if !mf.Mode.IsRegular() {
					continue
				}
				want, err := oracleRead(oracle, n)
				if err != nil {
					continue
				}
				got, err := fsys.ReadFile(n)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: ReadFile: %d bytes, %v; go-ext4-filesystem read %d bytes (equal: %v)", n, len(got), err, len(want), bytes.Equal(got, want))
				}
				compared++
			}
			t.Logf("%d files and %d symlinks compared", compared, links)
			if compared < 10 {
				t.Errorf("go-ext4-filesystem read only %d files", compared)
			}
		})
	}
}

// oracleAgrees reads the named regular files of img with
// go-ext4-filesystem and fails t where it reads something other than
// fsys; files it cannot read are skipped. It returns how many it compared.
func oracleAgrees(t *testing.T, fsys *ext4.FS, img string, names []string) int {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	oracle, err := oracleFS(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return 0
	}
	compared := 0
	for _, n := range names {
		want, err := oracleRead(oracle, n)
		if err != nil {
			continue
		}
		if got, err := fsys.ReadFile(n); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: ReadFile: %d bytes, %v; go-ext4-filesystem read %d bytes", n, len(got), err, len(want))
		}
		compared++
	}
	return compared
}

// oracleFS opens r with go-ext4-filesystem, turning a panic into an error.
func oracleFS(r *io.SectionReader) (o *goext4.FileSystem, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return goext4.NewFS(*r, nil)
}

// oracleRead reads file n with go-ext4-filesystem, turning a panic into
// an error.
func oracleRead(o *goext4.FileSystem, n string) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	f, err := o.Open(n)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// oracleReadLink reads symlink n with go-ext4-filesystem, turning a
// panic into an error.
func oracleReadLink(o *goext4.FileSystem, n string) (s string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return o.ReadLink(n)
}

// debugfsStat matches the lines of `debugfs -R "stat path"` the oracle
// compares.
var (
	debugfsMode  = regexp.MustCompile(`Type: (\w+)\s+Mode:\s+(\d+)`)
	debugfsOwner = regexp.MustCompile(`User:\s+(\d+)\s+Group:\s+(\d+)`)
	debugfsSize  = regexp.MustCompile(`Size: (\d+)`)
	debugfsLinks = regexp.MustCompile(`Links: (\d+)`)
	debugfsTime  = regexp.MustCompile(`(?m)^\s*(a|c|m|cr)time: 0x([0-9a-f]+)(?::([0-9a-f]+))?`)
	debugfsInode = regexp.MustCompile(`Inode: (\d+)`)
)

// TestOracleDebugfs compares type, mode, owner, size, links, inode
// number and all four times with what debugfs reports, on the default
// and the ext3 feature sets.
func TestOracleDebugfs(t *testing.T) {
	t.Parallel()
	tree := standardTree(treeOptions{maxLink: 1023, links: true})
	paths := []string{".", "etc/shadow", "home/alice", "home/alice/high-ids", "tmp", "usr/bin/sudo", "usr/bin/sudoedit", "usr/bin/wall", "old", "links/len-200", "links/len-59", "many", "data/size-1300000"}
	for _, o := range []fixtures.Ext4Options{{BlockSize: 4096}, {Type: "ext3", BlockSize: 1024, InodeSize: 128}, {BlockSize: 4096, Features: "inline_data"}} {
		t.Run(fmt.Sprintf("%s-%d-%s", o.Type, o.BlockSize, o.Features), func(t *testing.T) {
			t.Parallel()
			img := copyImage(t, fixtures.MustExt4(t, tree, o))
			// Give one file a post-2038 mtime with nanoseconds, as debugfs
			// can and mkfs -d cannot.
			if o.InodeSize == 0 {
				runTool(t, "debugfs", "-w", "-R", fmt.Sprintf("set_inode_field /old mtime_extra %d", 987654321<<2|1), img)
			}
			fsys := openFS(t, img)
			for _, p := range paths {
				out := runTool(t, "debugfs", "-R", "stat /"+strings.TrimPrefix(p, "."), img)
				fi, err := fsys.Lstat(p)
				if err != nil {
					t.Errorf("Lstat(%q): %v", p, err)
					continue
				}
				st := fi.Sys().(*ext4.Stat)
				m := debugfsMode.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("debugfs stat %s: no mode in\n%s", p, out)
				}
				types := map[string]fs.FileMode{"regular": 0, "directory": fs.ModeDir, "symlink": fs.ModeSymlink}
				perm, _ := strconv.ParseUint(m[2], 8, 32)
				unixMode := uint64(fi.Mode().Perm())
				for bit, unix := range map[fs.FileMode]uint64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
					if fi.Mode()&bit != 0 {
						unixMode |= unix
					}
				}
				if fi.Mode().Type() != types[m[1]] || unixMode != perm {
					t.Errorf("%s: mode %v, debugfs says %s %s", p, fi.Mode(), m[1], m[2])
				}
				owner := debugfsOwner.FindStringSubmatch(out)
				if fmt.Sprint(st.Uid) != owner[1] || fmt.Sprint(st.Gid) != owner[2] {
					t.Errorf("%s: owner %d:%d, debugfs says %s:%s", p, st.Uid, st.Gid, owner[1], owner[2])
				}
				if s := debugfsSize.FindStringSubmatch(out)[1]; fmt.Sprint(fi.Size()) != s {
					t.Errorf("%s: size %d, debugfs says %s", p, fi.Size(), s)
				}
				if l := debugfsLinks.FindStringSubmatch(out)[1]; fmt.Sprint(st.Nlink) != l {
					t.Errorf("%s: nlink %d, debugfs says %s", p, st.Nlink, l)
				}
				if i := debugfsInode.FindStringSubmatch(out)[1]; fmt.Sprint(st.Ino) != i {
					t.Errorf("%s: inode %d, debugfs says %s", p, st.Ino, i)
				}
				got := map[string]time.Time{"a": st.Atime, "c": st.Ctime, "m": st.Mtime, "cr": st.Crtime}
				tms := debugfsTime.FindAllStringSubmatch(out, -1)
				if len(tms) < 3 {
					t.Errorf("%s: debugfs printed %d times:\n%s", p, len(tms), out)
				}
				for _, tm := range tms {
					if want := debugfsTimeValue(tm[2], tm[3]); !got[tm[1]].Equal(want) {
						t.Errorf("%s: %stime %v, debugfs says %v", p, tm[1], got[tm[1]], want)
					}
				}
			}
			if o.InodeSize == 0 {
				if fi, _ := fsys.Lstat("old"); fi.ModTime().Year() != 2101 || fi.ModTime().Nanosecond() != 987654321 {
					t.Errorf("old: mtime %v, want in 2101 with 987654321 ns", fi.ModTime())
				}
			}
		})
	}
}

// debugfsTimeValue decodes debugfs's "0xSECONDS:EXTRA" time.
func debugfsTimeValue(secHex, extraHex string) time.Time {
	sec, _ := strconv.ParseUint(secHex, 16, 32)
	s := int64(int32(uint32(sec)))
	var ns int64
	if extraHex != "" {
		x, _ := strconv.ParseUint(extraHex, 16, 32)
		s += int64(x&3) << 32
		ns = int64(x >> 2)
	}
	return time.Unix(s, ns).UTC()
}
