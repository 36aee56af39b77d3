package report

import (
	"iter"
	"slices"
	"time"

	"github.com/imgcheck/imgcheck/rules"
)

// Image is everything a report says about one scanned image. The CLI fills
// it; the writers only read it.
type Image struct {
	Path    string // the image path as given on the command line, or the --root directory
	SHA256  string // hex SHA-256 of the image file; empty unless --hash
	Root    bool   // Path is a --root directory, not an image file
	Profile rules.Profile

	Container     []Layer // outermost first
	VirtualSize   int64   // bytes of the virtual disk; 0 when unknown
	AllocatedSize int64   // bytes allocated on the host; -1 when unknown
	Table         *Table  // nil when the partition table was not read
	Filesystems   []Filesystem
	OS            OS
	// RootError says why no root filesystem could be read; the guest
	// rules then report ERROR and only the disk rules decide.
	RootError string

	Results []rules.Result
	// Started is when the scan of the image began, Duration how long it
	// took; zero when unknown.
	Started  time.Time
	Duration time.Duration
	// Err is set when the image could not be scanned at all: it could not be
	// opened, the scan timed out or panicked. Its text is the one-line reason.
	Err error

	// ExpiredWaivers are waivers that would match this image but have expired.
	ExpiredWaivers []Waiver
	Stats          *Stats // nil unless --stats

	// Contents holds, for --show-contents only, the bodies of the files
	// the text reports may print (ContentFiles), read during the scan and
	// keyed by guest path; each is at most one byte longer than its cap.
	// No other format reads it.
	Contents map[string][]byte
}

// Layer is one container in the chain: "qcow2" over "raw", or "gzip" over "raw".
type Layer struct {
	Format   string `json:"format"`
	Detail   string `json:"detail,omitempty"`
	Path     string `json:"path,omitempty"`
	FileSize int64  `json:"file_size"`
}

// Table is the partition table of the virtual disk.
type Table struct {
	Scheme     string      `json:"scheme"` // "gpt", "mbr" or "none"
	SectorSize int         `json:"sector_size,omitempty"`
	DiskGUID   string      `json:"disk_guid,omitempty"`
	Partitions []Partition `json:"partitions"`
	Notes      []string    `json:"notes,omitempty"`
}

// Partition is one entry of the partition table.
type Partition struct {
	Index int    `json:"index"`
	Start int64  `json:"start"`
	Size  int64  `json:"size"`
	Type  string `json:"type"`
	Name  string `json:"name,omitempty"`
	UUID  string `json:"uuid,omitempty"`
}

// Filesystem is a filesystem found on the disk.
type Filesystem struct {
	Partition  int    `json:"partition"`    // partition index; 0 for a bare filesystem or an LV
	LV         string `json:"lv,omitempty"` // "vg/lv" for an LVM2 logical volume
	Type       string `json:"type"`
	Offset     int64  `json:"offset"`
	Size       int64  `json:"size"`
	Free       int64  `json:"free,omitempty"`
	UUID       string `json:"uuid,omitempty"`
	Label      string `json:"label,omitempty"`
	Mountpoint string `json:"mountpoint,omitempty"` // "/" for the root filesystem
	Error      string `json:"error,omitempty"`      // why it could not be read
}

// OS is the guest operating system as the rules identified it.
type OS struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	VersionID  string `json:"version_id,omitempty"`
	PrettyName string `json:"pretty_name,omitempty"`
	Family     string `json:"family,omitempty"`
}

// Stats are the cost of one scan.
type Stats struct {
	Duration  time.Duration
	BytesRead int64
	ReadCalls int64
	CacheHits int64 // block cache hits; with CacheMisses gives the hit rate
	CacheMiss int64
	// For an image read over the network: requests sent, body bytes
	// received and the size of the object.
	Requests, Transferred, ObjectSize int64
}

// HitRate returns the block cache hit rate in [0, 1], or -1 when the cache
// was not used.
func (s Stats) HitRate() float64 {
	if s.CacheHits+s.CacheMiss == 0 {
		return -1
	}
	return float64(s.CacheHits) / float64(s.CacheHits+s.CacheMiss)
}

// Findings returns every finding of the image in report order.
func (im *Image) Findings() []rules.Finding {
	n := 0
	for _, r := range im.Results {
		n += len(r.Findings)
	}
	return slices.AppendSeq(make([]rules.Finding, 0, n), im.findings())
}

// findings yields every finding of the image in report order without
// copying them into a new list: every writer, the verdict and the tally
// walk them.
func (im *Image) findings() iter.Seq[rules.Finding] {
	return func(yield func(rules.Finding) bool) {
		for _, r := range im.Results {
			for _, f := range r.Findings {
				if !yield(f) {
					return
				}
			}
		}
	}
}

// Redact masks anything in s that looks like a secret (rules.Redact); the
// CLI applies it to output it writes itself (diff).
func Redact(s string) string { return rules.Redact(s) }

// Escape makes guest text safe for a terminal (rules.Escape): every human
// writer, in this package and in the CLI, prints guest text through it.
func Escape(s string) string { return rules.Escape(s) }
