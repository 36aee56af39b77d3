package xfs_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// where asks xfs_db where the inode of path lies in img (its byte
// offset and number) and where its data fork's first extent starts (a
// byte offset, -1 when it has none).
func where(t *testing.T, img, path string) (inodeAt int64, ino uint64, dataAt int64) {
	t.Helper()
	bin, err := fixtures.Tool("xfs_db") // xfsprogs, as mkfs.xfs
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		out, err := exec.Command(bin, append([]string{"-r"}, append(args, img)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("xfs_db: %v: %s", err, out)
		}
		return out
	}
	num := func(re string, b []byte) int64 {
		m := regexp.MustCompile(re).FindSubmatch(b)
		if m == nil {
			return -1
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	out := run("-c", "path /"+path, "-c", "stack", "-c", "bmap")
	inodeAt, ino, dataAt = num(`byte offset (\d+)`, out), uint64(num(`inode (\d+)`, out)), -1
	if fsb := num(`startblock (\d+)`, out); fsb >= 0 {
		dataAt = num(`\((\d+)\)`, run("-c", "convert fsblock "+strconv.FormatInt(fsb, 10)+" byte"))
	}
	return inodeAt, ino, dataAt
}

// btreeBlock is where the first block below the btree root in the inode
// of path lies in img.
func btreeBlock(t *testing.T, img, path string) int64 {
	t.Helper()
	bin, _ := fixtures.Tool("xfs_db")
	out, err := exec.Command(bin, "-r", "-c", "path /"+path, "-c", "p u3.bmbt.ptrs", img).CombinedOutput()
	m := regexp.MustCompile(`ptrs\[1\] = (\d+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("xfs_db: %v: %s", err, out)
	}
	out, err = exec.Command(bin, "-r", "-c", "convert fsblock "+string(m[1])+" byte", img).CombinedOutput()
	m = regexp.MustCompile(`\((\d+)\)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("xfs_db: %v: %s", err, out)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// patched returns a copy of b with patch applied.
func patched(b []byte, patch func(b []byte)) []byte {
	c := bytes.Clone(b)
	patch(c)
	return c
}

// TestCorruptSuperblock: every bad geometry field fails New with
// ErrCorrupt, features the reader must not guess at with ErrUnsupported,
// and truncated images fail cleanly.
func TestCorruptSuperblock(t *testing.T) {
	t.Parallel()
	img, err := os.ReadFile(fixtures.MustXFS(t, standardTree(false, false), fixtures.XFSOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	for _, c := range []struct {
		name  string
		patch func(b []byte)
		size  int64 // 0: the whole image
		want  error
	}{
		{"magic", func(b []byte) { b[0] = 'Y' }, 0, xfs.ErrCorrupt},
		{"mkfs in progress", func(b []byte) { b[126] = 1 }, 0, xfs.ErrCorrupt},
		{"block size", func(b []byte) { be.PutUint32(b[4:], 3000) }, 0, xfs.ErrCorrupt},
		{"block log", func(b []byte) { b[120] = 20 }, 0, xfs.ErrCorrupt},
		{"sector size", func(b []byte) { be.PutUint16(b[102:], 8192) }, 0, xfs.ErrCorrupt},
		{"inode size", func(b []byte) { be.PutUint16(b[104:], 100) }, 0, xfs.ErrCorrupt},
		{"inodes per block", func(b []byte) { b[123] = 5 }, 0, xfs.ErrCorrupt},
		{"AG block log", func(b []byte) { b[124]++ }, 0, xfs.ErrCorrupt},
		{"AG count", func(b []byte) { be.PutUint32(b[88:], 0) }, 0, xfs.ErrCorrupt},
		{"blocks past the AGs", func(b []byte) { be.PutUint64(b[8:], be.Uint64(b[8:])*4) }, 0, xfs.ErrCorrupt},
		{"root inode", func(b []byte) { be.PutUint64(b[56:], 1<<40) }, 0, xfs.ErrCorrupt},
		{"root inode is a file", func(b []byte) { be.PutUint64(b[56:], be.Uint64(b[56:])+1) }, 0, xfs.ErrCorrupt},
		{"version 3", func(b []byte) { b[101] = b[101]&0xf0 | 3 }, 0, xfs.ErrUnsupported},
		{"unknown incompat", func(b []byte) { b[218] |= 0x80 }, 0, xfs.ErrUnsupported},
		{"needs repair", func(b []byte) { b[219] |= 0x10 }, 0, xfs.ErrUnsupported},
		{"realtime section", func(b []byte) { be.PutUint64(b[16:], 100) }, 0, xfs.ErrUnsupported},
		{"truncated to half", func([]byte) {}, int64(len(img) / 2), xfs.ErrCorrupt},
		{"truncated to 100 bytes", func([]byte) {}, 100, xfs.ErrCorrupt},
		{"empty", func([]byte) {}, -1, xfs.ErrCorrupt},
	} {
		b := patched(img, c.patch)
		size := int64(len(b))
		if c.size > 0 {
			size = c.size
		} else if c.size < 0 {
			size = 0
		}
		_, err := xfs.New(bytes.NewReader(b[:size]), size)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: New = %v; want %v", c.name, err, c.want)
		}
	}
}

// TestCorruptStructures damages one structure at a time, found with
// xfs_db, on an image with 1 KiB blocks (where the big directory has a
// btree fork): the reads that need it fail with ErrCorrupt naming the
// inode, and the rest of the tree still reads.
func TestCorruptStructures(t *testing.T) {
	t.Parallel()
	path := fixtures.MustXFS(t, standardTree(true, true), fixtures.XFSOptions{BlockSize: 1024})
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	const core = 176 // v3 inode core: the data fork starts here
	inodeOf := func(name string) int64 { at, _, _ := where(t, path, name); return at }
	dataOf := func(name string) int64 { _, _, at := where(t, path, name); return at }
	_, aIno, _ := where(t, path, "deep/a")
	for _, c := range []struct {
		name  string
		patch func(b []byte)
		read  func(fsys *xfs.FS) error
	}{
		{"inode magic", func(b []byte) { b[inodeOf("etc/passwd")] = 0 }, stat("etc/passwd")},
		{"inode mode", func(b []byte) { be.PutUint16(b[inodeOf("etc/passwd")+2:], 0) }, stat("etc/passwd")},
		{"inode number", func(b []byte) { b[inodeOf("etc/passwd")+152+7]++ }, stat("etc/passwd")},
		{"fork format", func(b []byte) { b[inodeOf("etc/passwd")+5] = 9 }, stat("etc/passwd")},
		{"extent count", func(b []byte) { be.PutUint32(b[inodeOf("data/size-70000")+76:], 100) }, stat("data/size-70000")},
		{"extent outside the filesystem", func(b []byte) { b[inodeOf("data/size-70000")+core+9] = 0xff }, readFile("data/size-70000")},
		{"overlapping extents", func(b []byte) {
			at := inodeOf("data/size-70000")
			be.PutUint32(b[at+76:], 2)
			copy(b[at+core+16:at+core+32], b[at+core:at+core+16])
		}, readFile("data/size-70000")},
		{"btree level", func(b []byte) { be.PutUint16(b[inodeOf("big")+core:], 10) }, readDir("big")},
		{"btree leaf twice", func(b []byte) {
			at := inodeOf("big") + core
			be.PutUint16(b[at+2:], 2) // two pointers, both to the one leaf
			// The root fills the rest of the 512-byte inode: keys, then
			// pointers after room for (fork-4)/16 keys.
			ptrs := at + 4 + 8*((512-core-4)/16)
			copy(b[ptrs+8:ptrs+16], b[ptrs:ptrs+8])
		}, readDir("big")},
		{"btree block magic", func(b []byte) { b[btreeBlock(t, path, "big")] = 0 }, readDir("big")},
		{"btree block owner", func(b []byte) { b[btreeBlock(t, path, "big")+56+7]++ }, readDir("big")},
		{"directory data block magic", func(b []byte) { b[dataOf("big")] = 0 }, readDir("big")},
		{"directory block magic", func(b []byte) { b[dataOf("blk")] = 0 }, readDir("blk")},
		{"directory entry name", func(b []byte) { b[dataOf("leaf")+64+8] = 0 }, readDir("leaf")},
		{"directory unused length", func(b []byte) {
			at := dataOf("leaf") + 64
			be.PutUint16(b[at:], 0xffff)
			be.PutUint16(b[at+2:], 3)
		}, readDir("leaf")},
		{"short-form count", func(b []byte) { b[inodeOf("sf")+core] = 200 }, readDir("sf")},
		{"short-form name length", func(b []byte) { b[inodeOf("sf")+core+6] = 250 }, readDir("sf")},
		{"directory cycle", func(b []byte) {
			// deep/a/b holds one entry, c: point it at deep/a.
			at := inodeOf("deep/a/b") + core
			nameLen := int64(b[at+6])
			be.PutUint32(b[at+6+3+nameLen+1:], uint32(aIno))
		}, stat("deep/a/b/c/b/c/b/c")},
		{"symlink size", func(b []byte) { be.PutUint64(b[inodeOf("l/abs")+56:], 5000) }, readLink("l/abs")},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := patched(img, c.patch)
			fsys, err := xfs.New(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			err = c.read(fsys)
			t.Log(err)
			if !errors.Is(err, xfs.ErrCorrupt) {
				t.Errorf("read = %v; want ErrCorrupt", err)
			}
			if got, err := fsys.ReadFile("data/size-4097"); err != nil || string(got) != pattern(4097, 3) {
				t.Errorf("an undamaged file: %d bytes, %v", len(got), err)
			}
		})
	}
}

func stat(name string) func(*xfs.FS) error {
	return func(fsys *xfs.FS) error { _, err := fsys.Stat(name); return err }
}

func readFile(name string) func(*xfs.FS) error {
	return func(fsys *xfs.FS) error { _, err := fsys.ReadFile(name); return err }
}

func readDir(name string) func(*xfs.FS) error {
	return func(fsys *xfs.FS) error { _, err := fsys.ReadDir(name); return err }
}

func readLink(name string) func(*xfs.FS) error {
	return func(fsys *xfs.FS) error { _, err := fsys.ReadLink(name); return err }
}

// TestTruncatedData: an image cut after its metadata fails the reads of
// data past the cut with ErrCorrupt (wrapping io.ErrUnexpectedEOF).
func TestTruncatedData(t *testing.T) {
	t.Parallel()
	path := fixtures.MustXFS(t, standardTree(false, false), fixtures.XFSOptions{})
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := dataAt(t, path, "data/size-70000")
	// New checks the superblock's size against the device: claim fewer
	// bytes than the filesystem's blocks by serving a short reader.
	fsys, err := xfs.New(shortReader{bytes.NewReader(img), at}, int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadFile("data/size-70000"); !errors.Is(err, xfs.ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadFile past the end = %v", err)
	}
	var pe *fs.PathError
	if _, err := fsys.ReadFile("data/size-70000"); !errors.As(err, &pe) || pe.Path != "data/size-70000" {
		t.Errorf("error %v does not name the file", err)
	}
}

// dataAt is where the first extent of path's data lies in img.
func dataAt(t *testing.T, img, path string) int64 {
	_, _, at := where(t, img, path)
	if at < 0 {
		t.Fatalf("%s has no extent", path)
	}
	return at
}

// shortReader ends its data at n bytes, as a truncated file does.
type shortReader struct {
	r *bytes.Reader
	n int64
}

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.n {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n-off {
		n, _ := s.r.ReadAt(p[:s.n-off], off)
		return n, io.EOF
	}
	return s.r.ReadAt(p, off)
}
