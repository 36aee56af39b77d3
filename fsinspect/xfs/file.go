package xfs

import (
	"io"
	"io/fs"
	"sync"
	"syscall"
	"time"
)

// fileInfo describes one inode under one name. It copies what it needs
// rather than keep the inode: a caller may hold many FileInfos, and an
// inode carries its data fork.
type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
	stat Stat
}

// newFileInfo returns the FileInfo of inode in called name.
func newFileInfo(name string, in *inode) *fileInfo {
	return &fileInfo{name: name, size: in.size, mode: in.fileMode(), stat: in.stat}
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.stat.Mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }

// Sys returns a *Stat.
func (fi *fileInfo) Sys() any       { return &fi.stat }
func (fi *fileInfo) String() string { return fs.FormatFileInfo(fi) }

// dirEntry is an entry returned by ReadDir; Info reads its inode.
type dirEntry struct {
	fsys *FS
	e    dirent
	typ  fs.FileMode
}

func (d *dirEntry) Name() string      { return d.e.name }
func (d *dirEntry) IsDir() bool       { return d.typ.IsDir() }
func (d *dirEntry) Type() fs.FileMode { return d.typ }
func (d *dirEntry) String() string    { return fs.FormatDirEntry(d) }

// Info reads the entry's inode. It fails with ErrCorrupt if the inode's
// type differs from the type recorded in the directory.
func (d *dirEntry) Info() (fs.FileInfo, error) {
	in, err := d.fsys.inode(d.e.ino)
	if err != nil {
		return nil, err
	}
	if modeType(in.mode) != d.typ {
		return nil, corruptf("directory entry %q has type %v, inode %d has mode 0%o", d.e.name, d.typ, in.ino, in.mode)
	}
	return newFileInfo(d.e.name, in), nil
}

// regFile is an open regular file.
type regFile struct {
	fsys   *FS
	name   string
	in     *inode
	info   *fileInfo
	mu     sync.Mutex
	off    int64
	closed bool
}

func (f *regFile) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *regFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

// Read reads from the file's offset and advances it.
func (f *regFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := f.readAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt reads at off without moving the file's offset. It is safe for
// concurrent use.
func (f *regFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	return f.readAt(p, off)
}

func (f *regFile) readAt(p []byte, off int64) (int, error) {
	n, err := f.fsys.readData(f.in, p, off)
	if err != nil && err != io.EOF {
		err = &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	return n, err
}

// Seek sets the offset for the next Read.
func (f *regFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.in.size
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: errNegativeOffset}
	}
	f.off = offset
	return offset, nil
}

// dirFile is an open directory.
type dirFile struct {
	fsys   *FS
	name   string
	in     *inode
	info   *fileInfo
	mu     sync.Mutex
	ents   []fs.DirEntry // nil until the first ReadDir
	pos    int
	closed bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}

func (d *dirFile) Close() error {
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
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if d.ents == nil {
		ents, err := d.fsys.readDir(d.in)
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
	info *fileInfo
}

func (s *specialFile) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *specialFile) Close() error               { return nil }
func (s *specialFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: s.name, Err: fs.ErrInvalid}
}
