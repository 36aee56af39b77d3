package image

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrStreamOnly reports a compressed upload offered for reading in place:
// any byte of it can only be reached by inflating everything before it,
// so it must be streamed whole (OpenStream) instead.
var ErrStreamOnly = errors.New("image: compressed upload can only be read as a stream")

// OpenReader opens the image held by r, an object of size bytes read in
// place, such as a remote object; name (a redacted URL, say) is what the
// container chain and errors call it. Every format of the table is read at
// random through r, except a compressed upload, refused with a
// *FormatError wrapping ErrStreamOnly; sibling files (a qcow2 backing
// file) are refused with ErrUnsupported: there is no directory to confine
// them to. Of the options only WithLimits
// applies. Close closes r when it is an io.Closer; on error r is left open.
func OpenReader(r io.ReaderAt, size int64, name string, opts ...Option) (*Image, error) {
	o := makeOptions(opts)
	if size < 0 {
		return nil, &FormatError{Format: string(Raw), Offset: -1, Reason: fmt.Sprintf("negative size %d", size), Err: ErrFormat}
	}
	c, err := openContainer(r, size, source{Name: name}, o)
	if err != nil {
		return nil, err
	}
	return c.image(), nil
}

// OpenStream copies the image streamed by src, size bytes (-1 if
// unknown), into an unlinked sparse temporary file in the WithTempDir
// directory, refusing more than the WithMaxExpand limit and reporting
// progress to WithProgress, then opens that file as Open would, except
// that sibling files (qcow2 backing files) are refused: a compressed
// upload is expanded in turn. name is what the chain calls the image. The
// temporary space is freed when the Image is closed or opening fails.
func OpenStream(src io.Reader, size int64, name string, opts ...Option) (*Image, error) {
	o := makeOptions(opts)
	o.allowBacking = false
	limit := o.maxExpand
	if limit <= 0 {
		limit = DefaultMaxExpand
	}
	tmp, err := os.CreateTemp(o.tmpDir, "imgcheck-download-*.img")
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", name, err)
	}
	if err := os.Remove(tmp.Name()); err != nil {
		tmp.Close()
		return nil, err
	}
	img, err := openStreamed(src, size, name, tmp, limit, o)
	if err != nil {
		tmp.Close()
		return nil, err
	}
	return img, nil
}

// openStreamed copies src into tmp and opens what it holds.
func openStreamed(src io.Reader, size int64, name string, tmp *os.File, limit int64, o *options) (*Image, error) {
	in := &progressReader{r: src, total: size, report: o.progress}
	n, err := expandSparse(tmp, in, in, expandBounds{ctx: o.ctx, max: limit})
	switch {
	case err == errTooLarge:
		return nil, &FormatError{Format: string(Raw), Offset: n, Reason: fmt.Sprintf("%s is larger than %s (the --max-expand limit)", name, byteSize(limit)), Err: ErrUnsupported}
	case err != nil:
		return nil, fmt.Errorf("downloading %s: %w", name, err)
	case size >= 0 && n != size:
		return nil, &FormatError{Format: string(Raw), Offset: n, Reason: fmt.Sprintf("download of %s ends after %d of %d bytes", name, n, size), Err: ErrTruncated}
	}
	in.finish()
	c, err := openContainer(tmp, n, source{Name: name, File: tmp}, o)
	if err != nil {
		return nil, err
	}
	if c.Layers[0].Format == Raw {
		c.Layers[0].Detail = "downloaded"
	}
	img := c.image()
	img.allocated = n
	return img, nil
}
