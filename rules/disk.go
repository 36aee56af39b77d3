package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// Disk-size rules: the container and partition facts, the
// root filesystem's state, and whether the virtual disk fits
// the smallest Droplet disk, the plans and the custom-image upload limit.
// They read only in.Disk, never the guest, and do not apply to --root scans.

var diskLayoutRule = Rule{ID: "disk.layout", Title: "Container, partition table and root filesystem are consistent",
	Check: checkDiskLayout}

var diskFsStateRule = Rule{ID: "disk.fs-state", Title: "The root filesystem was cleanly unmounted",
	Check: checkFSState}

var diskMinSizeRule = Rule{ID: "disk.min-size", Title: "The virtual disk fits the smallest Droplet disk",
	Check: checkMinSize}

var diskPlansRule = Rule{ID: "disk.plans", Title: "Droplet plans that can launch the image",
	Check: checkPlans}

var diskShrinkHintRule = Rule{ID: "disk.shrink-hint", Title: "An oversized disk whose data would fit the minimum",
	Check: checkShrinkHint}

var diskUploadLimitRule = Rule{ID: "disk.upload-limit", Title: "The virtual disk is within the 100 GB custom-image upload limit",
	Check: checkUploadLimit}

// Size units.
const (
	GiB = int64(1) << 30
	GB  = int64(1_000_000_000)
)

const (
	defaultMinDisk   = 25 * GiB
	uploadLimitGB    = 100
	gptBackupSectors = 33 // backup header plus a 16 KiB entry array
)

// FormatSize prints a size as exact bytes, GB and GiB:
// "26843545600 bytes (26.84 GB, 25.00 GiB)".
func FormatSize(n int64) string {
	return fmt.Sprintf("%d bytes (%.2f GB, %.2f GiB)", n, float64(n)/float64(GB), float64(n)/float64(GiB))
}

// diskOrSkip returns in.Disk, or the SKIP every disk rule reports on a
// directory scan.
func diskOrSkip(in *Input) (*Disk, []Finding) {
	if in.Disk == nil {
		return nil, []Finding{in.Skip(NotApplicable, "no disk image: a --root scan has no virtual disk")}
	}
	return in.Disk, nil
}

// minDisk is M, the smallest Droplet disk (--min-disk, default 25 GiB).
func minDisk(o *Options) int64 {
	if o.MinDisk > 0 {
		return o.MinDisk
	}
	return defaultMinDisk
}

// LastUsedByte is E: the end of the last partition, plus the GPT backup
// header area; for a bare filesystem, the end of the filesystem; 0 when
// nothing is known.
func LastUsedByte(d *Disk) int64 {
	var e int64
	for _, p := range d.Partitions {
		e = max(e, p.Start+p.Size)
	}
	if d.Scheme == "gpt" && e > 0 {
		sector := int64(d.SectorSize)
		if sector <= 0 {
			sector = 512
		}
		e += gptBackupSectors * sector
	}
	if r, f := rootFS(d); len(d.Partitions) == 0 && r != nil {
		e = r.Offset + f.Size
	}
	return e
}

// rootFS returns the root filesystem and its facts, or nils when none was
// read or d is nil.
func rootFS(d *Disk) (*fsinspect.FSInfo, *fsinspect.FSFacts) {
	if d == nil || d.Root == nil || d.Root.Facts == nil {
		return nil, nil
	}
	return d.Root, d.Root.Facts
}

// fsUsed is the filesystem's used bytes, metadata and journal included.
func fsUsed(f *fsinspect.FSFacts) int64 {
	if f.Free > f.Size {
		return 0
	}
	return f.Size - f.Free
}

