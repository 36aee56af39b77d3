package inodefs

import (
	"errors"
	"io"
	"io/fs"
	"sync"
)

// errNegativeOffset is the error of a read or seek before a file's start.
var errNegativeOffset = errors.New("negative offset")

// Data is the contents of one regular file, as one open file reads it.
type Data interface {
	// ReadAt reads len(p) bytes at off, which lie inside the file
	// (0 <= off, off+len(p) <= its size); n < len(p) only with an error.
	ReadAt(p []byte, off int64) (n int, err error)
}

// A Prefetcher is Data that can fetch its bytes from off up to end into
// the cache of the reader below ahead of the reads that need them. It
// fails silently: the reads report any fault.
type Prefetcher interface {
	Data
	Prefetch(off, end int64)
}

// ReadAheadMax bounds what one Read of a file read in order fetches
// ahead through a Prefetcher. The cache stays the bound on memory: with
// the engine's sixteen rules each streaming a file, read-ahead fills
// fsinspect's 32 MiB block cache at worst, and what is evicted before use
// is fetched again.
const ReadAheadMax = 2 << 20

// file is an open regular file.
type file struct {
	name    string
	info    fs.FileInfo
	size    int64
	data    Data
	fetch   Prefetcher // data, when it is one
	dataErr error      // why the data cannot be read, if it cannot
	mu      sync.Mutex
	off     int64
	closed  bool
	// next is where the last Read ended, ahead how far Reads have
	// fetched ahead (see readAhead).
	next, ahead int64
}

// prefetchingFile is a file over a Prefetcher: it adds Prefetch.
type prefetchingFile struct{ *file }

// newFile returns the open regular file called name (the name Open was
// given), with FileInfo info, of size bytes held in data. A file whose
// data cannot be read (dataErr is not nil) opens but fails every read.
// The file implements io.ReaderAt and io.Seeker, and Prefetch(n int64)
// when data is a Prefetcher.
func newFile(name string, info fs.FileInfo, size int64, data Data, dataErr error) fs.File {
	f := &file{name: name, info: info, size: size, data: data, dataErr: dataErr}
	if p, ok := data.(Prefetcher); ok {
		f.fetch = p
		return prefetchingFile{f}
	}
	return f
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

// Read reads from the file's offset and advances it.
func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.readAhead(len(p))
	n, err := f.readAt(p, f.off)
	f.off += int64(n)
	f.next = f.off
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt reads at off without moving the file's offset. It is safe for
// concurrent use.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	return f.readAt(p, off)
}

func (f *file) readAt(p []byte, off int64) (int, error) {
	if f.dataErr != nil {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: f.dataErr}
	}
	n, err := readAt(f.data, f.size, p, off)
	if err != nil && err != io.EOF {
		err = &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	return n, err
}

// readAt reads p at off of data, a file of size bytes, as io.ReaderAt
// does: it returns io.EOF when it stops at the end of the file.
func readAt(data Data, size int64, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > size-off {
		p = p[:size-off]
		eof = io.EOF
	}
	n, err := data.ReadAt(p, off)
	if err != nil {
		return n, err
	}
	return n, eof
}

// Seek sets the offset for the next Read.
func (f *file) Seek(offset int64, whence int) (int64, error) {
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
		offset += f.size
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: errNegativeOffset}
	}
	f.off = offset
	return offset, nil
}

// readAhead is called before a Read of n bytes at f.off: when the read
// continues the one before it and goes past what was fetched ahead, it
// fetches the next ReadAheadMax bytes of the file. The first read of a
// file is not read ahead, so that a reader that only wants a file's head
// (a script's first line, a key file's first bytes) fetches no more than
// that, and neither is a read after a Seek. f.mu is held.
func (f *file) readAhead(n int) {
	off := f.off
	if f.fetch == nil || off == 0 || off != f.next || off+int64(n) <= f.ahead {
		return
	}
	from := max(off, f.ahead)
	f.ahead = max(off+int64(n), from+ReadAheadMax)
	f.fetch.Prefetch(from, f.ahead)
}

// Prefetch fetches the first n bytes of the file into the cache of the
// reader below, all at once, when that reader can; otherwise it does
// nothing. Faults are left for the reads. Reads in order from the start
// then fetch ahead only past those bytes.
func (f prefetchingFile) Prefetch(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.fetch.Prefetch(0, n)
		f.ahead = max(f.ahead, min(n, f.size))
	}
}
