package fsinspect

import (
	"context"

	"github.com/imgcheck/imgcheck/image"
)

// DefaultMaxHops is how many symlinks one lookup may follow, as in Linux
// (MAXSYMLINKS), unless WithMaxHops says otherwise.
const DefaultMaxHops = 40

// DefaultMaxComponents is how many path components, those of symlink
// targets included, one lookup may visit unless WithMaxComponents says
// otherwise: ten times the depth of any real tree, a small fraction of
// what 40 hops of 4 KiB targets could make a lookup walk.
const DefaultMaxComponents = 4096

// DefaultMaxFileRead is how many bytes one opened guest file delivers
// unless WithMaxFileRead says otherwise: more than any rule's read cap,
// so it only stops a reader that streams a file (a sparse log that
// claims terabytes) without a cap of its own.
const DefaultMaxFileRead = 1 << 30

// settings are the bounds the Options set besides mounts: the Guest's own,
// and those OpenImage reads before it builds the Guest.
type settings struct {
	maxHops    int
	maxComps   int             // path components one lookup visits
	maxRead    int64           // bytes one opened file delivers
	ctx        context.Context // ends reads and walks when done; nil for none
	cacheSize  int64           // OpenImage's block cache, in bytes
	dirEntries int             // per ext or XFS directory; 0 for the readers' default
	table      image.Limits    // partition table bounds; zero fields are defaults
	warm       []string        // directories OpenImage reads ahead (WithWarm)
	warmFiles  []string        // files OpenImage reads ahead (WithWarmFiles)
	readAhead  bool            // partitions prefetch for their filesystem (WithReadAhead)
}

// defaultSettings are the settings of a Guest made without options.
func defaultSettings() settings {
	return settings{maxHops: DefaultMaxHops, maxComps: DefaultMaxComponents, maxRead: DefaultMaxFileRead, cacheSize: DefaultCacheSize}
}

// optionSettings returns the settings opts make, applying them to a
// scratch Guest.
func optionSettings(opts []Option) settings {
	g := &Guest{set: defaultSettings()}
	for _, o := range opts {
		o(g)
	}
	return g.set
}

// WithMaxHops sets how many symlinks one lookup may follow before it fails
// with ErrLoop; n <= 0 keeps DefaultMaxHops.
func WithMaxHops(n int) Option {
	return func(g *Guest) {
		if n > 0 {
			g.set.maxHops = n
		}
	}
}

// WithMaxComponents sets how many path components one lookup may visit,
// counting each component of each symlink target it follows, before it
// fails with ErrTooManyComponents; n <= 0 keeps DefaultMaxComponents.
func WithMaxComponents(n int) Option {
	return func(g *Guest) {
		if n > 0 {
			g.set.maxComps = n
		}
	}
}

// WithMaxFileRead sets how many bytes one opened guest file delivers
// through Read and ReadAt together; reading past them fails with an
// error wrapping ErrTooLarge, never with a silent end of file. n <= 0
// keeps DefaultMaxFileRead.
func WithMaxFileRead(n int64) Option {
	return func(g *Guest) {
		if n > 0 {
			g.set.maxRead = n
		}
	}
}

// WithContext makes the Guest's file reads, opens, directory reads and
// walks fail with the context's error once ctx is done, so work on an
// image ends with its deadline.
func WithContext(ctx context.Context) Option {
	return func(g *Guest) { g.set.ctx = ctx }
}

// WithCacheSize sets the capacity in bytes of the block cache OpenImage
// reads the image through; n <= 0 keeps DefaultCacheSize. Other Guests
// ignore it.
func WithCacheSize(n int64) Option {
	return func(g *Guest) {
		if n > 0 {
			g.set.cacheSize = n
		}
	}
}

// WithDirEntries bounds the entries OpenImage's ext and XFS filesystems
// read from one directory (ext4.WithMaxDirEntries, xfs.WithMaxDirEntries):
// reading a larger directory is a fault, never a partial listing. n <= 0
// keeps the readers' default (1,000,000).
// Other Guests ignore it.
func WithDirEntries(n int) Option {
	return func(g *Guest) {
		if n > 0 {
			g.set.dirEntries = n
		}
	}
}

// WithTableLimits sets the partition table limits (GPT entries, EBR links)
// OpenImage reads the image's table with (image.ReadTableLimits). Other
// Guests ignore it.
func WithTableLimits(l image.Limits) Option {
	return func(g *Guest) { g.set.table = l }
}
