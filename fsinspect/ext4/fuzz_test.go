package ext4_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// fuzzRegion is how much of the start of each fuzz image the mutations
// hit: the superblock, group descriptors, bitmaps, the inode table of a
// 2 MiB filesystem and its first directory and extent blocks.
const fuzzRegion = 256 << 10

// fuzzImages builds the small images FuzzExt4 mutates: ext4 with inline
// data, ext4 with extents, and ext2 with indirect blocks, each with an
// htree directory.
func fuzzImages(tb testing.TB) [][]byte {
	tree := fstest.MapFS{
		"etc/passwd":  fixtures.File("root:x:0:0::/root:/bin/sh\n", 0o644),
		"etc/shadow":  fixtures.Owned("root:*:1::::::\n", 0o640, 0, 42),
		"etc/ssh":     fixtures.Dir(0o755),
		"bin/tool":    fixtures.File(pattern(300000, 4), 0o4755),
		"bin/small":   fixtures.File(pattern(100, 5), 0o755),
		"l/fast":      fixtures.Symlink("../etc/passwd"),
		"l/slow":      fixtures.Symlink(linkTarget(300)),
		"hole":        {Data: []byte("x"), Mode: 0o644, Sys: fixtures.Meta{SparseSize: 1 << 20}},
		"d":           fixtures.Dir(0o1777),
		"tmp/.hidden": fixtures.File("", 0o600),
	}
	for i := range 200 {
		tree[fmt.Sprintf("d/entry-%03d", i)] = fixtures.File(fmt.Sprint(i), 0o644)
	}
	var imgs [][]byte
	for _, o := range []fixtures.Ext4Options{
		{BlockSize: 1024, Size: 2 << 20, Features: "^has_journal,inline_data"},
		{BlockSize: 1024, Size: 2 << 20, Features: "^has_journal"},
		{Type: "ext2", BlockSize: 1024, Size: 2 << 20},
	} {
		// e2fsck -D gives d an htree index, for the probe to chew on.
		b, err := os.ReadFile(indexed(tb, fixtures.MustExt4(tb, tree, o)))
		if err != nil {
			tb.Fatal(err)
		}
		imgs = append(imgs, b)
	}
	return imgs
}

// FuzzExt4 mutates bytes of the metadata of small images and reads the
// whole tree: no input may panic or hang the reader, nor make it name
// inode tables outside the filesystem or beyond the bytes asked for. which picks the
// image; each 4 bytes of muts set the byte at a 24-bit offset, modulo
// fuzzRegion (or the whole image when which has its top bit set), to a
// value.
func FuzzExt4(f *testing.F) {
	imgs := fuzzImages(f)
	for i := range imgs {
		f.Add(uint8(i), []byte{})
	}
	f.Add(uint8(0), []byte{0, 4, 0x38, 0x54})                   // superblock magic
	f.Add(uint8(1), []byte{0, 4, 0x18, 5, 0, 4, 0x28, 0})       // block size, inodes per group
	f.Add(uint8(2), []byte{0, 8, 0x08, 0xff, 0, 8, 0x09, 0xff}) // inode table location
	// 2047 groups of one block and one inode each (the image has 2048 blocks).
	f.Add(uint8(1), []byte{0, 4, 0x20, 1, 0, 4, 0x21, 0, 0, 4, 0x28, 1, 0, 4, 0x29, 0, 0, 4, 0x00, 0xff, 0, 4, 0x01, 0x07, 0, 4, 0x02, 0})
	f.Add(uint8(1), []byte{0x00, 0x90, 0x00, 0x00, 0x01, 0x00, 0x2e, 0x06})    // inode table bytes
	f.Add(uint8(0x82), []byte{0x05, 0x00, 0x00, 0x00, 0x0c, 0x10, 0x04, 0x00}) // anywhere
	f.Fuzz(func(t *testing.T, which uint8, muts []byte) {
		img := bytes.Clone(imgs[int(which&0x7f)%len(imgs)])
		region := fuzzRegion
		if which&0x80 != 0 {
			region = len(img)
		}
		for i := 0; i+4 <= len(muts); i += 4 {
			off := (int(muts[i])<<16 | int(muts[i+1])<<8 | int(muts[i+2])) % region
			img[off] = muts[i+3]
		}
		fsys, err := ext4.New(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			return
		}
		sb := fsys.Super()
		var total int64
		for _, r := range fsys.InodeTablesInUse(1 << 20) {
			if r.Off < 0 || r.N <= 0 || r.Off+r.N > int64(sb.Blocks)*sb.BlockSize {
				t.Fatalf("inode table range %v outside the %d blocks of the filesystem", r, sb.Blocks)
			}
			total += r.N
		}
		if total > 1<<20 {
			t.Fatalf("inode tables in use: %d bytes, over the 1 MiB asked for", total)
		}
		readTree(fsys, ".", 0, new(int))
	})
}

// readTree reads everything below dir a fuzzed FS offers, within caps:
// depth 16, 2000 entries, 1 MiB per file.
func readTree(fsys *ext4.FS, dir string, depth int, seen *int) {
	ents, err := fsys.ReadDir(dir)
	if err != nil || depth > 16 {
		return
	}
	for _, e := range ents {
		if *seen++; *seen > 2000 {
			return
		}
		name := path.Join(dir, e.Name())
		_, _ = e.Info()
		fi, err := fsys.Lstat(name)
		if err != nil {
			continue
		}
		_ = fi.Sys()
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
		fsys, err := ext4.New(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if b, err := fsys.ReadFile("bin/tool"); err != nil || !bytes.Equal(b, []byte(pattern(300000, 4))) {
			t.Errorf("image %d: bin/tool: %d bytes, %v", i, len(b), err)
		}
		if fi, err := fsys.Stat("d/entry-123"); err != nil || fi.Size() != 3 {
			t.Errorf("image %d: Stat(d/entry-123) = %v, %v", i, fi, err)
		}
		if ents, err := fsys.ReadDir("d"); err != nil || len(ents) != 200 {
			t.Errorf("image %d: ReadDir(d): %d entries, %v", i, len(ents), err)
		}
	}
}