func checkDiskLayout(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	ev := []KV{{"container", d.Container}, {"virtual_size", FormatSize(d.VirtualSize)}}
	if d.AllocatedSize >= 0 {
		ev = append(ev, KV{"allocated", FormatSize(d.AllocatedSize)})
	}
	if d.Compressed {
		ev = append(ev, KV{"compressed", "yes"})
	}
	if d.Backed {
		ev = append(ev, KV{"backing_file", "yes"})
	}
	ev = append(ev, KV{"scheme", d.Scheme})
	if d.SectorSize > 0 {
		ev = append(ev, KV{"sector_size", strconv.Itoa(d.SectorSize)})
	}
	var errs []string
	for _, p := range d.Partitions {
		end := p.Start + p.Size
		desc := fmt.Sprintf("#%d start=%d end=%d size=%s type=%s", p.Index, p.Start, end, FormatSize(p.Size), p.Type)
		if p.Name != "" {
			desc += " name=" + p.Name
		}
		if p.FS != "" {
			desc += " fs=" + p.FS
		}
		ev = append(ev, KV{"partition", desc})
		if end > d.VirtualSize {
			errs = append(errs, fmt.Sprintf("partition %d ends at byte %d, beyond the virtual size %d (truncated image)", p.Index, end, d.VirtualSize))
		}
	}
	ev = append(ev, KV{"last_used_byte", FormatSize(LastUsedByte(d))})
	if r, f := rootFS(d); r != nil {
		ev = append(ev, KV{"root_fs", f.Type}, KV{"root_offset", strconv.FormatInt(r.Offset, 10)},
			KV{"fs_size", FormatSize(f.Size)}, KV{"fs_used", FormatSize(fsUsed(f))},
			KV{"fs_free", FormatSize(f.Free)}, KV{"fs_reserved", FormatSize(f.Reserved)},
			KV{"uuid", f.UUID}, KV{"label", f.Label})
		if !f.LastWrite.IsZero() {
			ev = append(ev, KV{"last_write", f.LastWrite.UTC().Format(time.RFC3339)})
		}
		if r.Size > 0 && f.Size > r.Size {
			errs = append(errs, fmt.Sprintf("the root filesystem (%d bytes) is larger than its partition (%d bytes)", f.Size, r.Size))
		}
	} else if d.RootErr != "" {
		ev = append(ev, KV{"root_error", d.RootErr})
	}
	for _, n := range d.Notes {
		ev = append(ev, KV{"note", n})
	}
	if len(errs) > 0 {
		f := in.New(Error, "disk", "inconsistent disk layout: "+strings.Join(errs, "; "), ev...)
		return []Finding{f}
	}
	scheme := strings.ToUpper(d.Scheme)
	if d.Scheme == "none" || d.Scheme == "" {
		scheme = "no partition table"
	}
	msg := fmt.Sprintf("%s disk, %s, virtual size %s", d.Container, scheme, FormatSize(d.VirtualSize))
	if len(d.Notes) > 0 {
		msg += "; " + strings.Join(d.Notes, "; ")
	}
	return []Finding{in.New(Info, "disk", msg, ev...)}
}

func checkFSState(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	_, root := rootFS(d)
	if root == nil {
		reason := d.RootErr
		if reason == "" {
			reason = "no root filesystem found"
		}
		return []Finding{in.Fault("root filesystem", errors.New(reason))}
	}
	var ev []KV
	for _, s := range root.Detail {
		ev = append(ev, KV{s.Key, s.Value})
	}
	ev = append(ev, KV{"uuid", root.UUID})
	if !root.LastWrite.IsZero() {
		ev = append(ev, KV{"last_write", root.LastWrite.UTC().Format(time.RFC3339)})
	}
	journal := "journal"
	if root.Type == "xfs" {
		journal = "log"
	}
	if root.StateUnknown {
		return []Finding{in.New(Skip, "root filesystem", fmt.Sprintf("whether the %s root filesystem was cleanly unmounted is unknown: its %s is external or could not be decoded", root.Type, journal), ev...)}
	}
	var why []string
	if !root.Clean {
		why = append(why, "not cleanly unmounted")
	}
	if root.NeedsRecovery {
		why = append(why, "the "+journal+" needs recovery")
	}
	if len(why) == 0 {
		return []Finding{in.New(Pass, "root filesystem", "the root filesystem was cleanly unmounted", ev...)}
	}
	f := in.New(Warn, "root filesystem", "the root filesystem is "+strings.Join(why, ", and ")+
		": the image was taken from a running system; the "+journal+" is not replayed, so recent writes (the cleanup's truncations included) may be missing from this view", ev...)
	f.Fix = "shut the build Droplet down (or unmount the filesystem) before taking the snapshot"
	return []Finding{f}
}

