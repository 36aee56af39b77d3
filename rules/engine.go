package rules

import (
	"context"
	"fmt"
	"io/fs"
	"runtime/debug"
	"sync"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts"
	"github.com/imgcheck/imgcheck/rules/facts/initramfs"
)

// Options are the run-wide settings a rule may consult.
type Options struct {
	Profile Profile
	// AptLists, when set, replaces the guest's /var/lib/apt/lists (--apt-lists DIR).
	AptLists fs.FS
	// RPMUpdateInfo holds updateinfo.xml documents (--rpm-updateinfo), possibly compressed.
	RPMUpdateInfo []facts.NamedData
	MinDisk       int64  // bytes; 0 means the default 25 GiB
	PlanUnit      string // "gib" (default) or "gb"
	// Plans replace the built-in catalogue (--plans FILE, the sizes API or
	// a saved catalogue); PlanSource says where they came from and
	// PlanTaken, when known, the date they were taken.
	Plans        []Plan
	PlanSource   string
	PlanTaken    string
	Strict       bool // SKIP not-evaluable becomes ERROR
	ShowContents bool
	Now          time.Time // the run's clock; zero means time.Now()

	// Initramfs bounds the reading of one initramfs (boot.virtio); zero
	// fields take initramfs.DefaultLimits.
	Initramfs initramfs.Limits

	// DOImage is the DigitalOcean API's record of the image, for do.image
	// (scan --do-image); nil otherwise.
	DOImage *APIImage

	// MaxRPMDB bounds the size of the rpm database (--limit rpm-db); 0
	// for facts.CapRPMDB.
	MaxRPMDB int64
}

// Disk holds the container and layout facts for the disk rules. The CLI
// fills it from the image package; it is nil for --root scans.
type Disk struct {
	Container string // "raw", "qcow2 v3 (zstd)", ...
	// Formats are the container chain's formats ("gzip", "qcow2"),
	// outermost first, backing files left out (disk.upload-format).
	Formats       []string
	Compressed    bool
	Backed        bool
	VirtualSize   int64
	AllocatedSize int64  // -1 when unknown
	Scheme        string // "gpt", "mbr", "none"
	SectorSize    int
	Partitions    []DiskPartition
	// Root is the root filesystem, its Facts set; nil if none was found.
	Root    *fsinspect.FSInfo
	RootErr string // why no root filesystem could be read
	// Notes are what the partition-table reader and root discovery noticed
	// but tolerated (a damaged primary GPT, a looping EBR chain, ...).
	Notes []string
	// Extents are the structures the container, the partition table and
	// LVM metadata place in the image file or on the virtual disk, each
	// with the size of what holds it (disk.integrity).
	Extents []DiskExtent
	// Boot is what the firmware could start from the disk (boot.loader);
	// nil for a bare filesystem.
	Boot *DiskBoot
}

// DiskBoot is the disk's boot path as firmware sees it.
type DiskBoot struct {
	MBRCode    string   // "GRUB", "stub" for code that never reads the disk, "unknown" for other code in the MBR's first 440 bytes; "" when they are zero
	BIOSBoot   []string // BIOS boot partitions: "partition 1: GRUB core image", "partition 1: empty"
	BIOSCore   bool     // a BIOS boot partition holds a core image
	ESPs       []string // EFI System Partitions: "partition 15 (FAT32)"
	EFILoaders []string // UEFI loaders found: "partition 15: /EFI/BOOT/BOOTX64.EFI"
	Errors     []string // what could not be read: "partition 15: fat: corrupt filesystem: ..."
}

// DiskExtent is one structure that must lie inside what holds it.
type DiskExtent struct {
	What  string // "qcow2 metadata (tables, L2 tables, refcount blocks, clusters)", "partition 2", "backup GPT header"
	End   int64  // the end of its furthest byte
	In    string // what holds it: "file disk.qcow2", "virtual disk", "PV partition 3" (what is left of it in the image)
	Limit int64  // that holder's size in bytes
}

// DiskPartition is one partition as the disk rules see it.
type DiskPartition struct {
	Index int    `json:"index"`
	Start int64  `json:"start"`
	Size  int64  `json:"size"`
	Type  string `json:"type"`
	Name  string `json:"name,omitempty"`
	FS    string `json:"fs,omitempty"`
}

// Input is what a rule's Check sees: the guest, the options and the shared facts.
type Input struct {
	Guest *fsinspect.Guest
	Opts  *Options
	Disk  *Disk
	Facts *facts.Facts
	rule  Rule
}

// Fault turns an image fault on one of the rule's inputs into an ERROR
// finding naming that input.
func (in *Input) Fault(subject string, err error) Finding {
	return Finding{
		Rule:     in.rule.ID,
		Level:    Error,
		Message:  fmt.Sprintf("cannot evaluate: %s: %v", subject, err),
		Subject:  subject,
		Evidence: []KV{{KeyPath, subject}, {KeyReason, err.Error()}},
	}
}

// New returns a finding of this rule.
func (in *Input) New(level Level, subject, msg string, ev ...KV) Finding {
	return Finding{Rule: in.rule.ID, Level: level, Subject: subject, Message: msg, Evidence: ev}
}

