package image

import (
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
	// size allow probes elsewhere, such as a footer at the end.
	Match func(head []byte, r io.ReaderAt, size int64) bool
	// Open opens the container held by r, size bytes. src says where the
	// bytes came from, for the sibling files some formats name (qcow2
	// backing files, VMDK extents, VHDX parents).
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
	// Allocated is the bytes the container occupies on the host, -1 when
	// unknown.
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
