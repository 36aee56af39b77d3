package image

import (
	"io"
	"syscall"
)

// Raw is the fallback of the format table: a file no other format claims
// is the virtual disk itself.
func init() { registerFormat(containerFormat{Format: Raw, Open: openRaw}) }

// openRaw presents r as the disk. It occupies the file's allocated blocks
// on the host for a local regular file (a sparse file less than its
// size), the object's size for a remote object, and is unknown for a
// block device.
func openRaw(r io.ReaderAt, size int64, src source, _ *options) (*container, error) {
	c := &container{Disk: r, Size: size, Layers: []Layer{{Format: Raw, Path: src.Name, FileSize: size}}, Allocated: -1, Referenced: -1}
	if src.File == nil {
		c.Allocated = size
		return c, nil
	}
	st, err := src.File.Stat()
	if err != nil {
		return nil, err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && st.Mode().IsRegular() {
		c.Allocated = sys.Blocks * 512
	}
	return c, nil
}
