package inodefs

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// OpenFile opens the image file at path read-only and reads the
// filesystem in it with newFS, which gets the file and its size. When
// newFS fails, OpenFile closes the file again and names path in the
// error; otherwise the filesystem owns the file.
func OpenFile[T any](path string, newFS func(f *os.File, size int64) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return zero, err
	}
	fsys, err := newFS(f, st.Size())
	if err != nil {
		f.Close()
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return fsys, nil
}

// ReadFull reads len(b) bytes at off of r. A short read means the image
// ends early: the error wraps corrupt (the reader's ErrCorrupt) and
// io.ErrUnexpectedEOF. Other read errors are passed on, after the
// reader's name.
func ReadFull(r io.ReaderAt, b []byte, off int64, reader string, corrupt error) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: read of %d bytes at offset %d: %w", corrupt, len(b), off, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%s: read of %d bytes at offset %d: %w", reader, len(b), off, err)
}
