package ext4_test

import (
	"io/fs"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/fsinspect/internal/loopmount"
)

// TestOracleMount compares the reader with the kernel's ext4 driver on
// every feature set: the same names, and for each the same type, mode,
// owner, size, inode number, link count, times, link target and content.
func TestOracleMount(t *testing.T) {
	t.Parallel()
	for _, fset := range featureSets {
		t.Run(fset.name, func(t *testing.T) {
			t.Parallel()
			tree := standardTree(treeOptions{maxLink: fset.blockSize - 1, links: true})
			img := fixtures.MustExt4(t, tree, fset.opts)
			kernelAgrees(t, openFS(t, img), img)
		})
	}
}

// kernelAgrees loop-mounts img read-only without journal replay and
// compares every entry the kernel lists with fsys (see loopmount.Agree).
// It skips t if mounting is not permitted.
func kernelAgrees(t *testing.T, fsys *ext4.FS, img string) {
	t.Helper()
	dir, _ := loopmount.Mount(t, img, "ext4", "ro,noload")
	loopmount.Agree(t, fsys, dir, kernelStat)
}

// kernelStat is an ext4 file's Stat as the kernel oracle compares it.
func kernelStat(fi fs.FileInfo) loopmount.Stat {
	st := fi.Sys().(*ext4.Stat)
	return loopmount.Stat{Uid: st.Uid, Gid: st.Gid, Ino: st.Ino, Nlink: st.Nlink,
		Atime: st.Atime, Ctime: st.Ctime, Mtime: st.Mtime, Crtime: st.Crtime}
}
