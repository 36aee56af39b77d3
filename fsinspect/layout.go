package fsinspect

import (
	"fmt"
	"time"

	"github.com/imgcheck/imgcheck/image"
)

// Layout describes how OpenImage assembled the guest: the partition
// table, what each partition holds, which filesystem is the root, and what
// /etc/fstab attached where.
type Layout struct {
	Table *image.Table
	// Filesystems has one entry per partition, in table order, then one
	// per visible LVM2 logical volume.
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
	// VolumeGroups are the LVM2 volume groups whose PVs are partitions
	// (or the whole disk) of the image.
	VolumeGroups []*image.VolumeGroup
	// Notes say what was odd but did not stop the guest from opening.
	Notes []string
}

// FSInfo is what one partition or logical volume holds.
type FSInfo struct {
	Partition    int    // partition number (image.Partition.Index); 0 for an LV
	LV           string // "vg/lv" for an LVM2 logical volume
	Offset, Size int64  // partition bytes on the disk; 0 and the LV's size for an LV
	// Type is the filesystem or volume type as blkid names it ("ext4",
	// "xfs", "LVM2_member", "swap", "vfat"), or "" when unknown.
	Type        string
	UUID, Label string
	Root        bool
	MountPoint  string // guest mount point ("/", "/var"), "" if unmounted
	// Facts are what the filesystem says about itself; nil unless it was
	// opened.
	Facts *FSFacts
	Err   string // why a filesystem of a type OpenImage reads could not be opened
}

// FSFacts are what an opened filesystem says about itself, in terms every
// filesystem type shares.
type FSFacts struct {
	Type        string // "ext4", as blkid names it
	UUID, Label string
	// Size is the filesystem's size in bytes; Free its free bytes, those
	// reserved for root included; Reserved the bytes reserved for root.
	Size, Free, Reserved int64
	// Clean is set when the filesystem was cleanly unmounted.
	Clean bool
	// NeedsRecovery is set when the journal (XFS: the log) holds
	// transactions that were never replayed; reads see the filesystem
	// without them.
	NeedsRecovery bool
	// StateUnknown is set when the reader cannot tell whether the
	// filesystem was cleanly unmounted (an external XFS log); Clean and
	// NeedsRecovery are then false.
	StateUnknown bool
	// ErrorsDetected is set when the filesystem recorded errors.
	ErrorsDetected bool
	LastWrite      time.Time // zero when not recorded
	// Detail is the type's own state fields, as evidence ("state",
	// "0x0001").
	Detail []Detail
}

// Detail is one state field of a filesystem, named and formatted as its
// type writes it.
type Detail struct{ Key, Value string }

// MountInfo is one filesystem attached below the root.
type MountInfo struct {
	Point string // guest mount point, "/var"
	Spec  string // fstab source, or "/etc/fstab" when fstab itself failed
	// FS is the index in Layout.Filesystems of what is mounted, -1 for a
	// faulting mount.
	FS  int
	Err string // why reads below Point fail, for a faulting mount
}

// describe says what a partition holds, for the "no root" error.
func (fi FSInfo) describe() string {
	what := fi.Type + ", not supported"
	switch {
	case fi.Err != "":
		what = fi.Err
	case lookupType(fi.Type) != nil:
		what = fi.Type + ", no os-release"
	case fi.Type == "LVM2_member":
		what = "LVM2 PV"
	case fi.Type == "crypto_LUKS":
		what = "LUKS-encrypted, not read"
	case fi.Type == "":
		what = "no filesystem recognised"
	}
	return fmt.Sprintf("%s: %s", fi.Name(), what)
}

// Name is "partition 3", or "LV vg/lv" for a logical volume.
func (fi FSInfo) Name() string {
	if fi.LV != "" {
		return "LV " + fi.LV
	}
	return fmt.Sprintf("partition %d", fi.Partition)
}
