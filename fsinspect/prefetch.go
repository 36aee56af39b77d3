package fsinspect

import "sync"

// sniffSpan is how much of the start of a partition is read ahead when the
// partition table is known: what sniffing reads (magic numbers up to
// 64 KiB and a little beyond) and, for ext4, the superblock and group
// descriptors that opening reads next.
const sniffSpan = 4 * CacheBlockSize

// A span is a byte range [Off, Off+Len) of the cached reader.
type span struct{ off, n int64 }

// prefetch reads the spans into the cache at once, one read per span, and
// waits for them. On an image read over the network their round trips
// overlap instead of adding up. Errors are left for the reads that need
// the data to report.
func (c *Cache) prefetch(spans []span) {
	var wg sync.WaitGroup
	for _, s := range spans {
		off, end := max(s.off, 0), min(s.off+s.n, c.size)
		if end <= off {
			continue
		}
		wg.Go(func() { c.block(off/CacheBlockSize, (end-1)/CacheBlockSize) })
	}
	wg.Wait()
}

// WarmDirs are the directories nearly every scan of a Linux image reads:
// accounts and sshd in /etc, logs, homes, the package databases.
var WarmDirs = []string{
	"etc", "etc/ssh", "etc/ssh/sshd_config.d", "etc/apt", "etc/apt/sources.list.d", "etc/cloud",
	"etc/systemd/system", "etc/update-motd.d", "home", "root", "tmp", "var/tmp", "var/log",
	"var/lib/dpkg", "var/lib/apt/lists", "var/lib/cloud", "usr/lib/os-release",
}

// warmEntries bounds the entries of one directory whose inodes Warm reads.
const warmEntries = 256

// Warm starts reading the directories names, the inodes on their way and
// those of their first entries into the guest's caches, all at once, and
// returns without waiting. It only saves time when reads are slow (an
// image read over the network): the rules that follow find the blocks
// cached or on their way instead of fetching them one lookup after
// another. Errors are ignored; the readers that need the data report
// them.
func (g *Guest) Warm(names ...string) {
	for _, name := range names {
		go func() {
			entries, _ := g.ReadDir(name)
			for _, e := range entries[:min(len(entries), warmEntries)] {
				e.Info()
			}
		}()
	}
}
