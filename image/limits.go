package image

// Limits bound the work of reading one image's containers and partition
// table. Going over a structural limit is an error (or, for an EBR chain,
// a Note saying where the chain stopped), never a silent truncation; the
// cache limit only bounds memory. A zero or negative field means its
// default.
type Limits struct {
	// GPTEntries is the most GPT partition entries read (16384). The
	// entry array may then be up to 4 MiB, or GPTEntries entries of 128
	// bytes if that is more.
	GPTEntries int
	// EBRLinks is the most EBRs followed in one extended partition (256).
	EBRLinks int
	// BackingDepth is the most qcow2 backing files below an image (8).
	BackingDepth int
	// QCOW2L1Bytes is the largest qcow2 L1 table, in bytes (32 MiB).
	QCOW2L1Bytes int64
	// QCOW2Cache is how many bytes of qcow2 clusters an image keeps in
	// memory (32 MiB, and at least 8 clusters whatever their size).
	QCOW2Cache int64
	// LVMMetadata is the largest LVM2 text metadata read from a PV, in
	// bytes (16 MiB; lvm2's default metadata area is 1 MiB).
	LVMMetadata int64
	// LVMVolumes is the most logical volumes in one LVM2 volume group
	// (4096).
	LVMVolumes int
	// LVMSegments is the most segments of all the logical volumes of one
	// volume group together (10000).
	LVMSegments int
	// VHDXBATEntries is the most VHDX BAT entries held in memory, 8
	// bytes each (4Mi: a 4 TiB disk in 1 MiB blocks, 64 TiB in 32 MiB).
	VHDXBATEntries int
	// VHDBATEntries is the most VHD BAT entries held in memory, 8 bytes
	// each (4Mi: the format's 2 TiB in 512 KiB blocks).
	VHDBATEntries int
	// VMDKExtents is the most extents a VMDK descriptor may list (1024,
	// a 2 TiB twoGbMaxExtent disk).
	VMDKExtents int
	// VMDKGrainDirBytes is the largest VMDK grain directory, in bytes
	// (32 MiB).
	VMDKGrainDirBytes int64
	// VMDKCache is how many bytes of VMDK grain tables and inflated
	// grains an image keeps in memory (32 MiB, and at least 8 entries).
	VMDKCache int64
	// VDIBlockMapBytes is the largest VDI block map, in bytes (32 MiB).
	VDIBlockMapBytes int64
	// ExpandRatio is how many times its compressed input a compressed
	// upload may expand to once past its first 256 MiB (1000): a
	// decompression bomb of zeros is refused in seconds instead of
	// expanding for minutes. Zeros count: a disk of a few MiB of data in
	// a large empty filesystem expands further and must raise it.
	ExpandRatio int
	// XZDictionary is the largest LZMA2 dictionary an xz upload may
	// declare (64 MiB, what xz -9 uses); the decoder allocates it.
	XZDictionary int64
	// ZstdWindow is the largest window a zstd upload may declare
	// (128 MiB, what zstd --long=27 and --ultra -22 use); the decoder
	// allocates it.
	ZstdWindow int64
}

// DefaultLimits returns the limits used when none are given.
func DefaultLimits() Limits {
	return Limits{
		GPTEntries:   16384,
		EBRLinks:     256,
		BackingDepth: 8,
		QCOW2L1Bytes: 32 << 20,
		QCOW2Cache:   32 << 20,
		LVMMetadata:  16 << 20,
		LVMVolumes:   4096,
		LVMSegments:  10000,

		VHDXBATEntries:    4 << 20,
		VHDBATEntries:     4 << 20,
		VMDKExtents:       1024,
		VMDKGrainDirBytes: 32 << 20,
		VMDKCache:         32 << 20,
		VDIBlockMapBytes:  32 << 20,

		ExpandRatio:  1000,
		XZDictionary: 64 << 20,
		ZstdWindow:   128 << 20,
	}
}

// orDefaults returns l with each zero or negative field set to its
// default.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.GPTEntries <= 0 {
		l.GPTEntries = d.GPTEntries
	}
	if l.EBRLinks <= 0 {
		l.EBRLinks = d.EBRLinks
	}
	if l.BackingDepth <= 0 {
		l.BackingDepth = d.BackingDepth
	}
	if l.QCOW2L1Bytes <= 0 {
		l.QCOW2L1Bytes = d.QCOW2L1Bytes
	}
	if l.QCOW2Cache <= 0 {
		l.QCOW2Cache = d.QCOW2Cache
	}
	if l.LVMMetadata <= 0 {
		l.LVMMetadata = d.LVMMetadata
	}
	if l.LVMVolumes <= 0 {
		l.LVMVolumes = d.LVMVolumes
	}
	if l.LVMSegments <= 0 {
		l.LVMSegments = d.LVMSegments
	}
	if l.VHDXBATEntries <= 0 {
		l.VHDXBATEntries = d.VHDXBATEntries
	}
	if l.VHDBATEntries <= 0 {
		l.VHDBATEntries = d.VHDBATEntries
	}
	if l.VMDKExtents <= 0 {
		l.VMDKExtents = d.VMDKExtents
	}
	if l.VMDKGrainDirBytes <= 0 {
		l.VMDKGrainDirBytes = d.VMDKGrainDirBytes
	}
	if l.VMDKCache <= 0 {
		l.VMDKCache = d.VMDKCache
	}
	if l.VDIBlockMapBytes <= 0 {
		l.VDIBlockMapBytes = d.VDIBlockMapBytes
	}
	if l.ExpandRatio <= 0 {
		l.ExpandRatio = d.ExpandRatio
	}
	if l.XZDictionary <= 0 {
		l.XZDictionary = d.XZDictionary
	}
	if l.ZstdWindow <= 0 {
		l.ZstdWindow = d.ZstdWindow
	}
	return l
}

// WithLimits sets the limits of the container readers: backing chain
// depth, the qcow2 L1 table size and cluster cache, the VHD and VHDX BAT
// sizes, the VMDK extents, grain directory and cache, the VDI block map,
// and the expansion ratio and decoder memory of compressed uploads.
// Partition tables take theirs through ReadTableLimits.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l.orDefaults() } }