func checkMinSize(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	m, v := minDisk(in.Opts), d.VirtualSize
	ev := []KV{{"virtual_size", FormatSize(v)}, {"min_disk", FormatSize(m)}}
	if v > m {
		f := in.New(Warn, "disk", fmt.Sprintf("virtual size %s exceeds the smallest Droplet disk %s: the image cannot launch on the smallest plan, and a Droplet disk can never shrink",
			FormatSize(v), FormatSize(m)), ev...)
		f.Fix = "rebuild on the smallest plan, or shrink the filesystem, partition and virtual disk (see disk.shrink-hint)"
		if m%GB == 0 && v <= m/GB*GiB {
			f.Evidence = append(f.Evidence, KV{"note", "fits if plan disks are GiB-sized"})
		}
		return []Finding{f}
	}
	f := in.New(Pass, "disk", fmt.Sprintf("virtual size %s fits the smallest Droplet disk %s", FormatSize(v), FormatSize(m)), ev...)
	if m%GiB == 0 && v > m/GiB*GB {
		f.Message += "; it fits only because plan disks are GiB-sized"
		f.Evidence = append(f.Evidence, KV{"note", "fits only because plan disks are GiB-sized"})
	}
	return []Finding{f}
}

// planBytes converts a plan's disk to bytes: GiB unless --plan-unit gb.
func planBytes(o *Options, p Plan) int64 {
	unit, _ := planUnitSize(o)
	return p.DiskGB * unit
}

// plansOf returns the plans the rules consult, where they came from and
// when they were taken: Options.Plans, else the built-in catalogue.
func plansOf(o *Options) (plans []Plan, source, taken string) {
	if len(o.Plans) == 0 {
		c := BuiltinCatalogue()
		return c.Sizes, "built-in catalogue of " + c.Taken, c.Taken
	}
	if o.PlanSource == "" {
		return o.Plans, "supplied", o.PlanTaken
	}
	return o.Plans, o.PlanSource, o.PlanTaken
}

