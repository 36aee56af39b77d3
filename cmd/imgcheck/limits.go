package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/rules/facts"
	"github.com/imgcheck/imgcheck/rules/facts/initramfs"
)

// limits are the values of the repeatable --limit NAME=VALUE flag: bounds
// on the work of reading one image. A zero field keeps the default of the
// package that applies it.
type limits struct {
	symlinkHops, dirEntries, gptEntries, ebrLinks, backingDepth int64 // counts
	lvmVolumes, lvmSegments, vhdxBAT, vhdBAT, lookupComponents  int64 // counts
	vmdkExtents                                                 int64 // counts
	qcow2L1, cache, qcow2Cache, lvmMetadata, fileRead           int64 // bytes
	vmdkGrainDir, vmdkCache, vdiBlockMap, rpmDB, initramfs      int64 // bytes
	expandRatio                                                 int64 // times
	xzDictionary, zstdWindow                                    int64 // bytes

	given []string // NAME=VALUE as given, for String
}

// A limitDef is one NAME that --limit accepts.
type limitDef struct {
	name  string
	def   int64
	size  bool // VALUE is a byte size such as 32MiB, else a count
	about string
	field func(*limits) *int64
}

// limitDefs lists the limits in the order help shows them.
var limitDefs = []limitDef{
	{"symlink-hops", fsinspect.DefaultMaxHops, false, "symlinks followed in one guest lookup", func(l *limits) *int64 { return &l.symlinkHops }},
	{"dir-entries", ext4.DefaultMaxDirEntries, false, "entries read from one directory", func(l *limits) *int64 { return &l.dirEntries }},
	{"gpt-entries", int64(image.DefaultLimits().GPTEntries), false, "GPT partition entries", func(l *limits) *int64 { return &l.gptEntries }},
	{"ebr-links", int64(image.DefaultLimits().EBRLinks), false, "EBRs followed in an extended partition", func(l *limits) *int64 { return &l.ebrLinks }},
	{"backing-depth", int64(image.DefaultLimits().BackingDepth), false, "qcow2 backing files below an image", func(l *limits) *int64 { return &l.backingDepth }},
	{"qcow2-l1", image.DefaultLimits().QCOW2L1Bytes, true, "size of a qcow2 L1 table", func(l *limits) *int64 { return &l.qcow2L1 }},
	{"cache", fsinspect.DefaultCacheSize, true, "block cache memory", func(l *limits) *int64 { return &l.cache }},
	{"qcow2-cache", image.DefaultLimits().QCOW2Cache, true, "qcow2 cluster cache memory", func(l *limits) *int64 { return &l.qcow2Cache }},
	{"lvm-metadata", image.DefaultLimits().LVMMetadata, true, "LVM2 metadata text of a volume group", func(l *limits) *int64 { return &l.lvmMetadata }},
	{"lvm-volumes", int64(image.DefaultLimits().LVMVolumes), false, "LVM2 logical volumes of a volume group", func(l *limits) *int64 { return &l.lvmVolumes }},
	{"lvm-segments", int64(image.DefaultLimits().LVMSegments), false, "LVM2 segments of a volume group", func(l *limits) *int64 { return &l.lvmSegments }},
	{"vhdx-bat", int64(image.DefaultLimits().VHDXBATEntries), false, "VHDX block allocation table entries", func(l *limits) *int64 { return &l.vhdxBAT }},
	{"vhd-bat", int64(image.DefaultLimits().VHDBATEntries), false, "VHD block allocation table entries", func(l *limits) *int64 { return &l.vhdBAT }},
	{"vmdk-extents", int64(image.DefaultLimits().VMDKExtents), false, "extents a VMDK descriptor lists", func(l *limits) *int64 { return &l.vmdkExtents }},
	{"vmdk-grain-dir", image.DefaultLimits().VMDKGrainDirBytes, true, "size of a VMDK grain directory", func(l *limits) *int64 { return &l.vmdkGrainDir }},
	{"vmdk-cache", image.DefaultLimits().VMDKCache, true, "VMDK grain table and inflated grain cache memory", func(l *limits) *int64 { return &l.vmdkCache }},
	{"vdi-block-map", image.DefaultLimits().VDIBlockMapBytes, true, "size of a VDI block map", func(l *limits) *int64 { return &l.vdiBlockMap }},
	{"lookup-components", fsinspect.DefaultMaxComponents, false, "path components (symlink targets included) one guest lookup visits", func(l *limits) *int64 { return &l.lookupComponents }},
	{"file-read", fsinspect.DefaultMaxFileRead, true, "bytes read from one opened guest file", func(l *limits) *int64 { return &l.fileRead }},
	{"rpm-db", facts.CapRPMDB, true, "size of the rpm database (and of an rpmdb.sqlite's write-ahead log)", func(l *limits) *int64 { return &l.rpmDB }},
	{"expand-ratio", int64(image.DefaultLimits().ExpandRatio), false, "times its compressed size an upload may expand past its first 256 MiB", func(l *limits) *int64 { return &l.expandRatio }},
	{"xz-dictionary", image.DefaultLimits().XZDictionary, true, "LZMA2 dictionary an xz upload may declare", func(l *limits) *int64 { return &l.xzDictionary }},
	{"zstd-window", image.DefaultLimits().ZstdWindow, true, "window a zstd upload may declare", func(l *limits) *int64 { return &l.zstdWindow }},
	{"initramfs", initramfs.DefaultLimits().Bytes, true, "bytes unpacked from one initramfs (boot.virtio)", func(l *limits) *int64 { return &l.initramfs }},
}

