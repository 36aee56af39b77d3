package image

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// A containerFormat is one container format in the table every opener
// (Open, OpenReader, OpenStream, the compressed-upload path) consults: it
// is detected by magic and opened over an io.ReaderAt. Adding a format is
// one file whose init calls registerFormat.
type containerFormat struct {
	Format Format
	// Match reports whether the file starts like this format. head holds
	// the first headLen bytes of the file (fewer for a short file); r and
	// size allow probes elsewhere, such as a footer at the end. Formats
	// are tried in the order registered; the one with a nil Match, raw, is
	// the fallback.
	Match func(head []byte, r io.ReaderAt, size int64) bool
	// Open opens the container held by r, size bytes. src says where the
	// bytes came from, for the sibling files some formats name (qcow2
	// backing files, VMDK extents, VHDX parents). r counts its reads for
	// Stats and is closed with the Image: Closers list only what Open
	// opened itself (sibling or temporary files). Stats reports the first
	// *readCounter among the Closers, if any, instead of r's count.
	Open func(r io.ReaderAt, size int64, src source, o *options) (*container, error)
	// StreamOnly formats (compressed uploads) cannot be read at random
	// where they are stored: over the network they must be downloaded.
	StreamOnly bool
}

// headLen is how many leading bytes Match sees.
const headLen = 4096

// A source is where a container's bytes come from.
type source struct {
	// Name is what layers and errors call the file: its host path, or a
	// redacted URL.
	Name string
	// Dir is the host directory sibling files are confined to; "" for a
	// remote object or a stream, where sibling files are refused with
	// ErrUnsupported.
	Dir string
	// File is the host file, nil for a remote object.
	File *os.File
}

// A container is an opened container: the virtual disk it presents and
// what the Image reports about it.
type container struct {
	Disk   io.ReaderAt // the virtual disk; ReadAt is safe for concurrent use
	Size   int64       // bytes of the virtual disk
	Layers []Layer     // this container's layers, outermost first
	// Allocated is the bytes the container occupies on the host (its
	// files' sizes, or their allocated blocks), -1 when unknown.
	Allocated int64
	// Referenced is the end of the furthest byte of the file that the
	// container's metadata points at (tables, grains, blocks, clusters),
	// -1 when not known. A file shorter than that was cut short.
	Referenced int64
	Closers    []io.Closer
}

// Compressed reports whether f is a compressed-upload format (gzip,
// bzip2, xz, zstd).
func (f Format) Compressed() bool { return f == Gzip || f == Bzip2 || f == XZ || f == Zstd }

var formats []containerFormat

// registerFormat adds f to the table. It is called from init functions
// only and panics on a duplicate, like database/sql.Register.
func registerFormat(f containerFormat) {
	if slices.ContainsFunc(formats, func(g containerFormat) bool { return g.Format == f.Format }) {
		panic("image: format " + string(f.Format) + " registered twice")
	}
	formats = append(formats, f)
}

// openContainer opens the container that r, size bytes from src, holds:
// the format its magic names, read in place, or for a compressed upload
// on the host (src.File set) expanded first. A compressed upload that is
// not on the host is refused. On error r is left for the caller to close.
func openContainer(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	f, err := detectFormat(r, size)
	if err != nil {
		return nil, err
	}
	if f.StreamOnly && src.File == nil {
		return nil, &FormatError{Format: string(f.Format), Offset: 0, Reason: fmt.Sprintf("a %s upload (%s) cannot be read at random where it is stored; download it whole (--download) to scan it", f.Format, byteSize(size)), Err: ErrStreamOnly}
	}
	return openAs(f, r, size, src, o)
}

// openAs opens r as format f, through a counter that the container's
// Closers end with, so that closing the Image closes r.
func openAs(f containerFormat, r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	top := countReader(r)
	c, err := f.Open(top, size, src, o)
	if err != nil {
		return nil, err
	}
	c.Closers = append(c.Closers, top)
	return c, nil
}

// image returns the Image presenting c.
func (c *container) image() *Image {
	img := newImage(c.Disk, c.Size, c.Layers, c.Closers...)
	img.allocated, img.referenced = c.Allocated, c.Referenced
	return img
}
