// Package image reads disk images offline: it detects the container by
// magic in one table of formats (format.go; each format registers itself
// from its own file), presents the virtual disk as an io.ReaderAt, and
// decodes its partition table (GPT, MBR with logical partitions, or none)
// and LVM2 volumes. It never writes to an image.
package image

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// Format names a container format.
type Format string

// Container formats, each read by its entry in the format table.
const (
	Raw   Format = "raw"
	QCOW2 Format = "qcow2"
	Gzip  Format = "gzip"
	Bzip2 Format = "bzip2"
	XZ    Format = "xz"
	Zstd  Format = "zstd"
	VMDK  Format = "vmdk"
	VHD   Format = "vhd"
	VHDX  Format = "vhdx"
	VDI   Format = "vdi"
)

// A Layer is one element of an image's container chain, outermost first:
// an xz upload holding a qcow2 holding a raw disk has three.
type Layer struct {
	Format   Format
	Detail   string // e.g. "version 3, cluster 64 KiB"; may be empty
	Path     string // host file the layer was read from; may be empty
	FileSize int64  // size of that file in bytes, -1 when unknown

	// Subformat is the variant of the format: "v3" for qcow2,
	// "streamOptimized" for VMDK, "dynamic" or "fixed" for VHDX and VHD,
	// "static" or "dynamic" for VDI; "" when the format has none.
	Subformat string
	// Codec is the compression inside the container ("zlib", "zstd",
	// "deflate"), "" when its data is stored plain.
	Codec string
	// Backing is set on a layer read as the backing (parent) file of the
	// layer before it.
	Backing bool
}

// ReadStats counts what was read from the host file.
type ReadStats struct {
	BytesRead int64
	ReadCalls int64
}

// An Image is the virtual disk of an image file. Its ReadAt is safe for
// concurrent use.
type Image struct {
	r         io.ReaderAt
	size      int64
	chain     []Layer
	closers   []io.Closer
	allocated int64
	// referenced is the container's Referenced, -1 when unknown.
	referenced int64
	reads      *readCounter
}

// New returns a raw Image over r, which holds size bytes.
func New(r io.ReaderAt, size int64) (*Image, error) {
	if size < 0 {
		return nil, &FormatError{Format: string(Raw), Offset: -1, Reason: fmt.Sprintf("negative size %d", size), Err: ErrFormat}
	}
	return newImage(r, size, []Layer{{Format: Raw, FileSize: size}}), nil
}

// newImage returns an Image reading the virtual disk from r. chain lists
// the containers, outermost first; closers are closed by Close. Stats
// reports the first closer that is a *readCounter (an opener reads the
// host file through one to count file-level reads), or else counts the
// reads made through r.
func newImage(r io.ReaderAt, size int64, chain []Layer, closers ...io.Closer) *Image {
	img := &Image{r: r, size: size, chain: chain, closers: closers, allocated: -1, referenced: -1}
	for _, c := range closers {
		if rc, ok := c.(*readCounter); ok {
			img.reads = rc
			break
		}
	}
	if img.reads == nil {
		rc := &readCounter{r: r}
		img.r, img.reads = rc, rc
	}
	return img
}

// ReadAt reads len(p) bytes of the virtual disk at off. A read that runs
// past the end of the disk, or of a file shorter than it claims to be,
// returns the bytes inside and a *FormatError wrapping ErrTruncated that
// names the offset; it never pads with zeros.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &FormatError{Format: string(img.Format()), Offset: off, Reason: fmt.Sprintf("read at negative offset %d", off), Err: ErrFormat}
	}
	want := p
	if off >= img.size {
		want = nil
	} else if int64(len(p)) > img.size-off {
		want = p[:img.size-off]
	}
	n := 0
	if len(want) > 0 {
		var err error
		n, err = img.r.ReadAt(want, off)
		if n < len(want) {
			if err == nil || errors.Is(err, io.EOF) {
				return n, img.truncated(off+int64(n), "file ends")
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, img.truncated(off+int64(n), "image ends")
	}
	return n, nil
}

func (img *Image) truncated(at int64, what string) error {
	return &FormatError{
		Format: string(img.Format()),
		Offset: at,
		Reason: fmt.Sprintf("read at 0x%x runs past end of image (%s, size 0x%x)", at, what, img.size),
		Err:    ErrTruncated,
	}
}

// Size returns the size of the virtual disk in bytes.
func (img *Image) Size() int64 { return img.size }

// Format returns the format of the outermost container, the file as found.
func (img *Image) Format() Format {
	if len(img.chain) == 0 {
		return Raw
	}
	return img.chain[0].Format
}

// Chain returns a copy of the container chain, outermost first.
func (img *Image) Chain() []Layer { return append([]Layer(nil), img.chain...) }

// Allocated returns the bytes the image occupies on the host: the file size
// for qcow2 and compressed uploads, st_blocks*512 for raw, -1 if unknown.
func (img *Image) Allocated() int64 { return img.allocated }

// Referenced returns the end of the furthest byte of the container's file
// that its metadata points at, -1 when unknown (a raw disk has no
// metadata); a file shorter than that was cut short. For a compressed
// upload it is about the expanded file, whose size is the FileSize of the
// layer after the compression layer. For qcow2 it covers the header, the
// L1 and refcount tables, the L2 tables and refcount blocks they name, and
// the first byte of the last cluster the refcounts count; data clusters
// that only the L2 tables point at are not seen.
func (img *Image) Referenced() int64 { return img.referenced }

// Stats returns what has been read from the host file so far, not
// counting the few KiB that Open reads to detect the container.
func (img *Image) Stats() ReadStats {
	return ReadStats{BytesRead: img.reads.bytes.Load(), ReadCalls: img.reads.calls.Load()}
}

// Close releases the files behind the image. It does nothing for an Image
// made by New.
func (img *Image) Close() error {
	var errs []error
	for _, c := range img.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	img.closers = nil
	return errors.Join(errs...)
}

// A readCounter counts the reads made through it. Close closes the reader,
// once, only when the counter owns it (see countReader).
type readCounter struct {
	r      io.ReaderAt
	own    bool
	closed atomic.Bool
	bytes  atomic.Int64
	calls  atomic.Int64
}

// countReader returns a counter that reads r and closes it (when r is an
// io.Closer). The opener reads every container's file through one, so
// that Stats reports file-level reads.
func countReader(r io.ReaderAt) *readCounter { return &readCounter{r: r, own: true} }

func (c *readCounter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.calls.Add(1)
	c.bytes.Add(int64(n))
	return n, err
}

func (c *readCounter) Close() error {
	if cl, ok := c.r.(io.Closer); ok && c.own && c.closed.CompareAndSwap(false, true) {
		return cl.Close()
	}
	return nil
}
