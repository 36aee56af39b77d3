package fsinspect

import (
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/imgcheck/imgcheck/image"
)

// fstabCap is the read cap for /etc/fstab.
const fstabCap = 1 << 20

// faultPoints are the mount points whose fstab entry, if unreadable, must
// make rules report ERROR.
var faultPoints = []string{"var", "home", "root", "tmp"}

// ErrNoFilesystem is why a mount faults when fstab names a filesystem the
// image lacks (a *MountError wraps it). It deliberately does not wrap
// fs.ErrNotExist: the mount point's contents are unknown, not absent.
var ErrNoFilesystem = errors.New("no such filesystem in the image")

// pseudoTypes are fstab types that hold no data from the image.
var pseudoTypes = map[string]bool{
	"proc": true, "sysfs": true, "devpts": true, "devtmpfs": true, "tmpfs": true, "ramfs": true,
	"cgroup": true, "cgroup2": true, "securityfs": true, "debugfs": true, "efivarfs": true,
	"hugetlbfs": true, "mqueue": true, "binfmt_misc": true, "configfs": true, "fusectl": true,
	"nfs": true, "nfs4": true, "cifs": true, "9p": true, "virtiofs": true, "fuse": true,
}

// OpenImage assembles the guest held by img: it reads the partition
// table, identifies what each partition holds, opens every filesystem of
// a type in fsTypes through one block cache, finds the root (the
// filesystem holding os-release, else one that looks like a Linux root:
// findRoot), and attaches the others where its /etc/fstab says. An fstab
// entry whose filesystem is absent, unsupported or unreadable becomes a
// mount that faults everything below it. When no root is found the error
// says what each partition holds, and the Layout is still returned
// (without a Guest) so disk facts can be reported. WithTableLimits,
// WithCacheSize and WithDirEntries bound the reading of the image, and
// WithMaxHops every lookup, fstab's included; the options apply to the
// returned Guest after the fstab mounts.
func OpenImage(img *image.Image, opts ...Option) (*Guest, *Layout, error) {
	s := optionSettings(opts)
	l := &Layout{Root: -1}
	t, err := image.ReadTableLimits(img, img.Size(), s.table)
	if err != nil {
		return nil, l, err
	}
	l.Table = t
	l.Notes = append(l.Notes, t.Notes...)
	cache := NewCache(img, img.Size(), s.cacheSize)
	sniff := int64(CacheBlockSize) // the magic numbers
	if s.readAhead {
		sniff = sniffSpan
	}
	starts := make([]span, len(t.Partitions))
	for i, p := range t.Partitions {
		starts[i] = span{p.Start, min(p.Size, sniff)}
	}
	cache.prefetch(starts)
	backends := make([]Backend, len(t.Partitions))
	var warming sync.WaitGroup
	for i := range t.Partitions {
		fi, b := openPartition(&t.Partitions[i], cache, s)
		if b != nil && (s.warm != nil || s.warmFiles != nil) {
			cache.warmInodes(&warming, b, t.Partitions[i].Start)
			warm(&warming, b, s.warm)
			warmFiles(&warming, b, s.warmFiles)
		}
		l.Filesystems = append(l.Filesystems, fi)
		backends[i] = b
	}
	backends = l.openVolumes(cache, backends, s)
	root := l.findRoot(backends, s.maxHops)
	if root == nil {
		warming.Wait()
		return nil, l, noRootError(l)
	}
	g := NewGuest(root, WithMaxHops(s.maxHops))
	g.warm = &warming
	g.stats = func() Stats {
		rs, cs := img.Stats(), cache.Stats()
		return Stats{BytesRead: rs.BytesRead, ReadCalls: rs.ReadCalls, CacheHits: cs.Hits, CacheMisses: cs.Misses}
	}
	l.mountFstab(g, backends)
	l.TmpIsTmpfs = l.TmpIsTmpfs || tmpMountEnabled(g)
	for _, o := range opts {
		o(g)
	}
	return g, l, nil
}

