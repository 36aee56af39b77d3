package image

import (
	"io"
	"os"
)

// OpenByTable opens the file at path with Open and returns the image and
// its Referenced; a file no format of the table claims (a raw disk) is
// os.ErrInvalid.
func OpenByTable(path string, opts ...Option) (*Image, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	kind, err := detect(f, st.Size())
	f.Close()
	if err != nil {
		return nil, 0, err
	}
	if kind == Raw {
		return nil, 0, os.ErrInvalid
	}
	img, err := Open(path, opts...)
	if err != nil {
		return nil, 0, err
	}
	return img, img.Referenced(), nil
}

// OpenReaderByTable is OpenByTable over size bytes of r, named name, as
// OpenReader opens a remote object (no directory for sibling files).
func OpenReaderByTable(r io.ReaderAt, size int64, name string, opts ...Option) (*Image, int64, error) {
	kind, err := detect(r, size)
	if err != nil {
		return nil, 0, err
	}
	if kind == Raw {
		return nil, 0, os.ErrInvalid
	}
	img, err := OpenReader(r, size, name, opts...)
	if err != nil {
		return nil, 0, err
	}
	return img, img.Referenced(), nil
}
