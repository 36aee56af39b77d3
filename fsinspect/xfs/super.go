package xfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// superMagic is sb_magicnum, "XFSB".
const superMagic = 0x58465342

// superSize is how much of the primary superblock, at byte 0, is read:
// the v5 fields end at byte 264, and the smallest sector holds 512.
const superSize = 512

// sb_versionnum bits.
const (
	versionNumMask  = 0x000f
	versionMoreBits = 0x8000 // sb_features2 is valid
	versionDirV2    = 0x2000
	versionLogV2    = 0x0400 // the log has version 2 records (stripe unit)
	versionASCIICI  = 0x4000 // names compare ASCII case-insensitively
)

// sb_features2 bits used by the reader.
const features2Ftype = 0x0200 // v4: directory entries record the file type

// sb_features_incompat bits (v5).
const (
	incompatFtype       = 0x01
	incompatSpinodes    = 0x02
	incompatMetaUUID    = 0x04
	incompatBigtime     = 0x08
	incompatNeedsRepair = 0x10
	incompatNrext64     = 0x20
	incompatExchrange   = 0x40
	incompatParent      = 0x80
)

// incompatNames names the incompatible features this reader knows; any
// other bit makes New fail with ErrUnsupported.
var incompatNames = []struct {
	bit  uint32
	name string
}{
	{incompatFtype, "ftype"},
	{incompatSpinodes, "sparse"},
	{incompatMetaUUID, "meta_uuid"},
	{incompatBigtime, "bigtime"},
	{incompatNrext64, "nrext64"},
	{incompatExchrange, "exchange"},
	{incompatParent, "parent"},
}

// roCompatNames names the read-only compatible features: they concern
// allocation btrees, which a reader ignores.
var roCompatNames = []struct {
	bit  uint32
	name string
}{{0x1, "finobt"}, {0x2, "rmapbt"}, {0x4, "reflink"}, {0x8, "inobtcount"}}

// Superblock is the decoded summary of an XFS primary superblock.
type Superblock struct {
	UUID, Label string
	// Version is 4 or 5 (5 has metadata checksums, "crc").
	Version int
	// BlockSize is the filesystem block size in bytes; Blocks the data
	// section's size and FreeBlocks its free blocks (sb_fdblocks), in
	// blocks. Both counts are as of the last clean unmount when lazy
	// counters are on.
	BlockSize          int64
	Blocks, FreeBlocks uint64
	// Features names the features that change the on-disk format, in a
	// fixed order ("crc", "ftype", "sparse", "bigtime", "nrext64", ...).
	Features []string
	// VersionNum, Features2, ROCompat, Incompat and LogIncompat are the
	// raw feature fields.
	VersionNum                                 uint16
	Features2, ROCompat, Incompat, LogIncompat uint32
	// Log is the state of the internal log: LogClean, LogDirty or
	// LogUnknown (an external log, or a log this reader cannot decode).
	Log LogState
}

// geometry is what the reader needs from the superblock, validated.
type geometry struct {
	blockSize  int64
	blockLog   uint
	blocks     uint64 // sb_dblocks
	agBlocks   uint64
	agCount    uint64
	agBlockLog uint
	inodeSize  int64
	inoPerLog  uint // log2 of inodes per block
	rootIno    uint64
	dirBlkLog  uint // log2 of filesystem blocks per directory block
	asciiCI    bool // names compare ASCII case-insensitively
	v5         bool
	ftype      bool
	bigtime    bool
	nrext64    bool
	logStart   uint64 // fsblock of the internal log; 0 for an external log
	logBlocks  uint64
	// logRoundoff is the unit, in bytes, to which the kernel pads a log
	// record: the log stripe unit or the log sector, at least 512.
	logRoundoff int64
	// sbLSN is the log sequence number of the last superblock write
	// (v5; 0 on v4): cycle in the high 32 bits, log block in the low.
	sbLSN uint64
}

