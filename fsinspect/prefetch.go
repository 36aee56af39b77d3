package fsinspect

import (
	"io"
	"path"
	"strings"
	"sync"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// sniffSpan is how much of the start of a partition is read ahead, with
// WithReadAhead, when the partition table is known: what sniffing reads
// (magic numbers up to 64 KiB and a little beyond) and, for ext4, the
// superblock and group descriptors that opening reads next. Without
// read-ahead (a local image) one block is read: a copy costs more than
// a second read call.
const sniffSpan = 4 * CacheBlockSize

// A span is a byte range [Off, Off+Len) of the cached reader.
type span struct{ off, n int64 }

// prefetch reads the spans into the cache at once, one read per run of
// missing blocks, and waits for them. On an image read over the network
// their round trips overlap instead of adding up. Errors are left for the
// reads that need the data to report.
func (c *Cache) prefetch(spans []span) {
	var wg sync.WaitGroup
	for _, s := range spans {
		off, end := max(s.off, 0), min(s.off+s.n, c.size)
		if end <= off {
			continue
		}
		for _, r := range c.missing(off/CacheBlockSize, (end-1)/CacheBlockSize) {
			wg.Go(func() { c.block(r[0], r[1]) })
		}
	}
	wg.Wait()
}

// missing returns the runs [first, last] of blocks from first to last
// that are neither cached nor being read.
func (c *Cache) missing(first, last int64) [][2]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var runs [][2]int64
	for i := first; i <= last; i++ {
		_, cached := c.blocks[i]
		_, pending := c.pending[i]
		switch {
		case cached || pending:
		case len(runs) > 0 && runs[len(runs)-1][1] == i-1:
			runs[len(runs)-1][1] = i
		default:
			runs = append(runs, [2]int64{i, i})
		}
	}
	return runs
}

// WarmDirs are the directories nearly every scan of a Linux image reads:
// accounts and sshd in /etc, logs, homes, the package databases, the
// way to os-release, the unit directories, root's PATH, searched one
// directory after another for each command a rule looks up, and the
// alternatives that many of the commands link to.
var WarmDirs = []string{
	"etc", "etc/ssh", "etc/ssh/sshd_config.d", "etc/apt", "etc/apt/sources.list.d", "etc/cloud",
	"etc/cloud/cloud.cfg.d", "etc/default", "etc/alternatives", "boot/grub",
	"etc/systemd/system", "etc/update-motd.d", "home", "root", "tmp", "var/tmp", "var/log",
	"var/lib/dpkg", "var/lib/apt/lists", "var/lib/cloud", "usr/lib/os-release",
	"usr/lib/systemd/system", "lib/systemd/system",
	"usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin",
}

// WarmFiles are the files nearly every scan of a Linux image reads
// whole, any element of a name possibly a path.Match pattern: fstab,
// which opening reads next, the accounts, os-release, sshd's and
// cloud-init's configuration, the kernel command lines, each kernel's
// config and module lists (whose directory a lookup reaches only several
// levels down, by a version it learns from /boot), and on Debian and
// Ubuntu the package database and the apt Release files, which are read
// one after another.
var WarmFiles = []string{
	"etc/fstab", "etc/passwd", "etc/shadow", "etc/group", "etc/login.defs", "etc/os-release",
	"usr/lib/os-release", "etc/machine-id", "etc/ssh/sshd_config", "etc/cloud/cloud.cfg",
	"etc/cloud/cloud.cfg.d/*.cfg", "etc/default/grub", "boot/grub/grub.cfg",
	"var/lib/dpkg/status", "var/lib/apt/lists/*Release",
	"boot/config-*", "usr/lib/modules/*/modules.builtin", "usr/lib/modules/*/modules.dep",
	"lib/modules/*/modules.builtin", "lib/modules/*/modules.dep",
}

// warmEntries bounds the entries of a directory whose inodes warm reads,
// and the files one pattern of WarmFiles reads.
const warmEntries = 512

// warmFileMax bounds what is read ahead of one file of WarmFiles.
const warmFileMax = 4 << 20

// WithWarm makes OpenImage start reading the directories names of every
// filesystem it opens as soon as it is opened: the inodes on their way,
// their entries and, unless there are more than 512, the inodes of their
// entries, all at once and in
// the background. It only saves time when reads are slow (an image read
// over the network): root discovery, fstab and the rules that follow
// find the blocks cached or on their way instead of fetching them one
// lookup after another. Other Guests ignore it.
func WithWarm(names ...string) Option {
	return func(g *Guest) { g.set.warm = names }
}

// WithWarmFiles makes OpenImage start reading the files names (see
// WarmFiles) of every filesystem it opens as soon as it is opened, at
// most 4 MiB of each, in the background, as WithWarm does for
// directories: the reads that follow find them cached or on their way.
// It only saves time when reads are slow. Other Guests ignore it.
func WithWarmFiles(names ...string) Option {
	return func(g *Guest) { g.set.warmFiles = names }
}

