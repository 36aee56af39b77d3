// Package fsinspect is the read-only view of a guest filesystem: an io/fs
// tree rooted at the guest's "/", with every symlink resolved inside the
// guest, other filesystems attached where /etc/fstab puts them, a bounded
// block cache and read counters. It knows nothing about Marketplace rules.
//
// OpenImage assembles a Guest from a disk image (the root is the
// filesystem holding os-release, else one that looks like a Linux root;
// /etc/fstab attaches the rest), reading each filesystem type through its
// entry in one table (fsTypes); OpenDir and NewGuest give the same view
// of a host directory, and NewLiveGuest of a running system's "/" (its
// /proc, /sys, /dev and /run read as empty, as in an image). IsFact tells guest facts (missing files, loops) from image
// faults, which rules must report as errors.
package fsinspect

import (
	"errors"
	"io/fs"
	"time"
)

// Backend is the minimal core a filesystem implements. It answers only for
// names that contain no symlink in any directory component: the Guest
// resolves links before it calls the backend. Lstat and ReadLink never
// follow a final symlink. fstest.MapFS satisfies Backend.
type Backend interface {
	fs.ReadLinkFS
	fs.ReadDirFS
}

// Stat is the owner, identity and times of a guest file. FileInfo.Sys() of
// every FileInfo returned by a Guest is a *Stat.
type Stat struct {
	Uid, Gid     uint32
	Ino          uint64
	Nlink        uint64
	Atime, Ctime time.Time
	Mtime        time.Time
	Btime        time.Time // zero when unknown
}

// Errors that are guest facts, not image faults.
var (
	// ErrLoop: more than 40 symlink hops (WithMaxHops) while resolving a
	// name (ELOOP).
	ErrLoop = errors.New("too many levels of symbolic links")
	// ErrTooLarge: a file is larger than the caller's read cap. It is a
	// fault for rules (never silently truncated).
	ErrTooLarge = errors.New("file exceeds read cap")
	// ErrTooManyComponents: one lookup visited more path components,
	// symlink targets included, than WithMaxComponents allows. It is a
	// fault: no real guest needs it, a hostile one uses it to make every
	// lookup slow.
	ErrTooManyComponents = errors.New("lookup visits too many path components")
)
