package xfs

import (
	"io/fs"
	"path"
	"syscall"
)

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
)

// maxReadFile bounds ReadFile, which must hold the whole file in memory;
// read larger (often sparse) files through Open.
const maxReadFile = 1 << 30

// Open opens the named file, directory, symlink or special file. The
// file of a symlink reports ModeSymlink and cannot be read; that of a
// directory implements fs.ReadDirFile.
func (fsys *FS) Open(name string) (fs.File, error) {
	in, err := fsys.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := newFileInfo(path.Base(name), in)
	switch {
	case in.isReg():
		return &regFile{fsys: fsys, name: name, in: in, info: info}, nil
	case in.isDir():
		return &dirFile{fsys: fsys, name: name, in: in, info: info}, nil
	}
	return &specialFile{name: name, info: info}, nil
}

// Stat returns the FileInfo of the named file. It does not follow a final
// symlink: Stat is Lstat.
func (fsys *FS) Stat(name string) (fs.FileInfo, error) {
	return fsys.stat("stat", name)
}

// Lstat returns the FileInfo of the named file without following a
// final symlink.
func (fsys *FS) Lstat(name string) (fs.FileInfo, error) {
	return fsys.stat("lstat", name)
}

func (fsys *FS) stat(op, name string) (fs.FileInfo, error) {
	in, err := fsys.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return newFileInfo(path.Base(name), in), nil
}

// ReadLink returns the target of the named symlink.
func (fsys *FS) ReadLink(name string) (string, error) {
	in, err := fsys.lookup(name)
	if err == nil {
		var t []byte
		t, err = fsys.linkTarget(in)
		if err == nil {
			return string(t), nil
		}
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
}

// ReadDir returns the entries of the named directory sorted by name,
// without "." and "..".
func (fsys *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	in, err := fsys.lookup(name)
	if err == nil {
		var ents []fs.DirEntry
		if ents, err = fsys.readDir(in); err == nil {
			return ents, nil
		}
	}
	return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
}

// readDir returns the entries of directory in as fs.DirEntry values.
func (fsys *FS) readDir(in *inode) ([]fs.DirEntry, error) {
	if !in.isDir() {
		return nil, syscall.ENOTDIR
	}
	d, err := fsys.dir(in)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(d.ents))
	for i, e := range d.ents {
		t, ok := direntType(e.typ)
		if !ok {
			if e.typ != 0 {
				return nil, corruptf("inode %d: directory entry %q has type %d", in.ino, e.name, e.typ)
			}
			c, err := fsys.inode(e.ino)
			if err != nil {
				return nil, err
			}
			t = modeType(c.mode)
		}
		out[i] = &dirEntry{fsys: fsys, e: e, typ: t}
	}
	return out, nil
}

// ReadFile returns the contents of the named regular file. Files larger
// than 1 GiB are refused; read them through Open.
func (fsys *FS) ReadFile(name string) ([]byte, error) {
	in, err := fsys.lookup(name)
	if err == nil {
		var b []byte
		if b, err = fsys.readFile(in); err == nil {
			return b, nil
		}
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: err}
}

func (fsys *FS) readFile(in *inode) ([]byte, error) {
	switch {
	case in.isDir():
		return nil, syscall.EISDIR
	case !in.isReg():
		return nil, fs.ErrInvalid
	case in.size > maxReadFile:
		return nil, unsupportedf("inode %d: file of %d bytes is too large for ReadFile", in.ino, in.size)
	}
	b := make([]byte, in.size)
	if n, err := fsys.readData(in, b, 0); n < len(b) {
		return nil, err
	}
	return b, nil
}
