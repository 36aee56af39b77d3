package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Open opens the image file at path read-only and detects its container by
// magic, never by extension: each format of the table goes to its reader
// (a compressed upload is expanded, then what it holds is opened), and
// anything else is a raw disk. Sibling files a container names (qcow2
// backing files, VMDK extents, VHDX parents) are read only from path's
// directory. The caller must Close the Image.
func Open(path string, opts ...Option) (*Image, error) {
	o := makeOptions(opts)
	// O_NONBLOCK: opening a FIFO planted in place of an image must not wait
	// for a writer; the type check below then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() && (st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0) {
		f.Close()
		return nil, &FormatError{Format: string(Raw), Offset: -1, Reason: fmt.Sprintf("%s is not a regular file or block device", path), Err: ErrFormat}
	}
	size, err := fileSize(f, st)
	if err != nil {
		f.Close()
		return nil, err
	}
	c, err := openContainer(f, size, source{Name: path, Dir: filepath.Dir(path), File: f}, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	return c.image(), nil
}

// fileSize returns the size of a regular file or a block device.
func fileSize(f *os.File, st os.FileInfo) (int64, error) {
	if st.Mode().IsRegular() {
		return st.Size(), nil
	}
	return f.Seek(0, io.SeekEnd)
}
