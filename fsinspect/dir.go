package fsinspect

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
)

// Dir is a Backend over a host directory, such as an unpacked image or "/"
// on a live Droplet. It is built on os.Root, so no name can reach outside
// the directory, and it never follows a symlink itself: Lstat and ReadLink
// report links, and Open refuses a final symlink. A Guest over a Dir gives
// the directory chroot semantics. Dir never writes.
// Devices, FIFOs and sockets are refused before they are opened.
type Dir struct {
	root *os.Root
}

var _ Backend = (*Dir)(nil)

// errNotRegular is returned when opening a device, FIFO or socket, which
// could block or never end.
var errNotRegular = errors.New("not a regular file or directory")

// OpenDir opens the host directory root as a Backend.
func OpenDir(root string) (*Dir, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Open opens the named regular file or directory for reading. A final
// symlink, a device, a FIFO or a socket is refused; a device is never
// opened, since opening one can act (a watchdog, a tape).
func (d *Dir) Open(name string) (fs.File, error) {
	if !validName(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	li, err := d.root.Lstat(name)
	if err != nil {
		return nil, dirErr("open", name, err)
	}
	if !li.Mode().IsRegular() && !li.IsDir() && li.Mode()&fs.ModeSymlink == 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	f, err := d.root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, dirErr("open", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, dirErr("open", name, err)
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	if fi.IsDir() {
		return f, nil
	}
	return regularFile{f}, nil
}

// Lstat returns the FileInfo of name without following a final symlink.
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	if !validName(name) {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrInvalid}
	}
	fi, err := d.root.Lstat(name)
	return fi, dirErr("lstat", name, err)
}

// ReadLink returns the target of the symlink name.
func (d *Dir) ReadLink(name string) (string, error) {
	if !validName(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	t, err := d.root.Readlink(name)
	return t, dirErr("readlink", name, err)
}

// ReadDir returns the entries of the directory name sorted by name.
func (d *Dir) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	defer f.Close()
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	ents, err := rd.ReadDir(-1)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, nil
}

// regularFile is an open regular file of a Dir. Unlike *os.File it is not
// an fs.ReadDirFile, so the Guest can tell files from directories by type.
type regularFile struct{ f *os.File }

func (r regularFile) Stat() (fs.FileInfo, error)                { return r.f.Stat() }
func (r regularFile) Read(p []byte) (int, error)                { return r.f.Read(p) }
func (r regularFile) ReadAt(p []byte, off int64) (int, error)   { return r.f.ReadAt(p, off) }
func (r regularFile) Seek(off int64, whence int) (int64, error) { return r.f.Seek(off, whence) }
func (r regularFile) Close() error                              { return r.f.Close() }

// dirErr reports err for name, keeping a nil error nil. ELOOP from a
// refused final symlink is kept as is; os.Root's "path escapes" errors
// cannot happen for link-free names.
func dirErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return pathErr(op, name, err)
}
