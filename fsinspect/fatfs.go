package fsinspect

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect/fat"
	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// maxFATFile bounds the file an open FAT file holds in memory: an EFI
// System Partition's loaders and configuration are a few MiB.
const maxFATFile = 64 << 20

// fatFS is a FAT filesystem (an EFI System Partition that fstab mounts on
// /boot/efi) as a Backend: directories, files and their sizes. FAT has no
// owners, modes, links or reliable times: everything is root's, with the
// modes of a vfat mount with umask=0022, and ModTime is zero.
type fatFS struct{ f *fat.FS }

// openFAT opens a FAT filesystem.
func openFAT(r io.ReaderAt, size int64, _ settings) (Backend, *FSFacts, error) {
	f, err := fat.New(r, size)
	if err != nil {
		return nil, nil, err
	}
	return fatFS{f}, &FSFacts{Type: "vfat", UUID: f.VolumeID(), Label: f.Label(), Size: f.Size(), Clean: true,
		Detail: []Detail{{"fat", f.Type()}}}, nil
}

// fatStat is the Stat of every FAT file.
func fatStat(sys any) (*Stat, bool) {
	s, ok := sys.(*Stat)
	return s, ok
}

func (fsys fatFS) entry(op, name string) (fat.Entry, error) {
	if !fs.ValidPath(name) {
		return fat.Entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	e, err := fsys.f.Stat(name)
	if err != nil {
		return fat.Entry{}, &fs.PathError{Op: op, Path: name, Err: unwrapPath(err)}
	}
	return e, nil
}

// unwrapPath drops the fat package's own PathError, so that the one
// returned names the path as the caller gave it.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func (fsys fatFS) Open(name string) (fs.File, error) {
	e, err := fsys.entry("open", name)
	if err != nil {
		return nil, err
	}
	info := fatInfo(e, path.Base(name))
	if e.Dir {
		ents, err := fsys.list("open", name, e)
		if err != nil {
			return nil, err
		}
		return &fatDir{info: info, ents: ents}, nil
	}
	data, err := fsys.f.ReadFile(e, maxFATFile)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &fatFile{info: info, Reader: bytes.NewReader(data)}, nil
}

func (fsys fatFS) ReadDir(name string) ([]fs.DirEntry, error) {
	d, err := fsys.entry("readdir", name)
	if err != nil {
		return nil, err
	}
	return fsys.list("readdir", name, d)
}

// list returns the entries of the directory d, called name, sorted by
// name as fs.ReadDirFS requires.
func (fsys fatFS) list(op, name string, d fat.Entry) ([]fs.DirEntry, error) {
	ents, err := fsys.f.List(d)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = fs.FileInfoToDirEntry(fatInfo(e, e.Name))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (fsys fatFS) Stat(name string) (fs.FileInfo, error) {
	e, err := fsys.entry("stat", name)
	if err != nil {
		return nil, err
	}
	return fatInfo(e, path.Base(name)), nil
}

func (fsys fatFS) Lstat(name string) (fs.FileInfo, error) { return fsys.Stat(name) }

// ReadLink fails: FAT has no symbolic links.
func (fsys fatFS) ReadLink(name string) (string, error) {
	if _, err := fsys.entry("readlink", name); err != nil {
		return "", err
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
}

// fatInfo is the FileInfo of the FAT entry e called name.
func fatInfo(e fat.Entry, name string) fs.FileInfo {
	mode := inodefs.Mode(0o100755)
	if e.Dir {
		mode = 0o040755
	}
	return inodefs.NewFileInfo(name, e.Size, mode, time.Time{}, Stat{})
}

// fatFile is an open FAT file, read whole into memory.
type fatFile struct {
	info fs.FileInfo
	*bytes.Reader
}

func (f *fatFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *fatFile) Close() error               { return nil }

// fatDir is an open FAT directory.
type fatDir struct {
	info fs.FileInfo
	ents []fs.DirEntry
	off  int
}

func (d *fatDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *fatDir) Close() error               { return nil }
func (d *fatDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: fs.ErrInvalid}
}

// ReadDir returns the next n entries, as fs.ReadDirFile does.
func (d *fatDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.off:]
	if n <= 0 {
		d.off = len(d.ents)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return rest, nil
}
