package fsinspect

import (
	"fmt"

	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/image"
)

// Layout describes how OpenImage assembled the guest: the partition
// table, what each partition holds, which filesystem is the root, and what
// /etc/fstab attached where.
type Layout struct {
	Table *image.Table
	// Filesystems has one entry per partition, in table order.
	Filesystems []FSInfo
	// Root is the index in Filesystems of the root filesystem, -1 if none.
	Root  int
	Fstab []FstabEntry
	// Mounts lists what OpenImage attached besides the root, in order,
	// faulting mounts included.
	Mounts []MountInfo
	// TmpIsTmpfs is set when /tmp is a tmpfs at runtime (fstab, or
	// tmp.mount enabled), which hides the on-disk /tmp.
	TmpIsTmpfs bool
	// Notes say what was odd but did not stop the guest from opening.
	Notes []string
}

// FSInfo is what one partition holds.
type FSInfo struct {
	Partition    int   // partition number (image.Partition.Index)
	Offset, Size int64 // partition bytes on the disk
	// Type is the filesystem or volume type as blkid names it ("ext4",
	// "xfs", "LVM2_member", "swap", "vfat"), or "" when unknown.
	Type        string
	UUID, Label string
	Root        bool
	MountPoint  string // guest mount point ("/", "/var"), "" if unmounted
	Super       *ext4.Superblock
	Err         string // why an ext filesystem could not be opened
}

// MountInfo is one filesystem attached below the root.
type MountInfo struct {
	Point string // guest mount point, "/var"
	Spec  string // fstab source, or "/etc/fstab" when fstab itself failed
	// FS is the index in Layout.Filesystems of what is mounted, -1 for a
	// faulting mount.
	FS  int
	Err string // why reads below Point fail, for a faulting mount
}

// isExt reports whether Sniff's type is one the ext4 reader opens.
func isExt(typ string) bool {
	return typ == "ext2" || typ == "ext3" || typ == "ext4"
}

// describe says what a partition holds, for the "no root" error.
func (fi FSInfo) describe() string {
	what := fi.Type + ", not supported"
	switch {
	case fi.Err != "":
		what = fi.Err
	case isExt(fi.Type):
		what = fi.Type + ", no os-release"
	case fi.Type == "":
		what = "no filesystem recognised"
	}
	return fmt.Sprintf("partition %d: %s", fi.Partition, what)
}
