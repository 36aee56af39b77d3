package fsinspect

import (
	"io/fs"
	"path"
	"reflect"
	"syscall"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect/ext4"
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
// *ext4.Stat, *syscall.Stat_t (the directory backend), and any other
// struct, or pointer to one, by its integer fields Uid, Gid, Ino, Nlink
// and time.Time fields Atime, Ctime, Mtime and Crtime or Btime (such as
// the fixtures' Meta in test trees). Anything else leaves the owner zero
// and the modification time from ModTime.
func statOf(fi fs.FileInfo) *Stat {
	switch s := fi.Sys().(type) {
	case *Stat:
		c := *s
		return &c
	case *ext4.Stat:
		return &Stat{Uid: s.Uid, Gid: s.Gid, Ino: s.Ino, Nlink: s.Nlink, Atime: s.Atime, Ctime: s.Ctime, Mtime: s.Mtime, Btime: s.Crtime}
	case *syscall.Stat_t:
		return &Stat{
			Uid: s.Uid, Gid: s.Gid, Ino: s.Ino, Nlink: uint64(s.Nlink),
			Atime: time.Unix(s.Atim.Unix()), Ctime: time.Unix(s.Ctim.Unix()), Mtime: time.Unix(s.Mtim.Unix()),
		}
	}
	st := &Stat{Mtime: fi.ModTime()}
	v := reflect.ValueOf(fi.Sys())
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return st
	}
	st.Uid = uint32(uintField(v, "Uid"))
	st.Gid = uint32(uintField(v, "Gid"))
	st.Ino = uintField(v, "Ino")
	st.Nlink = uintField(v, "Nlink")
	st.Atime = timeField(v, "Atime")
	st.Ctime = timeField(v, "Ctime")
	if t := timeField(v, "Mtime"); !t.IsZero() {
		st.Mtime = t
	}
	st.Btime = timeField(v, "Crtime")
	if st.Btime.IsZero() {
		st.Btime = timeField(v, "Btime")
	}
	return st
}

// uintField returns the named integer field of the struct v, or 0.
func uintField(v reflect.Value, name string) uint64 {
	f := v.FieldByName(name)
	switch {
	case !f.IsValid():
		return 0
	case f.CanUint():
		return f.Uint()
	case f.CanInt() && f.Int() >= 0:
		return uint64(f.Int())
	}
	return 0
}

// timeField returns the named time.Time field of the struct v, or zero.
func timeField(v reflect.Value, name string) time.Time {
	f := v.FieldByName(name)
	if !f.IsValid() || !f.CanInterface() {
		return time.Time{}
	}
	t, _ := f.Interface().(time.Time)
	return t
}
