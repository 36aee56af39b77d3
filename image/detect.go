package image

import (
	"errors"
	"io"
)

// hasAt reports whether head holds magic at off.
func hasAt(head []byte, off int, magic string) bool {
	return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
}

// detect names the container format of the file r of size bytes by its
// magic numbers, never by its name: the first registered format that
// matches, else raw.
func detect(r io.ReaderAt, size int64) (Format, error) {
	f, err := detectFormat(r, size)
	if err != nil {
		return "", err
	}
	return f.Format, nil
}

// detectFormat returns the table entry of the file r of size bytes.
func detectFormat(r io.ReaderAt, size int64) (containerFormat, error) {
	head := make([]byte, min(headLen, max(size, 0)))
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return containerFormat{}, err
	}
	head = head[:n]
	for _, f := range formats {
		if f.Match != nil && f.Match(head, r, size) {
			return f, nil
		}
	}
	raw, _ := lookupFormat(Raw)
	return raw, nil
}

// lookupFormat returns the registered entry of format f.
func lookupFormat(f Format) (containerFormat, bool) {
	for _, e := range formats {
		if e.Format == f {
			return e, true
		}
	}
	return containerFormat{}, false
}