// WithReadAhead makes OpenImage's filesystems fetch ahead when reads are
// slow (an image read over the network): the extents a read spans side
// by side, and a file read in order up to 2 MiB at a time (the ext4 and
// XFS readers use inodefs.RangeFetcher). Other Guests ignore it.
func WithReadAhead() Option {
	return func(g *Guest) { g.set.readAhead = true }
}

// A prefetchSection is a partition read through the cache that can also
// read ranges ahead of the reads that need them (inodefs.RangeFetcher).
type prefetchSection struct {
	*io.SectionReader
	c          *Cache
	start, end int64 // the partition's bytes in the cache
}

var _ inodefs.RangeFetcher = (*prefetchSection)(nil)

// Prefetch reads the ranges, relative to the partition, into the cache
// side by side.
func (s *prefetchSection) Prefetch(rs []inodefs.Range) {
	spans := make([]span, 0, len(rs))
	for _, r := range rs {
		if r.Off >= 0 && r.N > 0 && r.Off < s.end {
			spans = append(spans, span{s.start + r.Off, min(r.N, s.end-r.Off)})
		}
	}
	s.c.prefetch(spans)
}

// maxInodeAhead bounds the inode tables read ahead: a little more than the
// tables in use of a distribution's cloud image (a Debian 12 one uses
// 17,000 inodes of 256 bytes, 4.2 MiB).
const maxInodeAhead = 8 << 20

// An inodeTabler tells where the inode tables in use lie (ext4).
type inodeTabler interface {
	InodeTablesInUse(max int64) []inodefs.Range
}

// warmInodes starts reading the inode tables in use of b, a filesystem at
// byte start of the cache, in the background: the inodes of the root
// directory and of most of what a scan looks up, however the files were
// spread over the block groups.
func (c *Cache) warmInodes(wg *sync.WaitGroup, b Backend, start int64) {
	t, ok := b.(inodeTabler)
	if !ok {
		return
	}
	var spans []span
	for _, r := range t.InodeTablesInUse(maxInodeAhead) {
		spans = append(spans, span{start + r.Off, r.N})
	}
	if len(spans) > 0 {
		wg.Go(func() { c.prefetch(spans) })
	}
}

// warm starts reading the directories names of b in the background, in
// wg, and returns. Errors are ignored: the readers that need the data
// report them.
func warm(wg *sync.WaitGroup, b Backend, names []string) {
	for _, name := range names {
		wg.Go(func() {
			entries, _ := b.ReadDir(name)
			if len(entries) > warmEntries {
				// A large directory (/usr/bin) is only listed: the
				// few of its inodes a scan needs are read by the
				// lookups that need them.
				return
			}
			for _, e := range entries {
				e.Info()
			}
		})
	}
}

// warmFiles starts reading the files names (an element of a name may be
// a path.Match pattern: every match is read) of b in the background, in
// wg, and returns.
func warmFiles(wg *sync.WaitGroup, b Backend, names []string) {
	for _, name := range names {
		wg.Go(func() { warmMatches(b, name) })
	}
}

// warmMatches reads the regular files of b that name matches, as
// warmFiles does: of each patterned element, the first warmEntries
// matches (directories, but for the last element) are followed.
func warmMatches(b Backend, name string) {
	i := strings.IndexAny(name, "*?[")
	if i < 0 {
		prefetchFile(b, name)
		return
	}
	dir := name[:strings.LastIndexByte(name[:i], '/')+1]
	pat, rest, more := strings.Cut(name[len(dir):], "/")
	entries, _ := b.ReadDir(strings.TrimSuffix(dir, "/"))
	var matches sync.WaitGroup
	n := 0
	for _, e := range entries {
		if ok, _ := path.Match(pat, e.Name()); !ok || n >= warmEntries || e.IsDir() != more || !more && !e.Type().IsRegular() {
			continue
		}
		n++
		if more {
			matches.Go(func() { warmMatches(b, dir+e.Name()+"/"+rest) })
		} else {
			matches.Go(func() { prefetchFile(b, dir+e.Name()) })
		}
	}
	matches.Wait()
}

// prefetchFile reads the start of the regular file name of b into the
// cache, when b can (an ext4 file over a prefetchSection).
func prefetchFile(b Backend, name string) {
	f, err := b.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	if p, ok := f.(interface{ Prefetch(n int64) }); ok {
		p.Prefetch(warmFileMax)
	}
}

// Settle waits until the read-ahead WithWarm started has ended, so that
// the read counters stop moving: a scan calls it before it reports them.
func (g *Guest) Settle() {
	if g.warm != nil {
		g.warm.Wait()
	}
}
