package fsinspect

import (
	"fmt"
	"io/fs"
)

// MountError is the fault of a filesystem that /etc/fstab attaches but
// that cannot be read: absent from the image, of an unsupported type, or
// corrupt. Every name below its mount point fails with it.
type MountError struct {
	Point string // guest mount point, e.g. "/var"
	Spec  string // fstab source, e.g. "UUID=…"
	Err   error
}

// Error says which mount point is unavailable and why.
func (e *MountError) Error() string {
	return fmt.Sprintf("filesystem for %s (%s) unavailable: %v", e.Point, e.Spec, e.Err)
}

// Unwrap returns the cause. IsFact still treats a MountError as a fault
// whatever its cause.
func (e *MountError) Unwrap() error { return e.Err }

// faultFS is a Backend that fails every call with err.
type faultFS struct{ err error }

// FaultBackend returns a Backend whose every call fails with err: mount it
// where a filesystem is missing so that rules reading below it report a
// fault, never a pass.
func FaultBackend(err error) Backend { return faultFS{err} }

func (f faultFS) fail(op, name string) error { return &fs.PathError{Op: op, Path: name, Err: f.err} }

func (f faultFS) Open(name string) (fs.File, error)          { return nil, f.fail("open", name) }
func (f faultFS) ReadDir(name string) ([]fs.DirEntry, error) { return nil, f.fail("readdir", name) }
func (f faultFS) ReadLink(name string) (string, error)       { return "", f.fail("readlink", name) }
func (f faultFS) Lstat(name string) (fs.FileInfo, error)     { return nil, f.fail("lstat", name) }
