package fsinspect

import (
	"io"
	"io/fs"
	"syscall"
)

// errIsDir is returned when a directory is read as a file. It is a fault
// for IsFact, like any error it does not list.
var errIsDir error = syscall.EISDIR

// file is an open guest file: its Stat has the caller's name and a *Stat.
type file struct {
	fs.File
	name string
}

func (f *file) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return newInfo(fi, f.name), nil
}

// seekFile is a file whose backend supports Seek and ReadAt.
type seekFile struct {
	file
	rs interface {
		io.ReadSeeker
		io.ReaderAt
	}
}

func (f *seekFile) Seek(off int64, whence int) (int64, error) { return f.rs.Seek(off, whence) }
func (f *seekFile) ReadAt(p []byte, off int64) (int, error)   { return f.rs.ReadAt(p, off) }

// dirFile is an open guest directory.
type dirFile struct {
	file
	g *Guest
	p string // link-free guest path
	d fs.ReadDirFile
}

// ReadDir returns entries as fs.ReadDirFile does, each with a *Stat.
func (f *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	ents, err := f.d.ReadDir(n)
	for i, e := range ents {
		ents[i] = f.g.entry(f.p, e)
	}
	return ents, err
}

// wrapFile wraps a backend file opened at the link-free path p for the
// caller's base name.
func (g *Guest) wrapFile(f fs.File, p, name string) fs.File {
	base := file{File: f, name: name}
	if d, ok := f.(fs.ReadDirFile); ok {
		return &dirFile{file: base, g: g, p: p, d: d}
	}
	if rs, ok := f.(interface {
		io.ReadSeeker
		io.ReaderAt
	}); ok {
		return &seekFile{file: base, rs: rs}
	}
	return &base
}
