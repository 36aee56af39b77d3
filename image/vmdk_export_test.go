package image

import (
	"bytes"
	"os"
	"path/filepath"
)

// OpenWithFormat opens the file at path with the table entry of format f
// directly, without detection, as Open will once it consults the table.
func OpenWithFormat(path string, f Format, opts ...Option) (*Image, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	for _, e := range formats {
		if e.Format != f {
			continue
		}
		c, err := e.Open(file, st.Size(), source{Name: path, Dir: filepath.Dir(path), File: file}, makeOptions(opts))
		if err != nil {
			file.Close()
			return nil, err
		}
		img := newImage(c.Disk, c.Size, c.Layers, append(c.Closers, file)...)
		img.allocated = c.Allocated
		return img, nil
	}
	file.Close()
	return nil, os.ErrNotExist
}

// OpenWithFormatRemote is OpenWithFormat for a file read as a remote
// object is: with no directory for sibling files and no host file.
func OpenWithFormatRemote(path string, f Format) (*Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return OpenBytesWithFormat(b, f)
}

// OpenBytesWithFormat opens b as a remote object of format f.
func OpenBytesWithFormat(b []byte, f Format, opts ...Option) (*Image, error) {
	for _, e := range formats {
		if e.Format == f {
			c, err := e.Open(bytes.NewReader(b), int64(len(b)), source{Name: "https://example.com/disk"}, makeOptions(opts))
			if err != nil {
				return nil, err
			}
			return newImage(c.Disk, c.Size, c.Layers, c.Closers...), nil
		}
	}
	return nil, os.ErrNotExist
}

// ReferencedWithFormat opens path as format f and returns the container's
// Referenced and Allocated.
func ReferencedWithFormat(path string, f Format) (referenced, allocated int64, err error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return 0, 0, err
	}
	for _, e := range formats {
		if e.Format == f {
			c, err := e.Open(file, st.Size(), source{Name: path, Dir: filepath.Dir(path), File: file}, makeOptions(nil))
			if err != nil {
				return 0, 0, err
			}
			for _, cl := range c.Closers {
				cl.Close()
			}
			return c.Referenced, c.Allocated, nil
		}
	}
	return 0, 0, os.ErrNotExist
}

// MatchedFormats lists the table's formats whose Match accepts the file
// at path.
func MatchedFormats(path string) ([]Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, min(headLen, st.Size()))
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, err
	}
	var matched []Format
	for _, e := range formats {
		if e.Match != nil && e.Match(head, f, st.Size()) {
			matched = append(matched, e.Format)
		}
	}
	return matched, nil
}
