package fsinspect

import (
	"io/fs"
	"path"
	"syscall"
)

// info is a FileInfo as the Guest returns it: the caller's name and a
// *Stat as Sys.
type info struct {
	fs.FileInfo
	name string
	st   *Stat
}

func (i *info) Name() string { return i.name }
func (i *info) Sys() any     { return i.st }

// newInfo wraps a backend FileInfo under name.
func newInfo(fi fs.FileInfo, name string) fs.FileInfo {
	return &info{FileInfo: fi, name: name, st: statOf(fi)}
}

// entry is a DirEntry whose Info has a *Stat. For a mount point it
// describes the root of the mounted filesystem.
type entry struct {
	fs.DirEntry
	g *Guest
	p string // link-free guest path of the entry
}

// entry wraps the backend entry e found in the link-free directory dir.
func (g *Guest) entry(dir string, e fs.DirEntry) fs.DirEntry {
	p := e.Name()
	if dir != "." {
		p = dir + "/" + p
	}
	return &entry{DirEntry: e, g: g, p: p}
}

func (e *entry) Type() fs.FileMode {
	if e.g.isMountPoint(e.p) {
		return fs.ModeDir
	}
	return e.DirEntry.Type()
}

func (e *entry) IsDir() bool { return e.Type().IsDir() }

func (e *entry) Info() (fs.FileInfo, error) {
	var (
		fi  fs.FileInfo
		err error
	)
	if e.g.isMountPoint(e.p) {
		fi, err = e.g.lstat(e.p)
	} else {
		fi, err = e.DirEntry.Info()
	}
	if err != nil {
		return nil, pathErr("lstat", e.p, err)
	}
	return newInfo(fi, path.Base(e.p)), nil
}

func (e *entry) String() string { return fs.FormatDirEntry(e) }

// statOf converts a backend's FileInfo.Sys to a *Stat. It knows *Stat,
// *syscall.Stat_t (the directory backend), the Stat of every reader in
// fsTypes, and any value with an Owner method (such as the fixtures' Meta
// in test trees). Anything else leaves the owner zero. The modification
// time is ModTime's unless the value says otherwise.
func statOf(fi fs.FileInfo) *Stat {
	switch s := fi.Sys().(type) {
	case *Stat:
		c := *s
		return &c
	case *syscall.Stat_t:
		return hostStat(s)
	case owner:
		uid, gid := s.Owner()
		return &Stat{Uid: uid, Gid: gid, Mtime: fi.ModTime()}
	}
	for _, t := range fsTypes {
		if st, ok := t.stat(fi.Sys()); ok {
			return st
		}
	}
	return &Stat{Mtime: fi.ModTime()}
}

// owner is a FileInfo.Sys value that knows only the file's owner.
type owner interface {
	Owner() (uid, gid uint32)
}
