package xfs_test

import (
	"io"
	"io/fs"
	"os"
	"path"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// fuzzRegion is how much of the start of each fuzz image the mutations
// hit: the superblock and AG headers, the first inode chunks, the root
// and small directories, and the first data blocks.
const fuzzRegion = 512 << 10

// fuzzImages builds the small images FuzzXFS mutates: v5 and v4, with
// 1 KiB blocks so that the directory d has a btree fork and node form.
func fuzzImages(tb testing.TB) [][]byte {
	tree := fstest.MapFS{
		"etc/passwd": fixtures.File("root:x:0:0::/root:/bin/sh\n", 0o644),
		"etc/shadow": fixtures.Owned("root:*:1::::::\n", 0o640, 0, 42),
		"bin/tool":   fixtures.File(pattern(300000, 4), 0o4755),
		"l/short":    fixtures.Symlink("../etc/passwd"),
		"sf/a":       fixtures.File("a", 0o644),
		"dev/null":   {Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666},
	}
	dirOf(tree, "d", "entry-with-a-long-name", 1500)
	dirOf(tree, "blk", "e", 30)
	var imgs [][]byte
	for _, o := range []fixtures.XFSOptions{
		{BlockSize: 1024, Size: 16 << 20},
		{V4: true, BlockSize: 1024, InodeSize: 256, Size: 16 << 20},
	} {
		b, err := os.ReadFile(fixtures.MustXFS(tb, tree, o))
		if err != nil {
			tb.Fatal(err)
		}
		imgs = append(imgs, b)
	}
	return imgs
}

// overlay is an image with some bytes replaced, read without copying it.
type overlay struct {
	base    []byte
	patches map[int64]byte
}

func (o overlay) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(o.base)) {
		return 0, io.EOF
	}
	n := copy(p, o.base[off:])
	for at, v := range o.patches {
		if at >= off && at < off+int64(n) {
			p[at-off] = v
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// FuzzXFS mutates bytes of the metadata of small images and reads the
// whole tree: no input may panic or hang the reader. which picks the
// image; each 4 bytes of muts set the byte at a 24-bit offset, modulo
// fuzzRegion (or the whole image when which has its top bit set), to a
// value.
func FuzzXFS(f *testing.F) {
	imgs := fuzzImages(f)
	for i := range imgs {
		f.Add(uint8(i), []byte{})
	}
	f.Add(uint8(0), []byte{0, 0, 0x00, 'Y'})                    // superblock magic
	f.Add(uint8(0), []byte{0, 0, 0x7c, 9, 0, 0, 0x54, 1})       // AG block log, AG blocks
	f.Add(uint8(1), []byte{0, 0, 0x38, 0x80, 0, 0, 0x3f, 0x81}) // root inode number
	f.Add(uint8(0x80), []byte{0x01, 0x00, 0x00, 0x00})          // anywhere
	f.Fuzz(func(t *testing.T, which uint8, muts []byte) {
		img := imgs[int(which&0x7f)%len(imgs)]
		region := fuzzRegion
		if which&0x80 != 0 {
			region = len(img)
		}
		o := overlay{base: img, patches: map[int64]byte{}}
		for i := 0; i+4 <= len(muts); i += 4 {
			off := (int(muts[i])<<16 | int(muts[i+1])<<8 | int(muts[i+2])) % region
			o.patches[int64(off)] = muts[i+3]
		}
		fsys, err := xfs.New(o, int64(len(img)))
		if err != nil {
			return
		}
		readTree(fsys, ".", 0, new(int))
	})
}

// readTree reads everything below dir a fuzzed FS offers, within caps:
// depth 16, 3000 entries, 1 MiB per file.
func readTree(fsys *xfs.FS, dir string, depth int, seen *int) {
	ents, err := fsys.ReadDir(dir)
	if err != nil || depth > 16 {
		return
	}
	for _, e := range ents {
		if *seen++; *seen > 3000 {
			return
		}
		name := path.Join(dir, e.Name())
		_, _ = e.Info()
		fi, err := fsys.Lstat(name)
		if err != nil {
			continue
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			_, _ = fsys.ReadLink(name)
		case fi.IsDir():
			readTree(fsys, name, depth+1, seen)
		case fi.Mode().IsRegular():
			if fi.Size() <= 1<<20 {
				_, _ = fsys.ReadFile(name)
			}
			if file, err := fsys.Open(name); err == nil {
				_, _ = io.CopyN(io.Discard, file, 1<<20)
				file.Close()
			}
		}
	}
}

// TestFuzzSeedsRead checks that the unmutated fuzz images read back in
// full, so the fuzzer starts from images the reader understands.
func TestFuzzSeedsRead(t *testing.T) {
	for i, img := range fuzzImages(t) {
		fsys, err := xfs.New(overlay{base: img}, int64(len(img)))
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if b, err := fsys.ReadFile("bin/tool"); err != nil || string(b) != pattern(300000, 4) {
			t.Errorf("image %d: bin/tool: %d bytes, %v", i, len(b), err)
		}
		if ents, err := fsys.ReadDir("d"); err != nil || len(ents) != 1500 {
			t.Errorf("image %d: ReadDir(d): %d entries, %v", i, len(ents), err)
		}
		seen := 0
		readTree(fsys, ".", 0, &seen)
		if want := 7 + 6 + 1500 + 30; seen != want { // directories, files, d/*, blk/*
			t.Errorf("image %d: read %d entries, want %d", i, seen, want)
		}
	}
}
