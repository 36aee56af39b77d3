package fsinspect

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// osReleaseFiles mark a root filesystem.
var osReleaseFiles = []string{"etc/os-release", "usr/lib/os-release"}

// Without os-release, a root has /etc with one of rootAccountFiles and one
// of rootMarkers: the evidence libguestfs's inspection uses.
var (
	rootAccountFiles = []string{"etc/fstab", "etc/passwd"}
	rootMarkers      = []string{"etc/lsb-release", "etc/debian_version", "etc/redhat-release",
		"etc/system-release", "sbin/init", "usr/lib/systemd/systemd"}
)

// findRoot picks the root filesystem among backends (nil where a
// partition could not be read) and marks it in l: the first that holds
// os-release; else one that looks like a Linux root, the one whose fstab mounts it at / when several do, else
// the first, with a note. It returns nil when no filesystem qualifies. A
// filesystem that faults while being looked at gets its Err set and a
// note.
func (l *Layout) findRoot(backends []Backend, maxHops int) Backend {
	fault := func(i int, looking string, err error) {
		l.Filesystems[i].Err = looking + ": " + err.Error()
		l.Notes = append(l.Notes, fmt.Sprintf("%s: %s", l.Filesystems[i].Name(), l.Filesystems[i].Err))
	}
	var withRelease []int
	for i, b := range backends {
		if b == nil {
			continue
		}
		ok, err := holdsAny(NewGuest(b, WithMaxHops(maxHops)), osReleaseFiles)
		switch {
		case err != nil:
			fault(i, "looking for os-release", err)
		case ok:
			withRelease = append(withRelease, i)
		}
	}
	if len(withRelease) > 0 {
		for _, i := range withRelease[1:] {
			l.Notes = append(l.Notes, fmt.Sprintf("%s also holds os-release; %s is the root", l.Filesystems[i].Name(), l.Filesystems[withRelease[0]].Name()))
		}
		return l.setRoot(withRelease[0], backends)
	}
	var candidates []int
	for i, b := range backends {
		if b == nil || l.Filesystems[i].Err != "" {
			continue
		}
		ok, err := looksLikeRoot(NewGuest(b, WithMaxHops(maxHops)))
		switch {
		case err != nil:
			fault(i, "looking for a Linux root", err)
		case ok:
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	root, why := candidates[0], "the first"
	if i := l.fstabRoot(candidates, backends, maxHops); i >= 0 {
		root, why = i, "its /etc/fstab mounts it at /"
	}
	if len(candidates) == 1 {
		l.Notes = append(l.Notes, fmt.Sprintf("no os-release; %s is the root: it looks like a Linux root (/etc with fstab or passwd, and a distribution marker or an init)", l.Filesystems[root].Name()))
	} else {
		var parts []string
		for _, i := range candidates {
			parts = append(parts, strings.TrimPrefix(l.Filesystems[i].Name(), "partition "))
		}
		l.Notes = append(l.Notes, fmt.Sprintf("no os-release; partitions %s look like Linux roots; %s is the root (%s)", strings.Join(parts, ", "), l.Filesystems[root].Name(), why))
	}
	return l.setRoot(root, backends)
}

// setRoot marks Filesystems[i] as the root mounted at / and returns its
// backend.
func (l *Layout) setRoot(i int, backends []Backend) Backend {
	l.Root = i
	l.Filesystems[i].Root = true
	l.Filesystems[i].MountPoint = "/"
	return backends[i]
}

// holdsAny reports whether any of names exists in g (a link counts: it
// may point into a separate /usr).
func holdsAny(g *Guest, names []string) (bool, error) {
	for _, name := range names {
		_, err := g.Lstat(name)
		if err == nil {
			return true, nil
		}
		if !IsFact(err) {
			return false, err
		}
	}
	return false, nil
}

// looksLikeRoot reports whether g, a filesystem without os-release, is a
// Linux root: a directory etc holding fstab or passwd, and a distribution
// marker or an init.
func looksLikeRoot(g *Guest) (bool, error) {
	fi, err := g.Stat("etc")
	switch {
	case err != nil && IsFact(err):
		return false, nil
	case err != nil:
		return false, err
	case !fi.IsDir():
		return false, nil
	}
	ok, err := holdsAny(g, rootAccountFiles)
	if err != nil || !ok {
		return false, err
	}
	return holdsAny(g, rootMarkers)
}

// fstabRoot returns the candidate that a candidate's /etc/fstab mounts at
// /, or -1. An unreadable fstab only leaves the choice to the order.
func (l *Layout) fstabRoot(candidates []int, backends []Backend, maxHops int) int {
	for _, i := range candidates {
		data, err := NewGuest(backends[i], WithMaxHops(maxHops)).ReadFileLimit("etc/fstab", fstabCap)
		if err != nil {
			continue
		}
		entries, err := ParseFstab(data)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if j := l.match(e.Spec); path.Clean("/"+e.File) == "/" && slices.Contains(candidates, j) {
				return j
			}
		}
	}
	return -1
}

// noRootError says what each partition holds.
func noRootError(l *Layout) error {
	var parts []string
	for _, fi := range l.Filesystems {
		parts = append(parts, fi.describe())
	}
	if len(parts) == 0 {
		return errors.New("no Linux root filesystem found (the partition table is empty)")
	}
	return fmt.Errorf("no Linux root filesystem found (%s)", strings.Join(parts, "; "))
}
