package inodefs

import (
	"io/fs"
	"path"
	"syscall"
)

// maxReadFile bounds ReadFile, which must hold the whole file in memory;
// larger (often sparse) files are read through Open.
const maxReadFile = 1 << 30

// An Inode is a reader's decoded inode, as the fs.FS methods see it.
type Inode interface {
	Number() uint64
	Mode() Mode
	Size() int64
	// Info returns the inode's FileInfo under name.
	Info(name string) fs.FileInfo
}

// A Tree is a filesystem reader as the fs.FS methods of this package
// need it; I is its inode type. The errors it returns about the image
// wrap the reader's own ErrCorrupt and ErrUnsupported.
type Tree[I Inode] interface {
	// Lookup returns the inode called name, a valid fs path, without
	// following a symlink in any component.
	Lookup(name string) (I, error)
	// Inode returns inode number ino.
	Inode(ino uint64) (I, error)
	// Dir returns the parsed directory dir.
	Dir(dir I) (*Dir, error)
	// LinkTarget returns the target of the symlink link.
	LinkTarget(link I) ([]byte, error)
	// Data returns the contents of the regular file f for one open
	// file, and an error if they cannot be read: such a file opens, but
	// every read fails with it.
	Data(f I) (Data, error)
	// Corruptf and Unsupportedf return errors wrapping the reader's
	// ErrCorrupt and ErrUnsupported with a formatted detail.
	Corruptf(format string, args ...any) error
	Unsupportedf(format string, args ...any) error
}

// Open implements fs.FS.Open over t: the file of a symlink reports
// ModeSymlink and cannot be read; that of a directory implements
// fs.ReadDirFile.
func Open[I Inode](t Tree[I], name string) (fs.File, error) {
	in, err := t.Lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := in.Info(path.Base(name))
	switch m := in.Mode(); {
	case m.IsRegular():
		data, err := t.Data(in)
		return newFile(name, info, in.Size(), data, err), nil
	case m.IsDir():
		return &dirFile[I]{tree: t, name: name, in: in, info: info}, nil
	}
	return &specialFile{name: name, info: info}, nil
}

// Stat returns the FileInfo of the named file without following a final
// symlink; op names the operation in its errors ("stat", "lstat").
func Stat[I Inode](t Tree[I], op, name string) (fs.FileInfo, error) {
	in, err := t.Lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return in.Info(path.Base(name)), nil
}

// ReadLink implements fs.ReadLinkFS.ReadLink over t.
func ReadLink[I Inode](t Tree[I], name string) (string, error) {
	in, err := t.Lookup(name)
	if err == nil {
		var target []byte
		if target, err = t.LinkTarget(in); err == nil {
			return string(target), nil
		}
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
}

// ReadDir implements fs.ReadDirFS.ReadDir over t: the entries are sorted
// by name, without "." and "..".
func ReadDir[I Inode](t Tree[I], name string) ([]fs.DirEntry, error) {
	in, err := t.Lookup(name)
	if err == nil {
		var ents []fs.DirEntry
		if ents, err = readDir(t, in); err == nil {
			return ents, nil
		}
	}
	return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
}

// ReadFile implements fs.ReadFileFS.ReadFile over t. Files larger than
// maxReadFile are refused.
func ReadFile[I Inode](t Tree[I], name string) ([]byte, error) {
	in, err := t.Lookup(name)
	if err == nil {
		var b []byte
		if b, err = readFile(t, in); err == nil {
			return b, nil
		}
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: err}
}

func readFile[I Inode](t Tree[I], in I) ([]byte, error) {
	switch m := in.Mode(); {
	case m.IsDir():
		return nil, syscall.EISDIR
	case !m.IsRegular():
		return nil, fs.ErrInvalid
	}
	data, err := t.Data(in)
	switch {
	case err != nil:
		return nil, err
	case in.Size() > maxReadFile:
		return nil, t.Unsupportedf("inode %d: file of %d bytes is too large for ReadFile", in.Number(), in.Size())
	}
	b := make([]byte, in.Size())
	if n, err := readAt(data, in.Size(), b, 0); n < len(b) {
		return nil, err
	}
	return b, nil
}

// readDir returns the entries of the directory in as fs.DirEntry values.
// An entry that records no type gets that of its inode.
func readDir[I Inode](t Tree[I], in I) ([]fs.DirEntry, error) {
	if !in.Mode().IsDir() {
		return nil, syscall.ENOTDIR
	}
	d, err := t.Dir(in)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(d.ents))
	for i, e := range d.ents {
		typ, ok := entryType(e.Type)
		if !ok {
			if e.Type != 0 {
				return nil, t.Corruptf("inode %d: directory entry %q has type %d", in.Number(), e.Name, e.Type)
			}
			c, err := t.Inode(e.Ino)
			if err != nil {
				return nil, err
			}
			typ = c.Mode().Type()
		}
		out[i] = &dirEntry[I]{tree: t, name: e.Name, ino: e.Ino, typ: typ}
	}
	return out, nil
}

// CheckType reports an error if the directory entry e records a type
// other than that of its inode in.
func CheckType[I Inode](t Tree[I], in I, e Entry) error {
	if e.Type == 0 {
		return nil
	}
	typ, ok := entryType(e.Type)
	if !ok || typ != in.Mode().Type() {
		return t.Corruptf("directory entry %q has type %d, inode %d has mode 0%o", e.Name, e.Type, in.Number(), in.Mode())
	}
	return nil
}
