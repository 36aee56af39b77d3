package ext4

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
)

// superMagic is s_magic, at byte 0x38 of the superblock.
const superMagic = 0xEF53

// superOffset and superSize locate the primary superblock.
const (
	superOffset = 1024
	superSize   = 1024
)

// Superblock is the decoded summary of an ext2/3/4 superblock.
type Superblock struct {
	Blocks, FreeBlocks, ReservedBlocks uint64
	BlockSize                          int64
	InodesCount, FreeInodes            uint32
	// State is s_state, a bit mask: 1 cleanly unmounted, 2 errors
	// detected, 4 orphans being recovered.
	State                                           uint16
	FeatureCompat, FeatureIncompat, FeatureRoCompat uint32
	UUID                                            string
	Label                                           string
	// LastMount and LastWrite are zero when the superblock says 0.
	LastMount, LastWrite time.Time
	// Type is "ext2", "ext3" or "ext4", decided from the features the
	// way blkid does.
	Type string
	// NeedsRecovery is set when the journal holds transactions that were
	// never replayed; reads see the filesystem without them.
	NeedsRecovery bool
	// Unsupported names features present on this filesystem whose data
	// this reader refuses rather than misreads ("encrypt", "casefold",
	// unknown read-only features as "ro_compat:0x...").
	Unsupported []string
}

// geometry is what the reader needs from the superblock, validated.
type geometry struct {
	blockSize      int64
	blocks         uint64
	firstDataBlock uint64
	blocksPerGroup uint64
	inodesPerGroup uint32
	inodesCount    uint32
	inodeSize      int64
	descSize       int64
	groups         uint64
	firstMetaBG    uint64
	backupBGs      [2]uint32
	clusterBlocks  uint64 // blocks per cluster (1 without bigalloc)
	compat         uint32
	incompat       uint32
	roCompat       uint32
	hashSeed       [4]uint32 // s_hash_seed, for htree lookups
	hashUnsigned   bool      // s_flags says directory hashes use unsigned chars
}

// parseSuper decodes and validates the 1024-byte superblock b against a
// device of size bytes.
func parseSuper(b []byte, size int64) (Superblock, geometry, error) {
	le := binary.LittleEndian
	var g geometry
	var s Superblock
	if m := le.Uint16(b[0x38:]); m != superMagic {
		return s, g, corruptf("superblock: bad magic 0x%04x", m)
	}
	g.compat = le.Uint32(b[0x5C:])
	g.incompat = le.Uint32(b[0x60:])
	g.roCompat = le.Uint32(b[0x64:])
	if bad := g.incompat &^ incompatRead; bad != 0 {
		name := incompatNames[bad&-bad]
		if name == "" {
			name = fmt.Sprintf("incompat:0x%x", bad)
		}
		return s, g, unsupportedf("superblock: feature %s", name)
	}
	logBlock := le.Uint32(b[0x18:])
	if logBlock > 6 {
		return s, g, corruptf("superblock: block size 2^(10+%d)", logBlock)
	}
	g.blockSize = 1024 << logBlock
	g.blocks = uint64(le.Uint32(b[0x4:]))
	reserved := uint64(le.Uint32(b[0x8:]))
	free := uint64(le.Uint32(b[0xC:]))
	if g.incompat&incompat64Bit != 0 {
		g.blocks |= uint64(le.Uint32(b[0x150:])) << 32
		reserved |= uint64(le.Uint32(b[0x154:])) << 32
		free |= uint64(le.Uint32(b[0x158:])) << 32
	}
	g.firstDataBlock = uint64(le.Uint32(b[0x14:]))
	if g.blocks <= g.firstDataBlock || g.firstDataBlock > 1 {
		return s, g, corruptf("superblock: %d blocks, first data block %d", g.blocks, g.firstDataBlock)
	}
	if g.blocks > uint64(size)/uint64(g.blockSize) {
		return s, g, corruptf("superblock: %d blocks of %d bytes, device has only %d bytes (truncated image?)", g.blocks, g.blockSize, size)
	}
	g.clusterBlocks = 1
	g.blocksPerGroup = uint64(le.Uint32(b[0x20:]))
	if g.roCompat&roCompatBigalloc != 0 {
		logCluster := le.Uint32(b[0x1C:])
		if logCluster < logBlock || logCluster-logBlock > 16 {
			return s, g, corruptf("superblock: cluster size 2^(10+%d) with block size 2^(10+%d)", logCluster, logBlock)
		}
		g.clusterBlocks = 1 << (logCluster - logBlock)
		cpg := uint64(le.Uint32(b[0x24:]))
		if cpg == 0 || cpg > 8*uint64(g.blockSize) || g.blocksPerGroup != cpg*g.clusterBlocks {
			return s, g, corruptf("superblock: %d clusters and %d blocks per group", cpg, g.blocksPerGroup)
		}
	} else if g.blocksPerGroup == 0 || g.blocksPerGroup > 8*uint64(g.blockSize) {
		return s, g, corruptf("superblock: %d blocks per group", g.blocksPerGroup)
	}
	g.groups = (g.blocks - g.firstDataBlock + g.blocksPerGroup - 1) / g.blocksPerGroup
	g.inodesPerGroup = le.Uint32(b[0x28:])
	g.inodesCount = le.Uint32(b[0x0:])
	if g.inodesPerGroup == 0 || uint64(g.inodesPerGroup) > 8*uint64(g.blockSize) ||
		g.groups*uint64(g.inodesPerGroup) != uint64(g.inodesCount) {
		return s, g, corruptf("superblock: %d inodes, %d per group, %d groups", g.inodesCount, g.inodesPerGroup, g.groups)
	}
	g.inodeSize = 128
	if le.Uint32(b[0x4C:]) > 0 { // dynamic revision
		g.inodeSize = int64(le.Uint16(b[0x58:]))
	}
	if g.inodeSize < 128 || g.inodeSize > g.blockSize || bits.OnesCount64(uint64(g.inodeSize)) != 1 {
		return s, g, corruptf("superblock: inode size %d", g.inodeSize)
	}
	g.descSize = 32
	if g.incompat&incompat64Bit != 0 {
		g.descSize = int64(le.Uint16(b[0xFE:]))
		if g.descSize < 64 || g.descSize > 1024 || g.descSize > g.blockSize || bits.OnesCount64(uint64(g.descSize)) != 1 {
			return s, g, corruptf("superblock: group descriptor size %d", g.descSize)
		}
	}
	g.firstMetaBG = uint64(le.Uint32(b[0x104:]))
	g.backupBGs = [2]uint32{le.Uint32(b[0x24C:]), le.Uint32(b[0x250:])}
	for i := range g.hashSeed {
		g.hashSeed[i] = le.Uint32(b[0xEC+4*i:])
	}
	g.hashUnsigned = le.Uint32(b[0x160:])&superFlagUnsignedHash != 0

	s = Superblock{
		Blocks:          g.blocks,
		FreeBlocks:      free,
		ReservedBlocks:  reserved,
		BlockSize:       g.blockSize,
		InodesCount:     g.inodesCount,
		FreeInodes:      le.Uint32(b[0x10:]),
		State:           le.Uint16(b[0x3A:]),
		FeatureCompat:   g.compat,
		FeatureIncompat: g.incompat,
		FeatureRoCompat: g.roCompat,
		UUID:            formatUUID(b[0x68:0x78]),
		Label:           cString(b[0x78:0x88]),
		LastMount:       superTime(le.Uint32(b[0x2C:]), b[0x275]),
		LastWrite:       superTime(le.Uint32(b[0x30:]), b[0x274]),
		Type:            fsType(g.compat, g.incompat, g.roCompat),
		NeedsRecovery:   g.incompat&incompatRecover != 0,
	}
	if g.incompat&incompatEncrypt != 0 {
		s.Unsupported = append(s.Unsupported, "encrypt")
	}
	if g.incompat&incompatCasefold != 0 {
		s.Unsupported = append(s.Unsupported, "casefold")
	}
	if bad := g.roCompat &^ roCompatKnown; bad != 0 {
		s.Unsupported = append(s.Unsupported, fmt.Sprintf("ro_compat:0x%x", bad))
	}
	return s, g, nil
}

