package image

import (
	"compress/bzip2"
	"context"
	"errors"
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

// The compressed uploads: detected by magic, and StreamOnly, since any
// byte of one is reached only by inflating everything before it.
func init() {
	for _, f := range []containerFormat{
		{Format: Gzip, Match: func(head []byte, _ io.ReaderAt, _ int64) bool { return hasAt(head, 0, "\x1f\x8b\x08") }},
		{Format: Bzip2, Match: func(head []byte, _ io.ReaderAt, _ int64) bool {
			return hasAt(head, 0, "BZh") && len(head) >= 10 && head[3] >= '1' && head[3] <= '9' && (hasAt(head, 4, "1AY&SY") || hasAt(head, 4, "\x17rE8P\x90"))
		}},
		{Format: XZ, Match: func(head []byte, _ io.ReaderAt, _ int64) bool { return hasAt(head, 0, "\xfd7zXZ\x00") }},
		{Format: Zstd, Match: func(head []byte, _ io.ReaderAt, _ int64) bool { return hasAt(head, 0, "\x28\xb5\x2f\xfd") }},
	} {
		f.Open, f.StreamOnly = openCompressed(f.Format), true
		registerFormat(f)
	}
}

// openCompressed returns the Open of the compressed format kind: it
// expands the upload r, size bytes, once into a sparse temporary file in
// o.tmpDir, then opens what that holds as the container src.Name would be
// without compression (sibling files, if allowed, are looked for in
// src.Dir). A compressed upload inside one is refused.
//
// The temporary file is unlinked as soon as it is created, so its space
// is freed when the Image is closed, when opening fails, and when the
// process ends for any reason, Ctrl-C and SIGKILL included; nothing is
// left behind. Expansion stops once the WithContext context is done.
//
// On success r is closed (when it is an io.Closer): the container reads,
// and Stats counts, only the temporary file.
func openCompressed(kind Format) func(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	return func(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
		tmp, err := os.CreateTemp(o.tmpDir, "imgcheck-expand-*.raw")
		if err != nil {
			// %v, not %w: the upload itself opened fine, and a caller
			// should not take this *fs.PathError for a fault of it.
			return nil, fmt.Errorf("expanding %s upload: %v", kind, err)
		}
		if err := os.Remove(tmp.Name()); err != nil {
			tmp.Close()
			return nil, fmt.Errorf("expanding %s upload: %v", kind, err)
		}
		c, err := openExpanded(r, size, tmp, src, kind, o)
		if err != nil {
			tmp.Close()
			return nil, err
		}
		if cl, ok := r.(io.Closer); ok {
			cl.Close()
		}
		return c, nil
	}
}

// openExpanded expands r into tmp and opens tmp's content.
func openExpanded(r io.ReaderAt, fileSize int64, tmp *os.File, src source, kind Format, o *options) (*container, error) {
	limit := o.maxExpand
	if limit <= 0 {
		limit = DefaultMaxExpand
	}
	in := &progressReader{r: io.NewSectionReader(r, 0, fileSize), total: fileSize, report: o.progress}
	zr, err := decompressor(in, kind, o.limits)
	if err != nil {
		return nil, &FormatError{Format: string(kind), Offset: 0, Reason: err.Error(), Err: ErrFormat}
	}
	if c, ok := zr.(io.Closer); ok {
		defer c.Close()
	}
	size, err := expandSparse(tmp, zr, in, expandBounds{ctx: o.ctx, max: limit, ratio: int64(o.limits.ExpandRatio)})
	if err != nil {
		return nil, expandError(kind, in.done, size, limit, o.limits, err)
	}
	in.finish()
	inner, err := detectFormat(tmp, size)
	if err != nil {
		return nil, err
	}
	if inner.StreamOnly {
		return nil, &FormatError{Format: string(kind), Offset: -1, Reason: fmt.Sprintf("%s upload holds %s, which is not supported inside an upload", kind, inner.Format), Err: ErrUnsupported}
	}
	c, err := openAs(inner, tmp, size, source{Name: src.Name, Dir: src.Dir, File: tmp}, o)
	if err != nil {
		return nil, err
	}
	c.Layers[0].Path, c.Layers[0].FileSize = "", size
	layer := Layer{Format: kind, Detail: fmt.Sprintf("%s, %s expanded", kind, byteSize(size)), Path: src.Name, FileSize: fileSize}
	c.Layers = append([]Layer{layer}, c.Layers...)
	c.Allocated = fileSize
	return c, nil
}

// decompressor returns a reader of the decompressed stream r of kind,
// refusing an xz dictionary or a zstd window over l's limits.
func decompressor(r io.Reader, kind Format, l Limits) (io.Reader, error) {
	switch kind {
	case Gzip:
		return gzip.NewReader(r)
	case Bzip2:
		return bzip2.NewReader(r), nil
	case XZ:
		return xz.NewReader(newXZGuard(r, l.XZDictionary))
	case Zstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(uint64(l.ZstdWindow)))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("no decompressor for %s", kind)
}

// expandError turns a failed expansion into a FormatError: a limit, a
// corrupt or truncated stream (at compressed offset in), or else an error
// that is no fault of the upload: a host error writing the temporary
// file, or the context's end.
func expandError(kind Format, in, out, limit int64, l Limits, err error) error {
	if de, ok := errors.AsType[*XZDictError](err); ok {
		return &FormatError{Format: string(kind), Offset: de.Offset, Reason: de.Error() + "; --limit xz-dictionary=SIZE raises it", Err: ErrUnsupported}
	}
	switch {
	case err == errTooLarge:
		return &FormatError{Format: string(kind), Offset: in, Reason: fmt.Sprintf("upload expands to more than %s (the --max-expand limit)", byteSize(limit)), Err: ErrUnsupported}
	case err == errRatio:
		return &FormatError{Format: string(kind), Offset: in, Reason: fmt.Sprintf("upload expands to %s from %s read, more than %d times over past the first %s (the expand-ratio limit; a decompression bomb? --limit expand-ratio=N raises it)", byteSize(out), byteSize(in), l.ExpandRatio, byteSize(ratioGrace)), Err: ErrUnsupported}
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return &FormatError{Format: string(kind), Offset: in, Reason: fmt.Sprintf("a frame declares a window over the zstd-window limit of %s; --limit zstd-window=SIZE raises it", byteSize(l.ZstdWindow)), Err: ErrUnsupported}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("expanding %s upload stopped after %s: %w", kind, byteSize(out), err)
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
