package image

import (
	"io"
	"os"
	"path/filepath"
)

// OpenByTable opens the file at path through the container format table
// (the first entry whose Match accepts it), for the readers image.Open
// does not reach yet, and returns the image and the container's
// Referenced. No format matching is os.ErrInvalid.
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
	rc := &readCounter{r: f, own: true}
	img, ref, err := openByTable(rc, st.Size(), source{Name: path, Dir: filepath.Dir(path), File: f}, opts)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	img.closers = append(img.closers, rc)
	img.reads = rc
	return img, ref, nil
}

// OpenReaderByTable is OpenByTable over size bytes of r, named name, as
// for a remote object (no directory for sibling files).
func OpenReaderByTable(r io.ReaderAt, size int64, name string, opts ...Option) (*Image, int64, error) {
	return openByTable(r, size, source{Name: name}, opts)
}

func openByTable(r io.ReaderAt, size int64, src source, opts []Option) (*Image, int64, error) {
	head := make([]byte, headLen)
	n, _ := r.ReadAt(head, 0)
	for _, cf := range formats {
		if !cf.Match(head[:n], r, size) {
			continue
		}
		c, err := cf.Open(r, size, src, makeOptions(opts))
		if err != nil {
			return nil, 0, err
		}
		img := newImage(c.Disk, c.Size, c.Layers, c.Closers...)
		img.allocated = c.Allocated
		return img, c.Referenced, nil
	}
	return nil, 0, os.ErrInvalid
}
