package inodefs

import (
	"io"
	"io/fs"
	"sync"
	"syscall"
)

// dirEntry is an entry returned by ReadDir; Info reads its inode.
type dirEntry[I Inode] struct {
	tree Tree[I]
	name string
	ino  uint64
	typ  fs.FileMode
}

func (d *dirEntry[I]) Name() string      { return d.name }
func (d *dirEntry[I]) IsDir() bool       { return d.typ.IsDir() }
func (d *dirEntry[I]) Type() fs.FileMode { return d.typ }
func (d *dirEntry[I]) String() string    { return fs.FormatDirEntry(d) }

// Info reads the entry's inode. It fails with the reader's ErrCorrupt if
// the inode's type differs from the type recorded in the directory.
func (d *dirEntry[I]) Info() (fs.FileInfo, error) {
	in, err := d.tree.Inode(d.ino)
	if err != nil {
		return nil, err
	}
	if in.Mode().Type() != d.typ {
		return nil, d.tree.Corruptf("directory entry %q has type %v, inode %d has mode 0%o", d.name, d.typ, in.Number(), in.Mode())
	}
	return in.Info(d.name), nil
}

// dirFile is an open directory.
type dirFile[I Inode] struct {
	tree   Tree[I]
	name   string
	in     I
	info   fs.FileInfo
	mu     sync.Mutex
	ents   []fs.DirEntry // nil until the first ReadDir
	pos    int
	closed bool
}

func (d *dirFile[I]) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile[I]) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}

func (d *dirFile[I]) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir returns the next n entries, or all remaining ones if n <= 0,
// as fs.ReadDirFile specifies.
func (d *dirFile[I]) ReadDir(n int) ([]fs.DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if d.ents == nil {
		ents, err := readDir(d.tree, d.in)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
		}
		d.ents = ents
	}
	rest := d.ents[d.pos:]
	if n <= 0 {
		d.pos = len(d.ents)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.pos += n
	return rest[:n:n], nil
}

// specialFile is an open symlink, device, FIFO or socket: it can be
// Stat'ed but not read.
type specialFile struct {
	name string
	info fs.FileInfo
}

func (s *specialFile) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *specialFile) Close() error               { return nil }
func (s *specialFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: s.name, Err: fs.ErrInvalid}
}