// fsType names the filesystem as blkid does: ext4 if it uses anything
// beyond ext3's features, else ext3 if it has a journal, else ext2.
func fsType(compat, incompat, roCompat uint32) string {
	const ext3Incompat = incompatFiletype | incompatRecover | incompatMetaBG
	const ext3RoCompat = roCompatSparseSuper | roCompatLargeFile | roCompatBtreeDir
	switch {
	case incompat&^ext3Incompat != 0 || roCompat&^ext3RoCompat != 0:
		return "ext4"
	case compat&compatHasJournal != 0:
		return "ext3"
	}
	return "ext2"
}

// superTime decodes a superblock time with its high byte; 0 is no time.
func superTime(lo uint32, hi byte) time.Time {
	if lo == 0 && hi == 0 {
		return time.Time{}
	}
	return time.Unix(int64(lo)|int64(hi)<<32, 0).UTC()
}

// formatUUID formats 16 bytes as 8-4-4-4-12 lowercase hex.
func formatUUID(u []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// hasSuper reports whether block group g holds a superblock backup (and
// so, under meta_bg, a descriptor block after it), like ext4_bg_has_super.
func (g *geometry) hasSuper(group uint64) bool {
	switch {
	case group == 0:
		return true
	case g.compat&compatSparseSuper2 != 0:
		return group == uint64(g.backupBGs[0]) || group == uint64(g.backupBGs[1])
	case group <= 1 || g.roCompat&roCompatSparseSuper == 0:
		return true
	case group&1 == 0:
		return false
	}
	return isPower(group, 3) || isPower(group, 5) || isPower(group, 7)
}

// isPower reports whether n is a power of base.
func isPower(n, base uint64) bool {
	p := base
	for p < n {
		p *= base
	}
	return p == n
}

// descBlock returns the block that holds group descriptor block nr.
func (g *geometry) descBlock(nr uint64) uint64 {
	if g.incompat&incompatMetaBG == 0 || nr < g.firstMetaBG {
		return g.firstDataBlock + 1 + nr
	}
	group := nr * uint64(g.blockSize/g.descSize)
	b := g.firstDataBlock + group*g.blocksPerGroup
	if g.hasSuper(group) {
		b++
	}
	if g.blockSize == 1024 && nr == 0 && g.firstDataBlock == 0 {
		b++
	}
	return b
}
