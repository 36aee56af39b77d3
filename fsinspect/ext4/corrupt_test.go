package ext4_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// corruptTree is the small tree the corruption tests damage.
var corruptTree = fstest.MapFS{
	"etc":                 fixtures.Dir(0o755),
	"etc/passwd":          fixtures.File("root:x:0:0::/root:/bin/sh\n", 0o644),
	"etc/motd":            fixtures.File("hello\n", 0o644),
	"etc/ssh":             fixtures.Dir(0o755),
	"etc/ssh/sshd_config": fixtures.File("PermitRootLogin no\n", 0o644),
	"big":                 fixtures.File(pattern(400000, 9), 0o644),
}

// patch writes b at off in the image file p.
func patch(t *testing.T, p string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// firstBlock returns the first data block of path in img, as debugfs
// lists it.
func firstBlock(t *testing.T, img, path string) int64 {
	t.Helper()
	out := runTool(t, "debugfs", "-R", "blocks /"+path, img)
	f := strings.Fields(out)
	if len(f) == 0 {
		t.Fatalf("debugfs blocks %s: no blocks", path)
	}
	b, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inodeOffset returns the byte offset of inode ino in img, from debugfs imap.
func inodeOffset(t *testing.T, img string, ino uint64, bs int64) int64 {
	t.Helper()
	out := runTool(t, "debugfs", "-R", fmt.Sprintf("imap <%d>", ino), img)
	m := regexp.MustCompile(`located at block (\d+), offset 0x([0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("debugfs imap: %s", out)
	}
	blk, _ := strconv.ParseInt(m[1], 10, 64)
	off, _ := strconv.ParseInt(m[2], 16, 64)
	return blk*bs + off
}

// TestCorrupt damages one structure per case and checks that the reader
// reports an error wrapping ErrCorrupt, without panicking, where the
// damage is reached.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	const bs = 4096
	base := fixtures.MustExt4(t, corruptTree, fixtures.Ext4Options{BlockSize: bs})
	ext3 := fixtures.MustExt4(t, corruptTree, fixtures.Ext4Options{Type: "ext3", BlockSize: 1024})
	stat := func(name string) func(*ext4.FS) error {
		return func(fsys *ext4.FS) error { _, err := fsys.Stat(name); return err }
	}
	read := func(name string) func(*ext4.FS) error {
		return func(fsys *ext4.FS) error { _, err := fsys.ReadFile(name); return err }
	}
	readDir := func(name string) func(*ext4.FS) error {
		return func(fsys *ext4.FS) error { _, err := fsys.ReadDir(name); return err }
	}
	cases := []struct {
		name string
		base string
		// damage changes the copy of the image at p.
		damage func(t *testing.T, p string, fsys *ext4.FS)
		// use is what must fail; nil means New itself must fail.
		use func(*ext4.FS) error
	}{
		{"bad magic", base, func(t *testing.T, p string, _ *ext4.FS) {
			patch(t, p, 1024+0x38, []byte{0, 0})
		}, nil},
		{"block size 2^(10+40)", base, func(t *testing.T, p string, _ *ext4.FS) {
			patch(t, p, 1024+0x18, le32(40))
		}, nil},
		{"zero inodes per group", base, func(t *testing.T, p string, _ *ext4.FS) {
			patch(t, p, 1024+0x28, le32(0))
		}, nil},
		{"truncated in the inode table", base, func(t *testing.T, p string, _ *ext4.FS) {
			if err := os.Truncate(p, inodeOffset(t, p, 2, bs)+64); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"inode table outside the filesystem", base, func(t *testing.T, p string, _ *ext4.FS) {
			// bg_inode_table_lo of group 0, in the block after the superblock.
			patch(t, p, bs+0x8, le32(0x7fffffff))
		}, nil},
		{"extent outside the filesystem", base, func(t *testing.T, p string, fsys *ext4.FS) {
			// ee_start_lo of the first extent in i_block.
			patch(t, p, inodeOffset(t, p, inoOf(t, fsys, "big"), bs)+0x28+20, le32(0x7ffffff0))
		}, read("big")},
		{"extent tree depth 6", base, func(t *testing.T, p string, fsys *ext4.FS) {
			patch(t, p, inodeOffset(t, p, inoOf(t, fsys, "big"), bs)+0x28+6, le16(6))
		}, read("big")},
		{"extent header magic", base, func(t *testing.T, p string, fsys *ext4.FS) {
			patch(t, p, inodeOffset(t, p, inoOf(t, fsys, "etc"), bs)+0x28, le16(0x1234))
		}, stat("etc/passwd")},
		{"inode mode 0", base, func(t *testing.T, p string, fsys *ext4.FS) {
			patch(t, p, inodeOffset(t, p, inoOf(t, fsys, "etc/motd"), bs), le16(0))
		}, stat("etc/motd")},
		{"directory rec_len 0", base, func(t *testing.T, p string, _ *ext4.FS) {
			patch(t, p, firstBlock(t, p, "etc")*bs+4, le16(0))
		}, readDir("etc")},
		{"directory rec_len past the block", base, func(t *testing.T, p string, _ *ext4.FS) {
			// "." is 12 bytes; make ".." run 8 bytes past the block.
			patch(t, p, firstBlock(t, p, "etc")*bs+12+4, le16(bs))
		}, stat("etc/passwd")},
		{"directory entry inode out of range", base, func(t *testing.T, p string, _ *ext4.FS) {
			// The third entry of etc follows "." (12) and ".." (12).
			patch(t, p, firstBlock(t, p, "etc")*bs+24, le32(0x7fffffff))
		}, readDir("etc")},
		{"directory loop", base, func(t *testing.T, p string, _ *ext4.FS) {
			// Point the only entry of etc/ssh at the root directory.
			blk := firstBlock(t, p, "etc/ssh") * bs
			patch(t, p, blk+24, le32(2))
			patch(t, p, blk+24+7, []byte{2})
		}, func(fsys *ext4.FS) error {
			ents, err := fsys.ReadDir("etc/ssh")
			if err != nil {
				return err
			}
			_, err = fsys.ReadDir("etc/ssh/" + ents[0].Name())
			return err
		}},
		{"directory entry type differs from inode", base, func(t *testing.T, p string, _ *ext4.FS) {
			// file_type of the third entry of etc: say "directory".
			patch(t, p, firstBlock(t, p, "etc")*bs+24+7, []byte{2})
		}, func(fsys *ext4.FS) error {
			ents, err := fsys.ReadDir("etc")
			if err != nil {
				return err
			}
			for _, e := range ents {
				if e.IsDir() && e.Name() != "ssh" {
					_, err := e.Info()
					return err
				}
			}
			return errors.New("no damaged entry found")
		}},
		{"indirect block refers to itself", ext3, func(t *testing.T, p string, fsys *ext4.FS) {
			out := runTool(t, "debugfs", "-R", "stat /big", p)
			m := regexp.MustCompile(`\(DIND\):(\d+)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("big has no double indirect block:\n%s", out)
			}
			dind, _ := strconv.ParseInt(m[1], 10, 64)
			patch(t, p, dind*1024, le32(uint32(dind)))
		}, read("big")},
		{"block pointer outside the filesystem", ext3, func(t *testing.T, p string, fsys *ext4.FS) {
			patch(t, p, inodeOffset(t, p, inoOf(t, fsys, "big"), 1024)+0x28+4*3, le32(0x7fffffff))
		}, read("big")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			good := openFS(t, c.base)
			p := copyImage(t, c.base)
			c.damage(t, p, good)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			fsys, err := ext4.New(f, st.Size())
			if c.use == nil {
				if !errors.Is(err, ext4.ErrCorrupt) {
					t.Fatalf("New = %v, want an error wrapping ErrCorrupt", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = c.use(fsys)
			if !errors.Is(err, ext4.ErrCorrupt) {
				t.Fatalf("got %v, want an error wrapping ErrCorrupt", err)
			}
			t.Log(err)
		})
	}
}

// inoOf returns the inode number of name.
func inoOf(t *testing.T, fsys *ext4.FS, name string) uint64 {
	t.Helper()
	fi, err := fsys.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*ext4.Stat).Ino
}

// shortReader claims more bytes than it has: reads past its data end
// early, as a truncated image behind a size from elsewhere would.
type shortReader struct {
	r    io.ReaderAt
	size int64
}

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	if int64(len(p)) > s.size-off {
		n, _ := s.r.ReadAt(p[:s.size-off], off)
		return n, io.EOF
	}
	return s.r.ReadAt(p, off)
}

// TestShortReads gives New the full size but cuts the data inside the
// inode table: lookups then fail with ErrCorrupt wrapping
// io.ErrUnexpectedEOF.
func TestShortReads(t *testing.T) {
	t.Parallel()
	const bs = 4096
	img := fixtures.MustExt4(t, corruptTree, fixtures.Ext4Options{BlockSize: bs})
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	cut := inodeOffset(t, img, 2, bs) + 64
	fsys, err := ext4.New(shortReader{f, cut}, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	_, err = fsys.ReadDir(".")
	if !errors.Is(err, ext4.ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadDir(.) = %v, want ErrCorrupt and io.ErrUnexpectedEOF", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "." {
		t.Errorf("error %v is not a *fs.PathError for %q", err, ".")
	}
}
