package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
)

// Expansion works in chunks of expandChunk bytes and leaves a hole for
// every aligned run of expandBlock zero bytes.
const (
	expandChunk = 1 << 20
	expandBlock = 4096
	// progressStep is how much input passes between progress reports.
	progressStep = 4 << 20
	// ratioGrace is how far an expansion goes before its ratio is
	// checked: the start of a disk can be empty for a while (a
	// debootstrapped disk's BIOS boot and empty EFI partitions expand
	// 4,500 times over its first 128 MiB, 118 times over 256 MiB). The
	// slowest decoder (xz, 37 MB/s of zeros on a loaded 2-core machine)
	// passes it in 7 s.
	ratioGrace = 256 << 20
)

var (
	// errTooLarge stops an expansion that would pass its limit.
	errTooLarge = errors.New("expansion limit reached")
	// errRatio stops an expansion that outgrows its input too fast.
	errRatio = errors.New("expansion ratio limit reached")
)

// expandBounds bound one expansion: its output bytes (max), and its
// output per byte of input once past ratioGrace (ratio, 0 for none).
type expandBounds struct {
	ctx   context.Context
	max   int64
	ratio int64
}

// A writeError is a failure to write the temporary file, a host fault
// (a full disk, say) rather than a fault of the upload.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// expandSparse copies src, the output of a decoder reading in, into dst
// from offset 0, writing only the blocks that hold a non-zero byte so that
// zero runs become holes, and sets dst's size to the bytes copied. It
// stops with errTooLarge before writing anything past b.max bytes, with
// errRatio once past ratioGrace bytes that are more than b.ratio times the
// input in has read, and with b.ctx's error once it is done, all
// checked every expandChunk bytes. It returns the bytes copied so far.
func expandSparse(dst *os.File, src io.Reader, in *progressReader, b expandBounds) (int64, error) {
	buf := make([]byte, expandChunk)
	var size int64
	for {
		if err := b.ctx.Err(); err != nil {
			return size, err
		}
		n, rerr := fill(src, buf)
		if int64(n) > b.max-size {
			return size, errTooLarge
		}
		if out := size + int64(n); b.ratio > 0 && out > ratioGrace && out/b.ratio > in.done {
			return size, errRatio
		}
		if err := writeNonZero(dst, buf[:n], size); err != nil {
			return size, &writeError{err}
		}
		size += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return size, rerr
		}
	}
	if err := dst.Truncate(size); err != nil {
		return size, &writeError{err}
	}
	return size, nil
}

// fill reads from r until b is full or r fails, and returns r's error
// as it is: io.EOF at the end of the stream, io.ErrUnexpectedEOF only
// when the decompressor says the stream was cut short.
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeNonZero writes the runs of b made of blocks holding a non-zero
// byte to f at off onwards, one WriteAt per run.
func writeNonZero(f *os.File, b []byte, off int64) error {
	start := -1 // start of the current non-zero run, -1 if none
	for i := 0; i < len(b); i += expandBlock {
		blk := b[i:min(i+expandBlock, len(b))]
		if !allZero(blk) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if _, err := f.WriteAt(b[start:i], off+int64(start)); err != nil {
				return err
			}
			start = -1
		}
	}
	if start >= 0 {
		_, err := f.WriteAt(b[start:], off+int64(start))
		return err
	}
	return nil
}

// zeroBlock is compared with each block of an expansion.
var zeroBlock [expandBlock]byte

// allZero reports whether b, at most expandBlock bytes, is all zeros.
func allZero(b []byte) bool { return bytes.Equal(b, zeroBlock[:len(b)]) }

// A progressReader counts the compressed bytes read and reports them to
// report every progressStep bytes and once at the end.
type progressReader struct {
	r      io.Reader
	total  int64
	report func(done, total int64)
	done   int64
	next   int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.report != nil && p.done >= p.next {
		p.report(p.done, p.total)
		p.next = p.done + progressStep
	}
	return n, err
}

// finish reports the end of the input.
func (p *progressReader) finish() {
	if p.report != nil {
		p.report(p.total, p.total)
	}
}
