package fsinspect

import (
	"fmt"
	"io"
	"io/fs"
	"sync"
	"syscall"
)

// errIsDir is returned when a directory is read as a file. It is a fault
// for IsFact, like any error it does not list.
var errIsDir error = syscall.EISDIR

// file is an open guest file: its Stat has the caller's name and a *Stat,
// and its reads stop at the Guest's read cap and context.
type file struct {
	fs.File
	name string
	g    *Guest
	mu   sync.Mutex
	read int64 // bytes delivered so far
}

// Prefetch fetches the first n bytes of the file at once, when its
// filesystem can (an ext4 file of an image read over the network, see
// WithReadAhead); otherwise it does nothing. A reader that will stream a
// file calls it after Open: its first reads then cost one round trip
// together instead of one each.
func (f *file) Prefetch(n int64) {
	if p, ok := f.File.(interface{ Prefetch(n int64) }); ok {
		p.Prefetch(n)
	}
}

// Read reads from the file, failing once the Guest's context is done or
// more than its read cap (WithMaxFileRead) would be delivered.
func (f *file) Read(p []byte) (int, error) {
	return f.capped(p, func(p []byte) (int, error) { return f.File.Read(p) })
}

// capped runs read on at most one byte more than the cap leaves, and
// turns that byte into the cap error: a file exactly at the cap still
// reads to its end.
func (f *file) capped(p []byte, read func([]byte) (int, error)) (int, error) {
	if err := f.g.ctxErr(); err != nil {
		return 0, err
	}
	f.mu.Lock()
	left := f.g.set.maxRead - f.read
	f.mu.Unlock()
	if int64(len(p)) > left+1 {
		p = p[:left+1]
	}
	n, err := read(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.read += int64(n); f.read > f.g.set.maxRead {
		n -= int(f.read - f.g.set.maxRead)
		f.read = f.g.set.maxRead
		return max(n, 0), fmt.Errorf("%w: %s: read cap of %d bytes reached (the file-read limit)", ErrTooLarge, f.name, f.g.set.maxRead)
	}
	return n, err
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
func (f *seekFile) ReadAt(p []byte, off int64) (int, error) {
	return f.capped(p, func(p []byte) (int, error) { return f.rs.ReadAt(p, off) })
}

// dirFile is an open guest directory.
type dirFile struct {
	file
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
	if d, ok := f.(fs.ReadDirFile); ok {
		return &dirFile{file: file{File: f, name: name, g: g}, p: p, d: d}
	}
	if rs, ok := f.(interface {
		io.ReadSeeker
		io.ReaderAt
	}); ok {
		return &seekFile{file: file{File: f, name: name, g: g}, rs: rs}
	}
	return &file{File: f, name: name, g: g}
}