// openPartition sniffs one partition and opens it if it holds a
// filesystem of fsTypes, read with the bounds of s. The Backend is nil
// when it cannot be read.
func openPartition(p *image.Partition, cache *Cache, s settings) (FSInfo, Backend) {
	size := min(p.Size, max(cache.Size()-p.Start, 0))
	var r io.ReaderAt = io.NewSectionReader(cache, p.Start, size)
	if s.readAhead {
		r = &prefetchSection{r.(*io.SectionReader), cache, p.Start, size}
	}
	return openFS(FSInfo{Partition: p.Index, Offset: p.Start, Size: p.Size}, r, size, s)
}

// openFS sniffs the size bytes of r, a partition or logical volume that
// fi describes, and opens them if they hold a filesystem of fsTypes.
func openFS(fi FSInfo, r io.ReaderAt, size int64, s settings) (FSInfo, Backend) {
	fi.Type = sniff(r, size)
	if fi.Type == "" {
		// Sniff cannot tell a read fault from an unknown filesystem:
		// the first blocks must at least be readable.
		if _, err := r.ReadAt(make([]byte, min(size, 2048)), 0); err != nil && !errors.Is(err, io.EOF) {
			fi.Err = err.Error()
		}
	}
	t := lookupType(fi.Type)
	if t == nil {
		return fi, nil
	}
	b, facts, err := t.open(r, size, s)
	if err != nil {
		fi.Err = err.Error()
		return fi, nil
	}
	fi.Type, fi.UUID, fi.Label, fi.Facts = facts.Type, facts.UUID, facts.Label, facts
	return fi, b
}

// mountFstab reads the root's /etc/fstab and attaches what it names.
func (l *Layout) mountFstab(g *Guest, backends []Backend) {
	data, err := g.ReadFileLimit("etc/fstab", fstabCap)
	if err == nil {
		l.Fstab, err = ParseFstab(data)
	}
	switch {
	case err != nil && IsFact(err):
		l.Notes = append(l.Notes, "no /etc/fstab: only the root filesystem is attached")
		return
	case err != nil:
		// Whether /var and the rest are separate is unknown: fail closed.
		l.Notes = append(l.Notes, fmt.Sprintf("/etc/fstab unreadable (%v): /%s fault", err, strings.Join(faultPoints, ", /")))
		for _, p := range faultPoints {
			l.attach(g, p, "/etc/fstab", -1, err, nil)
		}
		return
	}
	for _, e := range l.Fstab {
		l.mountEntry(g, e, backends)
	}
}

// mountEntry attaches one fstab entry.
func (l *Layout) mountEntry(g *Guest, e FstabEntry, backends []Backend) {
	point := path.Clean("/" + e.File)
	switch {
	case e.Type == "swap" || e.File == "none" || e.File == "swap":
		return
	case point == "/":
		if i := l.match(e.Spec); i >= 0 && i != l.Root {
			l.Notes = append(l.Notes, fmt.Sprintf("fstab mounts %s at /, but %s is the root", l.Filesystems[i].Name(), l.Filesystems[l.Root].Name()))
		}
		return
	case e.Type == "tmpfs" && point == "/tmp":
		l.TmpIsTmpfs = true
		return
	case pseudoTypes[e.Type]:
		return
	case e.HasOption("bind"):
		l.Notes = append(l.Notes, fmt.Sprintf("fstab bind mount %s on %s not attached", e.Spec, point))
		return
	}
	i := l.match(e.Spec)
	var why error
	switch {
	case i < 0 && e.HasOption("noauto"):
		l.Notes = append(l.Notes, fmt.Sprintf("fstab %s on %s (noauto): not in the image, not attached", e.Spec, point))
		return
	case i < 0:
		why = l.noMatch()
		l.Notes = append(l.Notes, fmt.Sprintf("fstab %s on %s: %v; reads below %s fail", e.Spec, point, why, point))
	case i == l.Root:
		l.Notes = append(l.Notes, fmt.Sprintf("fstab mounts the root filesystem again on %s; not attached", point))
		return
	case backends[i] == nil:
		why = errors.New(l.Filesystems[i].describe())
		l.Notes = append(l.Notes, fmt.Sprintf("fstab %s on %s: %v; reads below %s fail", e.Spec, point, why, point))
	}
	// mount(8) resolves the mount point, so a /var that is a link to
	// /srv/var mounts on /srv/var.
	at := strings.TrimPrefix(point, "/")
	if p, err := g.Resolve(at); err == nil {
		at = p
	}
	if why != nil {
		l.attach(g, at, e.Spec, -1, why, nil)
		return
	}
	l.attach(g, at, e.Spec, i, nil, backends[i])
	if l.Filesystems[i].MountPoint == "" {
		l.Filesystems[i].MountPoint = point
	}
}

