package fsinspect

import (
	"io"
	"io/fs"
	"syscall"
)

// runtimeDirs are where a running Linux system mounts its kernel and
// runtime filesystems (procfs, sysfs, devtmpfs, the /run tmpfs). Nothing
// in them is on the system's disk, and reading them can block or never
// end (/proc/kmsg, /dev/zero) or describe the host's running state.
var runtimeDirs = []string{"proc", "sys", "dev", "run"}

// NewLiveGuest returns the guest view of d, the root directory of a
// running system ("/" for `imgcheck scan --root /`): NewGuest with opts,
// and each of /proc, /sys, /dev and /run that is a directory reads as an
// empty one, as it does in an image. A link into them (/etc/mtab to
// /proc/self/mounts) then dangles instead of reading the host's state.
func NewLiveGuest(d *Dir, opts ...Option) *Guest {
	var mounts []Mount
	for _, name := range runtimeDirs {
		if fi, err := d.Lstat(name); err == nil && fi.IsDir() {
			mounts = append(mounts, Mount{Point: name, FS: emptyDir{fi}})
		}
	}
	return NewGuest(d, append([]Option{WithMounts(mounts...)}, opts...)...)
}

// emptyDir is a Backend holding only an empty root directory described
// by fi.
type emptyDir struct{ fi fs.FileInfo }

func (e emptyDir) check(op, name string) error {
	if name != "." {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

func (e emptyDir) Open(name string) (fs.File, error) {
	if err := e.check("open", name); err != nil {
		return nil, err
	}
	return &emptyDirFile{e.fi}, nil
}

func (e emptyDir) Lstat(name string) (fs.FileInfo, error) {
	if err := e.check("lstat", name); err != nil {
		return nil, err
	}
	return e.fi, nil
}

func (e emptyDir) ReadLink(name string) (string, error) {
	if err := e.check("readlink", name); err != nil {
		return "", err
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
}

func (e emptyDir) ReadDir(name string) ([]fs.DirEntry, error) {
	return nil, e.check("readdir", name)
}

// emptyDirFile is the open root of an emptyDir.
type emptyDirFile struct{ fi fs.FileInfo }

func (f *emptyDirFile) Stat() (fs.FileInfo, error) { return f.fi, nil }
func (f *emptyDirFile) Close() error               { return nil }

func (f *emptyDirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: syscall.EISDIR}
}

func (f *emptyDirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if n > 0 {
		return nil, io.EOF
	}
	return nil, nil
}
