package image

import (
	"compress/bzip2"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// DefaultMaxExpand is how far a compressed upload may expand unless
// WithMaxExpand says otherwise: 200 GiB.
const DefaultMaxExpand int64 = 200 << 30

// openCompressed expands the gzip, bzip2, xz or zstd upload f, found at
// path, once into a sparse temporary file in o.tmpDir, then opens what it
// holds: a qcow2 file (whose backing files, if allowed, are looked for
// beside path) or a raw disk.
//
// The temporary file is unlinked as soon as it is created, so its space
// is freed when the Image is closed, when opening fails, and when the
// process ends for any reason, Ctrl-C and SIGKILL included; nothing is
// left behind. Expansion itself cannot be cancelled short of that: a
// caller that must stop early exits the process.
//
// On success f is closed; on error it is left for the caller to close.
func openCompressed(f *os.File, path string, kind Format, o *options) (*Image, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(o.tmpDir, "imgcheck-expand-*.raw")
	if err != nil {
		// %v, not %w: the upload itself opened fine, and a caller should
		// not take this *fs.PathError for a fault of it.
		return nil, fmt.Errorf("expanding %s upload: %v", kind, err)
	}
	if err := os.Remove(tmp.Name()); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("expanding %s upload: %v", kind, err)
	}
	img, err := openExpanded(f, st.Size(), tmp, path, kind, o)
	if err != nil {
		tmp.Close()
		return nil, err
	}
	f.Close()
	return img, nil
}

// openExpanded expands f into tmp and opens tmp's content.
func openExpanded(f *os.File, fileSize int64, tmp *os.File, path string, kind Format, o *options) (*Image, error) {
	limit := o.maxExpand
	if limit <= 0 {
		limit = DefaultMaxExpand
	}
	in := &progressReader{r: f, total: fileSize, report: o.progress}
	zr, err := decompressor(in, kind)
	if err != nil {
		return nil, &FormatError{Format: string(kind), Offset: 0, Reason: err.Error(), Err: ErrFormat}
	}
	if c, ok := zr.(io.Closer); ok {
		defer c.Close()
	}
	size, err := expandSparse(tmp, zr, limit)
	if err != nil {
		return nil, expandError(kind, in.done, size, limit, err)
	}
	in.finish()
	layer := Layer{Format: kind, Detail: fmt.Sprintf("%s, %s expanded", kind, byteSize(size)), Path: path, FileSize: fileSize}
	inner, err := detect(tmp, size)
	if err != nil {
		return nil, err
	}
	switch inner {
	case QCOW2:
		img, err := openQCOW2(tmp, path, o)
		if err != nil {
			return nil, err
		}
		img.chain[0].Path, img.chain[0].FileSize = "", size
		img.chain = append([]Layer{layer}, img.chain...)
		return img, nil
	case Raw:
		c := countFile(tmp)
		return newImage(c, size, []Layer{layer, {Format: Raw, FileSize: size}}, c), nil
	}
	return nil, &FormatError{Format: string(kind), Offset: -1, Reason: fmt.Sprintf("%s upload holds %s, which is not supported inside an upload", kind, inner), Err: ErrUnsupported}
}

// decompressor returns a reader of the decompressed stream r of kind.
func decompressor(r io.Reader, kind Format) (io.Reader, error) {
	switch kind {
	case Gzip:
		return gzip.NewReader(r)
	case Bzip2:
		return bzip2.NewReader(r), nil
	case XZ:
		return xz.NewReader(r)
	case Zstd:
		d, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("no decompressor for %s", kind)
}

// expandError turns a failed expansion into a FormatError: the limit, a
// corrupt or truncated stream (at compressed offset in), or a host error
// writing the temporary file.
func expandError(kind Format, in, out, limit int64, err error) error {
	switch {
	case err == errTooLarge:
		return &FormatError{Format: string(kind), Offset: in, Reason: fmt.Sprintf("upload expands to more than %s (the --max-expand limit)", byteSize(limit)), Err: ErrUnsupported}
	case err == io.ErrUnexpectedEOF:
		return &FormatError{Format: string(kind), Offset: in, Reason: fmt.Sprintf("compressed stream ends early (file truncated?) after %s expanded", byteSize(out)), Err: ErrTruncated}
	}
	if _, ok := err.(*writeError); ok {
		return fmt.Errorf("expanding %s upload into the temporary directory: %w", kind, err)
	}
	return &FormatError{Format: string(kind), Offset: in, Reason: fmt.Sprintf("corrupt compressed stream after %s expanded: %v", byteSize(out), err), Err: ErrFormat}
}

// byteSize prints n in the largest binary unit that keeps a digit before
// the point: "200 GiB", "1.5 MiB", "512 B".
func byteSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 || v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), units[u])
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}