// attach mounts b at the link-free guest path at, or, when why is set, a
// backend that fails with a MountError, and records it in Mounts.
func (l *Layout) attach(g *Guest, at, spec string, fsIndex int, why error, b Backend) {
	mi := MountInfo{Point: "/" + at, Spec: spec, FS: fsIndex}
	if why != nil {
		b = FaultBackend(&MountError{Point: mi.Point, Spec: spec, Err: why})
		mi.Err = why.Error()
	}
	g.Mount(at, b)
	l.Mounts = append(l.Mounts, mi)
}

// noMatch is why an fstab source that matches no filesystem cannot be
// attached: ErrNoFilesystem, unless a filesystem of a type imgcheck reads
// could not be opened, which may be the one it names.
func (l *Layout) noMatch() error {
	var unreadable []string
	for _, fi := range l.Filesystems {
		if fi.Err != "" && lookupType(fi.Type) != nil {
			unreadable = append(unreadable, fi.describe())
		}
	}
	if len(unreadable) == 0 {
		return ErrNoFilesystem
	}
	return fmt.Errorf("no readable filesystem matches it, and %s", strings.Join(unreadable, "; "))
}

// match returns the index in Filesystems of the fstab source spec, or -1.
func (l *Layout) match(spec string) int {
	k := parseSpec(spec)
	for i, fi := range l.Filesystems {
		if fi.LV != "" {
			if l.matchVolume(fi, k) {
				return i
			}
			continue
		}
		p := l.Table.Partitions[i]
		var ok bool
		switch k.kind {
		case "UUID":
			ok = fi.UUID != "" && strings.EqualFold(fi.UUID, k.value)
		case "LABEL":
			ok = fi.Label != "" && fi.Label == k.value
		case "PARTUUID":
			ok = p.UUID != "" && strings.EqualFold(p.UUID, k.value)
		case "PARTLABEL":
			ok = p.Name != "" && p.Name == k.value
		case "INDEX":
			ok = l.Table.Scheme != image.None && p.Index == k.index
		case "DISK":
			ok = l.Table.Scheme == image.None
		}
		if ok {
			return i
		}
	}
	return -1
}

// tmpMountEnabled reports whether systemd's tmp.mount is enabled and not
// masked, which puts a tmpfs on /tmp at boot.
func tmpMountEnabled(g *Guest) bool {
	if t, err := g.ReadLink("etc/systemd/system/tmp.mount"); err == nil && t == "/dev/null" {
		return false
	}
	if fi, err := g.Stat("etc/systemd/system/tmp.mount"); err == nil && fi.Size() == 0 {
		return false
	}
	// The unit directories are looked in at once: on an image read over
	// the network their round trips overlap.
	dirs := []string{"etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"}
	wanted := make([]bool, len(dirs))
	var wg sync.WaitGroup
	for i, dir := range dirs {
		wg.Go(func() {
			_, err := g.Lstat(dir + "/local-fs.target.wants/tmp.mount")
			wanted[i] = err == nil
		})
	}
	wg.Wait()
	return slices.Contains(wanted, true)
}