// cheaperPlan orders plans cheapest first, a plan without a price after
// every priced one, then by disk and slug.
func cheaperPlan(x, y Plan) int {
	if (x.PriceUSD > 0) != (y.PriceUSD > 0) {
		if x.PriceUSD > 0 {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(x.PriceUSD, y.PriceUSD), cmp.Compare(x.DiskGB, y.DiskGB), cmp.Compare(x.Slug, y.Slug))
}

// describePlan is "s-1vcpu-1gb ($6.00/month, 25 GB disk)".
func describePlan(p Plan) string {
	if p.PriceUSD > 0 {
		return fmt.Sprintf("%s ($%.2f/month, %d GB disk)", p.Slug, p.PriceUSD, p.DiskGB)
	}
	return fmt.Sprintf("%s (%d GB disk)", p.Slug, p.DiskGB)
}

// planEvidence is "s-1vcpu-1gb: 25 GB disk at $6.00/month", without a
// comma: the JSON report joins the values of a repeated key with ", ".
func planEvidence(p Plan) string {
	if p.PriceUSD > 0 {
		return fmt.Sprintf("%s: %d GB disk at $%.2f/month", p.Slug, p.DiskGB, p.PriceUSD)
	}
	return fmt.Sprintf("%s: %d GB disk", p.Slug, p.DiskGB)
}

// planListed is how many plans each evidence list names.
const planListed = 5

// checkPlans names the cheapest plan whose disk holds the virtual disk and
// counts the plans that can launch the image; the evidence names the
// cheapest plans that fit ("fits") and the largest that do not
// ("too_small"), planListed of each.
func checkPlans(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	plans, source, taken := plansOf(in.Opts)
	if len(plans) == 0 {
		return []Finding{in.New(Skip, "disk", "no Droplet plans to compare with ("+source+")", KV{KeySource, source})}
	}
	plans = slices.SortedStableFunc(slices.Values(plans), cheaperPlan)
	_, unit := planUnitSize(in.Opts)
	ev := []KV{{"virtual_size", FormatSize(d.VirtualSize)}, {KeySource, source}}
	if taken != "" {
		ev = append(ev, KV{"taken", taken})
	}
	ev = append(ev, KV{"plan_unit", unit})
	var fit, small []Plan
	for _, p := range plans {
		if planBytes(in.Opts, p) >= d.VirtualSize {
			fit = append(fit, p)
		} else {
			small = append(small, p)
		}
	}
	// Near misses first: the largest disks that are still too small.
	slices.SortStableFunc(small, func(a, b Plan) int { return cmp.Compare(b.DiskGB, a.DiskGB) })
	var msg string
	if len(fit) == 0 {
		largest := small[0]
		msg = fmt.Sprintf("no plan can launch the image: the largest plan disk is %s, %s (%d plans, %s)",
			describePlan(largest), FormatSize(planBytes(in.Opts, largest)), len(plans), source)
	} else {
		ev = append(ev, KV{"cheapest", fit[0].Slug})
		msg = fmt.Sprintf("cheapest plan that can launch the image: %s; %d of %d plans can (%s)",
			describePlan(fit[0]), len(fit), len(plans), source)
	}
	ev = append(ev, KV{"fit", fmt.Sprintf("%d of %d", len(fit), len(plans))})
	for _, p := range fit[:min(len(fit), planListed)] {
		ev = append(ev, KV{"fits", planEvidence(p)})
	}
	for _, p := range small[:min(len(small), planListed)] {
		ev = append(ev, KV{"too_small", planEvidence(p)})
	}
	return []Finding{in.New(Info, "disk", msg, ev...)}
}

func checkShrinkHint(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	m, v, e := minDisk(in.Opts), d.VirtualSize, LastUsedByte(d)
	ev := []KV{{"virtual_size", FormatSize(v)}, {"min_disk", FormatSize(m)}, {"last_used_byte", FormatSize(e)}}
	if v <= m {
		return []Finding{in.New(Pass, "disk", "the virtual disk already fits the smallest Droplet disk", ev...)}
	}
	if e > 0 && e <= m {
		return []Finding{in.New(Info, "disk", fmt.Sprintf("every partition ends by byte %d, within %s: the virtual disk could be reduced to the minimum (truncate it, then relocate the GPT backup header)", e, FormatSize(m)), ev...)}
	}
	if r, f := rootFS(d); r != nil {
		need := r.Offset + fsUsed(f)
		ev = append(ev, KV{"fs_used", FormatSize(fsUsed(f))})
		if need <= m {
			how := "shrink the filesystem and partition, then the virtual disk; relocate the GPT backup header"
			if f.Type == "xfs" {
				how = "XFS cannot shrink: copy the files onto a smaller filesystem (xfsdump/xfsrestore or rsync -aHAX) in a smaller disk"
			}
			return []Finding{in.New(Info, "disk", fmt.Sprintf("the root filesystem uses %s from byte %d: the image could be reduced to %s (%s)",
				FormatSize(fsUsed(f)), r.Offset, FormatSize(m), how), ev...)}
		}
	}
	return []Finding{in.New(Pass, "disk", "the data does not fit the smallest Droplet disk, so no shrink is possible", ev...)}
}

func checkUploadLimit(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	v := d.VirtualSize
	ev := []KV{{"virtual_size", FormatSize(v)}}
	switch {
	case v > uploadLimitGB*GiB:
		f := in.New(Warn, "disk", fmt.Sprintf("virtual size %s is over the 100 GB custom-image upload limit", FormatSize(v)), ev...)
		f.Fix = "reduce the virtual disk below 100 GB"
		return []Finding{f}
	case v > uploadLimitGB*GB:
		return []Finding{in.New(Info, "disk", fmt.Sprintf("virtual size %s is between 100 GB and 100 GiB: the upload limit's unit is ambiguous", FormatSize(v)), ev...)}
	}
	return []Finding{in.New(Pass, "disk", fmt.Sprintf("virtual size %s is within the 100 GB custom-image upload limit", FormatSize(v)), ev...)}
}