// parseSuper decodes and validates the superblock b against a device of
// size bytes.
func parseSuper(b []byte, size int64) (Superblock, geometry, error) {
	be := binary.BigEndian
	var s Superblock
	var g geometry
	if be.Uint32(b) != superMagic {
		return s, g, corruptf("superblock: bad magic 0x%08x", be.Uint32(b))
	}
	s.VersionNum = be.Uint16(b[100:])
	s.Version = int(s.VersionNum & versionNumMask)
	if s.Version != 4 && s.Version != 5 {
		return s, g, unsupportedf("superblock: version %d", s.Version)
	}
	if s.Version == 4 && s.VersionNum&versionDirV2 == 0 {
		return s, g, unsupportedf("superblock: version 1 directories")
	}
	if b[126] != 0 {
		return s, g, corruptf("superblock: mkfs did not finish (sb_inprogress)")
	}
	if s.VersionNum&versionMoreBits != 0 {
		s.Features2 = be.Uint32(b[200:])
	}
	blockSize := be.Uint32(b[4:])
	blockLog := uint(b[120])
	if blockLog < 9 || blockLog > 16 || blockSize != 1<<blockLog {
		return s, g, corruptf("superblock: block size %d (log %d)", blockSize, blockLog)
	}
	sectSize, sectLog := be.Uint16(b[102:]), uint(b[121])
	if sectLog < 9 || sectLog > 15 || uint32(sectSize) != 1<<sectLog || uint32(sectSize) > blockSize {
		return s, g, corruptf("superblock: sector size %d (log %d)", sectSize, sectLog)
	}
	inodeSize, inodeLog := be.Uint16(b[104:]), uint(b[122])
	if inodeLog < 8 || inodeLog > 11 || uint32(inodeSize) != 1<<inodeLog || uint32(inodeSize) > blockSize {
		return s, g, corruptf("superblock: inode size %d (log %d)", inodeSize, inodeLog)
	}
	inoPerBlock, inoPerLog := be.Uint16(b[106:]), uint(b[123])
	if inoPerLog != blockLog-inodeLog || uint32(inoPerBlock) != blockSize/uint32(inodeSize) {
		return s, g, corruptf("superblock: %d inodes per block (log %d) with %d-byte blocks and %d-byte inodes", inoPerBlock, inoPerLog, blockSize, inodeSize)
	}
	agBlocks, agCount, agBlockLog := uint64(be.Uint32(b[84:])), uint64(be.Uint32(b[88:])), uint(b[124])
	if agBlocks < 64 || agCount == 0 || agBlockLog != uint(bits.Len64(agBlocks-1)) {
		return s, g, corruptf("superblock: %d allocation groups of %d blocks (log %d)", agCount, agBlocks, agBlockLog)
	}
	if agBlockLog+inoPerLog > 32 {
		return s, g, corruptf("superblock: allocation group inode numbers need %d bits", agBlockLog+inoPerLog)
	}
	g = geometry{
		blockSize: int64(blockSize), blockLog: blockLog,
		blocks:   be.Uint64(b[8:]),
		agBlocks: agBlocks, agCount: agCount, agBlockLog: agBlockLog,
		inodeSize: int64(inodeSize), inoPerLog: inoPerLog,
		rootIno:     be.Uint64(b[56:]),
		dirBlkLog:   uint(b[192]),
		asciiCI:     s.VersionNum&versionASCIICI != 0,
		v5:          s.Version == 5,
		logStart:    be.Uint64(b[48:]),
		logBlocks:   uint64(be.Uint32(b[96:])),
		logRoundoff: max(512, int64(be.Uint16(b[194:]))),
	}
	if sunit := int64(be.Uint32(b[196:])); sunit > 1 && s.VersionNum&versionLogV2 != 0 {
		g.logRoundoff = max(g.logRoundoff, sunit)
	}
	if g.blocks <= (agCount-1)*agBlocks || g.blocks > agCount*agBlocks {
		return s, g, corruptf("superblock: %d blocks in %d allocation groups of %d", g.blocks, agCount, agBlocks)
	}
	if g.blocks > uint64(size)/uint64(blockSize) {
		return s, g, corruptf("superblock: %d blocks of %d bytes, device has only %d bytes (truncated image?)", g.blocks, blockSize, size)
	}
	if blockLog+g.dirBlkLog > 16 {
		return s, g, corruptf("superblock: directory block of 2^%d bytes", blockLog+g.dirBlkLog)
	}
	if be.Uint64(b[16:]) != 0 {
		return s, g, unsupportedf("superblock: realtime section of %d blocks", be.Uint64(b[16:]))
	}
	if g.v5 {
		s.ROCompat = be.Uint32(b[212:])
		s.Incompat = be.Uint32(b[216:])
		s.LogIncompat = be.Uint32(b[220:])
		g.ftype = s.Incompat&incompatFtype != 0
		g.bigtime = s.Incompat&incompatBigtime != 0
		g.nrext64 = s.Incompat&incompatNrext64 != 0
		g.sbLSN = be.Uint64(b[240:])
		if s.Incompat&incompatNeedsRepair != 0 {
			return s, g, unsupportedf("superblock: the filesystem is marked as needing xfs_repair")
		}
		known := uint32(0)
		for _, f := range incompatNames {
			known |= f.bit
		}
		if unknown := s.Incompat &^ known; unknown != 0 {
			return s, g, unsupportedf("superblock: unknown incompatible features 0x%x", unknown)
		}
	} else {
		g.ftype = s.Features2&features2Ftype != 0
	}
	s.UUID = formatUUID(b[32:48])
	s.Label = string(bytes.TrimRight(b[108:120], "\x00"))
	s.BlockSize = g.blockSize
	s.Blocks = g.blocks
	s.FreeBlocks = be.Uint64(b[144:])
	s.Features = featureNames(s, g)
	return s, g, nil
}

// featureNames lists the format-changing features of s.
func featureNames(s Superblock, g geometry) []string {
	var names []string
	if g.v5 {
		names = append(names, "crc")
	}
	if g.ftype {
		names = append(names, "ftype")
	}
	if g.asciiCI {
		names = append(names, "ascii-ci")
	}
	for _, f := range incompatNames[1:] {
		if s.Incompat&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	for _, f := range roCompatNames {
		if s.ROCompat&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return names
}

// formatUUID formats 16 bytes as a UUID string.
func formatUUID(u []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
