package image

import (
	"bytes"
	"encoding/binary"
	"io"
)

// ext2/3/4 feature bits (the superblock's s_feature_* fields) that an ext3
// driver lacks: any of them makes the filesystem ext4.
const (
	extCompatHasJournal   = 0x0004
	ext3IncompatSupported = 0x0002 | 0x0004 | 0x0010 // filetype, recover, meta_bg
	ext3ROCompatSupported = 0x0001 | 0x0002 | 0x0004 // sparse_super, large_file, btree_dir
	extIncompatJournalDev = 0x0008
)

// Sniff names the filesystem or volume at the start of r, a partition or
// disk of size bytes, as blkid would: "ext2", "ext3", "ext4", "xfs",
// "btrfs", "swap", "LVM2_member", "crypto_LUKS", "vfat", "iso9660", or ""
// when it recognises nothing (or cannot read).
func Sniff(r io.ReaderAt, size int64) string {
	at := func(off int64, n int) []byte {
		b, err := readBlock(r, size, off, int64(n), "sniff", "probe")
		if err != nil {
			return nil
		}
		return b
	}
	is := func(off int64, magic string) bool {
		return bytes.Equal(at(off, len(magic)), []byte(magic))
	}
	switch {
	case is(0, "LUKS\xba\xbe"):
		return "crypto_LUKS"
	case is(0, "XFSB"):
		return "xfs"
	case is(0x10040, "_BHRfS_M"):
		return "btrfs"
	}
	for i := int64(0); i < 4; i++ {
		if is(i*512, "LABELONE") && is(i*512+24, "LVM2 001") {
			return "LVM2_member"
		}
	}
	if sb := at(1024, 1024); sb != nil && extSane(sb) {
		return extKind(sb)
	}
	for _, page := range []int64{4096, 8192, 16384, 65536} {
		if is(page-10, "SWAPSPACE2") || is(page-10, "SWAP-SPACE") {
			return "swap"
		}
	}
	if is(0x8001, "CD001") {
		return "iso9660"
	}
	if b := at(0, 512); b != nil && b[510] == 0x55 && b[511] == 0xaa && (b[0] == 0xeb || b[0] == 0xe9) &&
		(bytes.HasPrefix(b[54:], []byte("FAT")) || bytes.HasPrefix(b[82:], []byte("FAT32"))) {
		return "vfat"
	}
	return ""
}

// extSane checks the ext superblock magic and the fields that must be
// sane in any ext2/3/4 superblock: inode and block counts, a block size
// of 1 to 64 KiB, and non-zero group sizes.
func extSane(sb []byte) bool {
	le32 := func(off int) uint32 { return binary.LittleEndian.Uint32(sb[off:]) }
	return binary.LittleEndian.Uint16(sb[56:]) == 0xef53 &&
		le32(0) > 0 && le32(4) > 0 && le32(24) <= 6 && le32(32) > 0 && le32(40) > 0
}

// extKind tells ext2, ext3 and ext4 apart from the superblock's feature
// flags, as libblkid does.
func extKind(sb []byte) string {
	compat := binary.LittleEndian.Uint32(sb[92:])
	incompat := binary.LittleEndian.Uint32(sb[96:])
	roCompat := binary.LittleEndian.Uint32(sb[100:])
	switch {
	case incompat&extIncompatJournalDev != 0:
		return "jbd"
	case incompat&^ext3IncompatSupported != 0 || roCompat&^ext3ROCompatSupported != 0:
		return "ext4"
	case compat&extCompatHasJournal != 0:
		return "ext3"
	}
	return "ext2"
}
