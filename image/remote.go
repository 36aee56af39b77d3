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
// container chain and errors call it. A raw disk or a qcow2 image is read
// at random through r. A compressed upload is refused with a *FormatError
// wrapping ErrStreamOnly, and a qcow2 backing file with ErrUnsupported:
// there is no directory to confine it to. Of the options only WithLimits
// applies. Close closes r when it is an io.Closer; on error r is left open.
func OpenReader(r io.ReaderAt, size int64, name string, opts ...Option) (*Image, error) {
	o := makeOptions(opts)
	if size < 0 {
		return nil, &FormatError{Format: string(Raw), Offset: -1, Reason: fmt.Sprintf("negative size %d", size), Err: ErrFormat}
	}
	kind, err := detect(r, size)
	if err != nil {
		return nil, err
	}
	top := &readCounter{r: r, own: true}
	switch kind {
	case Raw:
		img := newImage(top, size, []Layer{{Format: Raw, Path: name, FileSize: size}}, top)
		img.allocated = size
		return img, nil
	case QCOW2:
		hdr, err := readQCOW2Header(r, size, o.limits.QCOW2L1Bytes)
		if err != nil {
			return nil, err
		}
		if hdr.backingName != "" {
			return nil, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "has backing file %q, which is not read beside a remote image", hdr.backingName)
		}
		virt, err := openQCOW2Layers(top, hdr, nil)
		if err != nil {
			return nil, err
		}
		vsize := int64(hdr.size)
		layers := []Layer{{Format: QCOW2, Detail: hdr.detail(), Path: name, FileSize: size}, {Format: Raw, FileSize: -1}}
		img := newImage(newClusterCache(virt, vsize, hdr.clusterSize(), hdr.extendedL2(), o.limits.QCOW2Cache), vsize, layers, top)
		img.allocated = size
		return img, nil
	case Gzip, Bzip2, XZ, Zstd:
		return nil, &FormatError{Format: string(kind), Offset: 0, Reason: fmt.Sprintf("a %s upload (%s) cannot be read at random where it is stored; download it whole (--download) to scan it", kind, byteSize(size)), Err: ErrStreamOnly}
	}
	return nil, &FormatError{Format: string(kind), Offset: 0, Reason: "unsupported container format: " + string(kind), Err: ErrUnsupported}
}

// OpenStream copies the image streamed by src, size bytes (-1 if
// unknown), into an unlinked sparse temporary file in the WithTempDir
// directory, refusing more than the WithMaxExpand limit and reporting
// progress to WithProgress, then opens that file as Open would: a raw
// disk, a qcow2 image (without backing files) or a compressed upload,
// which is expanded in turn. name is what the chain calls the image. The
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
	n, err := expandSparse(tmp, in, limit)
	switch {
	case err == errTooLarge:
		return nil, &FormatError{Format: string(Raw), Offset: n, Reason: fmt.Sprintf("%s is larger than %s (the --max-expand limit)", name, byteSize(limit)), Err: ErrUnsupported}
	case err != nil:
		return nil, fmt.Errorf("downloading %s: %w", name, err)
	case size >= 0 && n != size:
		return nil, &FormatError{Format: string(Raw), Offset: n, Reason: fmt.Sprintf("download of %s ends after %d of %d bytes", name, n, size), Err: ErrTruncated}
	}
	in.finish()
	kind, err := detect(tmp, n)
	if err != nil {
		return nil, err
	}
	switch kind {
	case Raw:
		c := countFile(tmp)
		img := newImage(c, n, []Layer{{Format: Raw, Detail: "downloaded", Path: name, FileSize: n}}, c)
		img.allocated = n
		return img, nil
	case QCOW2:
		hdr, err := readQCOW2Header(tmp, n, o.limits.QCOW2L1Bytes)
		if err != nil {
			return nil, err
		}
		if hdr.backingName != "" {
			return nil, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "has backing file %q, which is not read beside a remote image", hdr.backingName)
		}
		img, err := openQCOW2(tmp, name, o)
		if err != nil {
			return nil, err
		}
		img.allocated = n
		return img, nil
	case Gzip, Bzip2, XZ, Zstd:
		img, err := openCompressed(tmp, name, kind, o)
		if err != nil {
			return nil, err
		}
		img.allocated = n
		return img, nil
	}
	return nil, &FormatError{Format: string(kind), Offset: 0, Reason: "unsupported container format: " + string(kind), Err: ErrUnsupported}
}
