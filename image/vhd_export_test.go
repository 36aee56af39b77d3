package image

import "os"

// OpenByTable opens the file at path through the container format table
// (the first entry whose Match accepts it), for the readers image.Open
// does not reach yet, and returns the image and the container's
// Referenced.
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
	head := make([]byte, headLen)
	n, _ := f.ReadAt(head, 0)
	for _, cf := range formats {
		if !cf.Match(head[:n], f, st.Size()) {
			continue
		}
		rc := countFile(f)
		c, err := cf.Open(rc, st.Size(), source{Name: path, File: f}, makeOptions(opts))
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		img := newImage(c.Disk, c.Size, c.Layers, append(c.Closers, rc)...)
		img.allocated = c.Allocated
		return img, c.Referenced, nil
	}
	f.Close()
	return nil, 0, os.ErrInvalid
}