// Skip returns a SKIP finding; with --strict a not-evaluable SKIP is an ERROR.
func (in *Input) Skip(reason, detail string) Finding {
	f := Finding{Rule: in.rule.ID, Level: Skip, Message: detail, SkipReason: reason}
	if reason == NotEvaluable && in.Opts.Strict {
		f.Level = Error
		f.Message = "not evaluable (--strict): " + detail
	}
	return f
}

// Result is the outcome of one rule on one image.
type Result struct {
	Rule     Rule
	Findings []Finding
	Duration time.Duration // how long the rule took, facts it computed first included
}

// ruleWorkers bounds how many rules run at once. Rules read the guest
// independently of each other, so on an image read over the network
// their reads overlap instead of adding up; the facts they share are
// computed once whoever asks first. Sixteen rather than eight shortens a
// remote scan of a real Debian disk from 15 to 13 round trips: most
// rules wait on a lookup or two of their own.
const ruleWorkers = 16

// Run evaluates the selected rules against g and returns one Result per
// rule, in the order given. Up to ruleWorkers rules run at once. A
// panicking Check becomes an ERROR for that rule; a rule returning no
// findings is an internal error reported as ERROR too.
func Run(ctx context.Context, g *fsinspect.Guest, sel []Rule, o Options, disk *Disk) []Result {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	fc := NewFacts(g, &o)
	out := make([]Result, len(sel))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(ruleWorkers, len(sel)) {
		wg.Go(func() {
			for i := range next {
				out[i] = runRule(ctx, &Input{Guest: g, Opts: &o, Disk: disk, Facts: fc, rule: sel[i]})
			}
		})
	}
	for i := range sel {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// runRule runs the rule of in, unless ctx is done, and times it.
func runRule(ctx context.Context, in *Input) Result {
	r := in.rule
	if err := ctx.Err(); err != nil {
		return Result{Rule: r, Findings: []Finding{{Rule: r.ID, Level: Error, Message: "not run: " + err.Error()}}}
	}
	start := time.Now()
	found := runOne(in, r)
	return Result{Rule: r, Findings: found, Duration: time.Since(start)}
}

func runOne(in *Input, r Rule) (found []Finding) {
	defer func() {
		if p := recover(); p != nil {
			found = []Finding{{Rule: r.ID, Level: Error, Message: fmt.Sprintf("internal error: %v", p),
				Evidence: []KV{{"stack", firstFrames(debug.Stack())}}}}
		}
	}()
	if in.Guest != nil && r.Family != facts.Any {
		fam, err := in.Facts.Family()
		switch {
		case err != nil:
			return []Finding{in.Fault("os family", err)}
		case fam == facts.Unknown:
			return []Finding{in.Skip(NotApplicable, "unknown OS family")}
		case fam != r.Family:
			return []Finding{in.Skip(NotApplicable, fmt.Sprintf("applies to the %s family, this image is %s", r.Family, fam))}
		}
	}
	found = r.Check(in)
	if len(found) == 0 {
		return []Finding{{Rule: r.ID, Level: Error, Message: "internal error: rule returned no finding"}}
	}
	for i := range found {
		if found[i].Rule == "" {
			found[i].Rule = r.ID
		}
	}
	if !r.Uncapped {
		found = capFindings(r.ID, found)
	}
	return found
}

// MaxFindingsPerRule bounds what one rule reports on one image in the
// marketplace profile, so that a hostile image (say a million files in
// /tmp) cannot make reports grow without bound. The img_check profile is
// never capped (Rule.Uncapped): its counters must be the script's.
const MaxFindingsPerRule = 1000

// capFindings keeps the first MaxFindingsPerRule-1 findings and folds the
// rest into one finding at the most severe level among them, so that the
// verdict and exit code are unchanged.
func capFindings(id string, found []Finding) []Finding {
	if len(found) <= MaxFindingsPerRule {
		return found
	}
	kept, rest := found[:MaxFindingsPerRule-1], found[MaxFindingsPerRule-1:]
	worst := rest[0].Level
	for _, f := range rest {
		if f.Level > worst {
			worst = f.Level
		}
	}
	more := Finding{
		Rule:     id,
		Level:    worst,
		Subject:  "(more)",
		Message:  fmt.Sprintf("%d more findings of this rule are not listed (at most %d per rule)", len(rest), MaxFindingsPerRule),
		Evidence: []KV{{KeyCount, fmt.Sprint(len(rest))}},
	}
	return append(kept[:len(kept):len(kept)], more)
}

func firstFrames(stack []byte) string {
	const max = 2000
	if len(stack) > max {
		stack = stack[:max]
	}
	return string(stack)
}

// NewFacts returns the fact cache Run builds for g under o, for callers
// that read facts outside a run (the CLI's OS name, diff).
func NewFacts(g *fsinspect.Guest, o *Options) *facts.Facts {
	return facts.New(g, facts.Options{AptLists: o.AptLists, RPMUpdateInfo: o.RPMUpdateInfo, Now: o.Now, MaxRPMDB: o.MaxRPMDB})
}
