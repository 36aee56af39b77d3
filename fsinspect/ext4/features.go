package ext4

// Feature flags of the superblock (s_feature_compat, s_feature_incompat,
// s_feature_ro_compat) that this reader looks at.
const (
	compatHasJournal = 0x4
	compatDirIndex   = 0x20

	incompatCompression = 0x1
	incompatFiletype    = 0x2
	incompatRecover     = 0x4
	incompatJournalDev  = 0x8
	incompatMetaBG      = 0x10
	incompatExtents     = 0x40
	incompat64Bit       = 0x80
	incompatMMP         = 0x100
	incompatFlexBG      = 0x200
	incompatEAInode     = 0x400
	incompatDirData     = 0x1000
	incompatCsumSeed    = 0x2000
	incompatLargeDir    = 0x4000
	incompatInlineData  = 0x8000
	incompatEncrypt     = 0x10000
	incompatCasefold    = 0x20000

	roCompatSparseSuper  = 0x1
	roCompatLargeFile    = 0x2
	roCompatBtreeDir     = 0x4
	roCompatHugeFile     = 0x8
	roCompatGdtCsum      = 0x10
	roCompatMetadataCsum = 0x400
	roCompatBigalloc     = 0x200
	// roCompatKnown are the read-only-compatible features defined up to
	// orphan_present (0x10000); none changes how data is read.
	roCompatKnown = 0x1ffff

	compatSparseSuper2 = 0x200
)

// incompatRead are the incompatible features this reader interprets (or,
// for encrypt and casefold, detects per inode). Any other incompatible
// bit makes New fail with ErrUnsupported.
const incompatRead = incompatFiletype | incompatRecover | incompatMetaBG | incompatExtents |
	incompat64Bit | incompatMMP | incompatFlexBG | incompatEAInode | incompatCsumSeed |
	incompatLargeDir | incompatInlineData | incompatEncrypt | incompatCasefold

// incompatNames names incompatible features for error messages.
var incompatNames = map[uint32]string{
	incompatCompression: "compression",
	incompatJournalDev:  "journal_dev",
	incompatDirData:     "dirdata",
}

// Inode flags (i_flags).
const (
	flagEncrypt    = 0x800
	flagIndex      = 0x1000
	flagHugeFile   = 0x40000
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
	flagCasefold   = 0x40000000
)

// superFlagUnsignedHash is the s_flags bit saying directory hashes treat
// name bytes as unsigned chars.
const superFlagUnsignedHash = 0x2
