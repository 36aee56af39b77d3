package ext4_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/fsinspect/internal/loopmount"
)

// TestKernelWritten reads filesystems the kernel wrote: an empty mkfs
// image is loop-mounted read-write, the standard tree, a directory the
// kernel turns into an htree, a file fragmented into hundreds of extents
// and a fallocated file are written through the mount, and after umount
// the reader must see exactly that. Kernel layouts (its allocator, its
// htree splits, its inline data) differ from what mkfs -d makes.
func TestKernelWritten(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loop mounts need root")
	}
	t.Parallel()
	sets := []struct {
		name string
		opts fixtures.Ext4Options
	}{
		{"default", fixtures.Ext4Options{BlockSize: 4096, Size: 64 << 20, Features: "orphan_file"}},
		{"inline-data", fixtures.Ext4Options{BlockSize: 4096, Size: 64 << 20, Features: "inline_data"}},
		{"1k-blocks", fixtures.Ext4Options{BlockSize: 1024, Size: 64 << 20}},
		{"ext3", fixtures.Ext4Options{Type: "ext3", BlockSize: 4096, Size: 64 << 20}},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			img := copyImage(t, fixtures.MustExt4(t, fstest.MapFS{}, set.opts))
			dir, umount := loopmount.Mount(t, img, "ext4", "rw")
			tree := standardTree(treeOptions{maxLink: int(set.opts.BlockSize) - 1, links: true})
			for i := range 3000 {
				tree[fmt.Sprintf("many/k-%04d", i)] = fixtures.File(fmt.Sprint(i), 0o644)
			}
			if err := fixtures.Materialize(dir, tree); err != nil {
				t.Fatal(err)
			}
			// Every other block of frag: hundreds of extents, holes between.
			frag := make([]byte, 799*4096)
			f, err := os.Create(filepath.Join(dir, "frag"))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 800; i += 2 {
				chunk := []byte(pattern(4096, byte(i)))
				copy(frag[i*4096:], chunk)
				if _, err := f.WriteAt(chunk, int64(i)*4096); err != nil {
					t.Fatal(err)
				}
				if i%50 == 0 {
					f.Sync()
				}
			}
			f.Close()
			// fallocate: unwritten extents, with data written into part
			// (ext3 has no extents; there it writes zeros).
			prealloc := make([]byte, 1<<20)
			f, err = os.Create(filepath.Join(dir, "prealloc"))
			if err != nil {
				t.Fatal(err)
			}
			if set.opts.Type == "" {
				err = unix.Fallocate(int(f.Fd()), 0, 0, 1<<20)
			} else {
				_, err = f.WriteAt(prealloc, 0)
			}
			copy(prealloc[300000:], "written into an unwritten extent")
			if err == nil {
				_, err = f.WriteAt(prealloc[300000:300032], 300000)
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"frag", "prealloc"} {
				if err := os.Chtimes(filepath.Join(dir, n), fixtures.Epoch, fixtures.Epoch); err != nil {
					t.Fatal(err)
				}
			}
			umount()

			fsys := openFS(t, img)
			checkTree(t, fsys, withFiles(tree, map[string][]byte{"frag": frag, "prealloc": prealloc}))
			// The kernel indexed the big directory, and frag needed an
			// extent tree below the inode (or indirect blocks on ext3).
			if fi, err := fsys.Stat("many"); err != nil || fi.Sys().(*ext4.Stat).Flags&0x1000 == 0 {
				t.Errorf("many is not an htree directory: %v, %v", fi, err)
			}
			if set.opts.Type == "" {
				if out := runTool(t, "debugfs", "-R", "stat /frag", img); !strings.Contains(out, "(ETB") {
					t.Errorf("frag has no extent tree blocks:\n%s", out)
				}
			}
			kernelAgrees(t, fsys, img)
		})
	}
}

// withFiles returns tree plus regular files of the given contents, with
// the mode, owner and time fixtures.Materialize would not have set.
func withFiles(tree fstest.MapFS, files map[string][]byte) fstest.MapFS {
	out := fstest.MapFS{}
	for n, f := range tree {
		out[n] = f
	}
	for n, b := range files {
		out[n] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return out
}
