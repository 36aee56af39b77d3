package fsinspect

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/fsinspect/fat"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
	"github.com/imgcheck/imgcheck/image"
)

// fsType is one filesystem type OpenImage reads. Adding a filesystem is
// its reader package plus one entry in fsTypes.
type fsType struct {
	// names are the types, as blkid names them, that this entry opens.
	names []string
	// sniff names the filesystem at the start of a partition, "" if it is
	// not this type; nil when image.Sniff already names it.
	sniff func(r io.ReaderAt, size int64) string
	// open reads the filesystem in r (size bytes) and says what it is.
	open func(r io.ReaderAt, size int64, s settings) (Backend, *FSFacts, error)
	// stat converts the reader's own FileInfo.Sys value to a *Stat; ok is
	// false for any other value.
	stat func(sys any) (st *Stat, ok bool)
	// faults are the reader's errors that mean corrupt or unsupported
	// data, which IsFact must never take for guest facts.
	faults []error
}

// fsTypes are the filesystems OpenImage reads.
var fsTypes = []fsType{
	{names: []string{"ext2", "ext3", "ext4"}, open: openExt, stat: extStat,
		faults: []error{ext4.ErrCorrupt, ext4.ErrUnsupported}},
	{names: []string{"xfs"}, open: openXFS, stat: xfsStat,
		faults: []error{xfs.ErrCorrupt, xfs.ErrUnsupported}},
	// FAT is read so that fstab's /boot/efi (LABEL=UEFI, UUID=ABCD-1234)
	// attaches the EFI System Partition.
	{names: []string{"vfat"}, open: openFAT, stat: fatStat,
		faults: []error{fat.ErrCorrupt}},
}

// lookupType returns the entry that opens the filesystem type name, or nil.
func lookupType(name string) *fsType {
	for i := range fsTypes {
		if slices.Contains(fsTypes[i].names, name) {
			return &fsTypes[i]
		}
	}
	return nil
}

// sniff names what a partition of size bytes holds: a type one of
// fsTypes sniffs, else what image.Sniff recognises, else "".
func sniff(r io.ReaderAt, size int64) string {
	for _, t := range fsTypes {
		if t.sniff == nil {
			continue
		}
		if name := t.sniff(r, size); name != "" {
			return name
		}
	}
	return image.Sniff(r, size)
}

// openExt opens an ext2/3/4 filesystem.
func openExt(r io.ReaderAt, size int64, s settings) (Backend, *FSFacts, error) {
	fsys, err := ext4.New(r, size, ext4.WithMaxDirEntries(s.dirEntries))
	if err != nil {
		return nil, nil, err
	}
	sb := fsys.Super()
	return fsys, &FSFacts{
		Type: sb.Type, UUID: sb.UUID, Label: sb.Label,
		Size:           int64(sb.Blocks) * sb.BlockSize,
		Free:           int64(sb.FreeBlocks) * sb.BlockSize,
		Reserved:       int64(sb.ReservedBlocks) * sb.BlockSize,
		Clean:          sb.State&extStateValid != 0,
		NeedsRecovery:  sb.NeedsRecovery,
		ErrorsDetected: sb.State&extStateErrors != 0,
		LastWrite:      sb.LastWrite,
		Detail: []Detail{
			{"state", fmt.Sprintf("0x%04x", sb.State)},
			{"incompat", fmt.Sprintf("0x%08x", sb.FeatureIncompat)},
		},
	}, nil
}

// s_state bits of an ext superblock.
const (
	extStateValid  = 0x1 // cleanly unmounted
	extStateErrors = 0x2 // errors detected
)

// extStat converts the ext4 reader's Stat.
func extStat(sys any) (*Stat, bool) {
	s, ok := sys.(*ext4.Stat)
	if !ok {
		return nil, false
	}
	return &Stat{Uid: s.Uid, Gid: s.Gid, Ino: s.Ino, Nlink: s.Nlink, Atime: s.Atime, Ctime: s.Ctime, Mtime: s.Mtime, Btime: s.Crtime}, true
}

// openXFS opens an XFS filesystem. XFS records no last-write time, no
// error state and no blocks reserved for root; when the reader cannot
// decode the log (an external one) the state is unknown.
func openXFS(r io.ReaderAt, size int64, s settings) (Backend, *FSFacts, error) {
	fsys, err := xfs.New(r, size, xfs.WithMaxDirEntries(s.dirEntries))
	if err != nil {
		return nil, nil, err
	}
	sb := fsys.Super()
	return fsys, &FSFacts{
		Type: "xfs", UUID: sb.UUID, Label: sb.Label,
		Size:          int64(sb.Blocks) * sb.BlockSize,
		Free:          int64(sb.FreeBlocks) * sb.BlockSize,
		Clean:         sb.Log == xfs.LogClean,
		NeedsRecovery: sb.Log == xfs.LogDirty,
		StateUnknown:  sb.Log == xfs.LogUnknown,
		Detail: []Detail{
			{"log", sb.Log.String()},
			{"version", fmt.Sprint(sb.Version)},
			{"features", strings.Join(sb.Features, ",")},
			{"incompat", fmt.Sprintf("0x%08x", sb.Incompat)},
		},
	}, nil
}

// xfsStat converts the xfs reader's Stat.
func xfsStat(sys any) (*Stat, bool) {
	s, ok := sys.(*xfs.Stat)
	if !ok {
		return nil, false
	}
	return &Stat{Uid: s.Uid, Gid: s.Gid, Ino: s.Ino, Nlink: s.Nlink, Atime: s.Atime, Ctime: s.Ctime, Mtime: s.Mtime, Btime: s.Crtime}, true
}
