package ext4_test

import (
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// Inode flags the layout checks look at.
const (
	flagExtents = 0x80000
	flagInline  = 0x10000000
)

// featureSets are the mkfs variants every reader path must handle.
var featureSets = []struct {
	name string
	opts fixtures.Ext4Options
	// blockSize bounds the symlinks of the tree.
	blockSize int
	wantType  string
	// layout maps paths to the extents and inline_data bits of i_flags
	// they must have, proving that the set exercises those paths.
	layout map[string]uint32
}{
	// Debian 12 / Ubuntu mke2fs defaults on a disk-sized filesystem
	// (64bit, metadata_csum, extents, flex_bg, huge_file, dir_index),
	// plus orphan_file as Ubuntu 24.04 makes it.
	{name: "default", opts: fixtures.Ext4Options{BlockSize: 4096, Features: "orphan_file"}, blockSize: 4096, wantType: "ext4",
		layout: map[string]uint32{"data/size-1300000": flagExtents, "data/size-59": flagExtents, "links/len-61": flagExtents, "links/len-59": 0}},
	{name: "no-journal", opts: fixtures.Ext4Options{BlockSize: 4096, Features: "^has_journal"}, blockSize: 4096, wantType: "ext4"},
	{name: "1k-blocks", opts: fixtures.Ext4Options{BlockSize: 1024}, blockSize: 1024, wantType: "ext4"},
	{name: "inode-128", opts: fixtures.Ext4Options{BlockSize: 4096, InodeSize: 128}, blockSize: 4096, wantType: "ext4"},
	{name: "32bit-no-csum", opts: fixtures.Ext4Options{BlockSize: 4096, Features: "^64bit,^metadata_csum"}, blockSize: 4096, wantType: "ext4"},
	{name: "meta-bg", opts: fixtures.Ext4Options{BlockSize: 1024, Features: "meta_bg,^resize_inode"}, blockSize: 1024, wantType: "ext4"},
	// Few inodes per group spread the tree over many groups, so inode
	// lookups use many group descriptors (two descriptor blocks under
	// meta_bg).
	{name: "many-groups", opts: fixtures.Ext4Options{BlockSize: 4096, Size: 1 << 30, Extra: []string{"-N", "400"}}, blockSize: 4096, wantType: "ext4"},
	{name: "meta-bg-many-groups", opts: fixtures.Ext4Options{BlockSize: 1024, Size: 300 << 20, Features: "meta_bg,^resize_inode", Extra: []string{"-N", "500"}}, blockSize: 1024, wantType: "ext4"},
	{name: "bigalloc", opts: fixtures.Ext4Options{BlockSize: 4096, Features: "bigalloc", Extra: []string{"-C", "16384"}}, blockSize: 4096, wantType: "ext4"},
	{name: "inline-data", opts: fixtures.Ext4Options{BlockSize: 4096, Features: "inline_data"}, blockSize: 4096, wantType: "ext4",
		layout: map[string]uint32{"data/size-59": flagInline, "data/size-100": flagInline, "deep/a": flagInline, "links/len-61": flagInline, "links/len-200": flagExtents, "data/size-4097": flagExtents, "many": flagExtents}},
	{name: "ext3", opts: fixtures.Ext4Options{Type: "ext3", BlockSize: 4096}, blockSize: 4096, wantType: "ext3",
		layout: map[string]uint32{"data/size-1300000": 0, "links/len-60": 0, "many": 0}},
	{name: "ext3-1k", opts: fixtures.Ext4Options{Type: "ext3", BlockSize: 1024, InodeSize: 128}, blockSize: 1024, wantType: "ext3"},
	{name: "ext2", opts: fixtures.Ext4Options{Type: "ext2", BlockSize: 4096}, blockSize: 4096, wantType: "ext2"},
}

// TestFeatureSets builds the standard tree with each mkfs variant and
// compares everything the reader reports with the declaration.
func TestFeatureSets(t *testing.T) {
	t.Parallel()
	for _, fset := range featureSets {
		t.Run(fset.name, func(t *testing.T) {
			t.Parallel()
			tree := standardTree(treeOptions{maxLink: fset.blockSize - 1, links: true})
			fsys := openFS(t, fixtures.MustExt4(t, tree, fset.opts))
			if got := fsys.Super().Type; got != fset.wantType {
				t.Errorf("Type = %q, want %q", got, fset.wantType)
			}
			if got := fsys.Super().BlockSize; got != int64(fset.blockSize) {
				t.Errorf("BlockSize = %d, want %d", got, fset.blockSize)
			}
			checkTree(t, fsys, tree)
			for p, want := range fset.layout {
				fi, err := fsys.Lstat(p)
				if err != nil {
					t.Errorf("Lstat(%q): %v", p, err)
					continue
				}
				if got := fi.Sys().(*ext4.Stat).Flags & (flagExtents | flagInline); got != want {
					t.Errorf("%s: flags %#x, want %#x", p, got, want)
				}
			}
		})
	}
}