// Set parses one NAME=VALUE. Any error lists the valid names with their
// defaults.
func (l *limits) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q: want NAME=VALUE; limits and defaults: %s", s, limitList())
	}
	for _, d := range limitDefs {
		if d.name != strings.TrimSpace(name) {
			continue
		}
		n, err := d.parse(value)
		if err != nil {
			return fmt.Errorf("limit %s: %v; limits and defaults: %s", d.name, err, limitList())
		}
		*d.field(l) = n
		l.given = append(l.given, s)
		return nil
	}
	return fmt.Errorf("unknown limit %q; limits and defaults: %s", name, limitList())
}

// parse reads a VALUE: a positive count, or a positive byte size.
func (d limitDef) parse(value string) (int64, error) {
	if d.size {
		n, err := parseSize(value)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%q is not a positive size such as %s", value, formatSize(d.def))
		}
		return n, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%q is not a whole number from 1 to %d", value, math.MaxInt32)
	}
	return n, nil
}

// String returns the limits given so far, for flag defaults: "" when none.
func (l *limits) String() string { return strings.Join(l.given, ",") }

// Type names the flag's value in help.
func (l *limits) Type() string { return "NAME=VALUE" }

// imageLimits returns the limits the image package applies.
func (l *limits) imageLimits() image.Limits {
	return image.Limits{
		GPTEntries:        int(l.gptEntries),
		EBRLinks:          int(l.ebrLinks),
		BackingDepth:      int(l.backingDepth),
		QCOW2L1Bytes:      l.qcow2L1,
		QCOW2Cache:        l.qcow2Cache,
		LVMMetadata:       l.lvmMetadata,
		LVMVolumes:        int(l.lvmVolumes),
		LVMSegments:       int(l.lvmSegments),
		VHDXBATEntries:    int(l.vhdxBAT),
		VHDBATEntries:     int(l.vhdBAT),
		VMDKExtents:       int(l.vmdkExtents),
		VMDKGrainDirBytes: l.vmdkGrainDir,
		VMDKCache:         l.vmdkCache,
		VDIBlockMapBytes:  l.vdiBlockMap,
		ExpandRatio:       int(l.expandRatio),
		XZDictionary:      l.xzDictionary,
		ZstdWindow:        l.zstdWindow,
	}
}

// guestOptions returns the fsinspect options of the limits.
func (l *limits) guestOptions() []fsinspect.Option {
	return []fsinspect.Option{
		fsinspect.WithMaxHops(int(l.symlinkHops)),
		fsinspect.WithMaxComponents(int(l.lookupComponents)),
		fsinspect.WithMaxFileRead(l.fileRead),
		fsinspect.WithDirEntries(int(l.dirEntries)),
		fsinspect.WithCacheSize(l.cache),
	}
}

// limitList lists every limit with its default on one line.
func limitList() string {
	var parts []string
	for _, d := range limitDefs {
		parts = append(parts, d.name+"="+d.defString())
	}
	return strings.Join(parts, ", ")
}

// limitHelp is the usage of --limit: one line per limit.
func limitHelp() string {
	var b strings.Builder
	b.WriteString("set a limit on reading an image as `NAME=VALUE` (repeatable); limits and defaults:")
	for _, d := range limitDefs {
		fmt.Fprintf(&b, "\n  %-22s %s", d.name+"="+d.defString(), d.about)
	}
	return b.String()
}

// defString is the default as --limit would take it.
func (d limitDef) defString() string {
	if d.size {
		return formatSize(d.def)
	}
	return strconv.FormatInt(d.def, 10)
}

// formatSize prints n in the largest binary unit that divides it: "32MiB",
// "4KiB", "1000".
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
