package image

import (
	"encoding/binary"
	"errors"
	"io"
)

// knownUnread are formats detected by magic but not read: a file in one of
// them is refused with ErrUnsupported naming the format, instead of being
// mistaken for a raw disk. An entry yields to a registered format of the
// same name.
var knownUnread = []containerFormat{
	{Format: VMDK, Match: func(head []byte, _ io.ReaderAt, _ int64) bool {
		return hasAt(head, 0, "KDMV") || hasAt(head, 0, "COWD") || hasAt(head, 0, "# Disk DescriptorFile")
	}},
	{Format: VDI, Match: func(head []byte, _ io.ReaderAt, _ int64) bool {
		return hasAt(head, 0, "<<< ") && len(head) >= 0x44 && binary.LittleEndian.Uint32(head[0x40:]) == 0xbeda107f
	}},
}

// hasAt reports whether head holds magic at off.
func hasAt(head []byte, off int, magic string) bool {
	return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
}

// detect names the container format of the file r of size bytes by its
// magic numbers, never by its name: the first registered format that
// matches, else a known format that is not read, else raw.
func detect(r io.ReaderAt, size int64) (Format, error) {
	f, err := detectFormat(r, size)
	if err != nil {
		return "", err
	}
	return f.Format, nil
}

// detectFormat returns the table entry of the file r of size bytes; the
// entry of a known format that is not read has no Open.
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
	for _, f := range knownUnread {
		if _, ok := lookupFormat(f.Format); !ok && f.Match(head, r, size) {
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
