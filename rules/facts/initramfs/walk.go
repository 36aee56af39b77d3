package initramfs

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/imgcheck/imgcheck/image"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// ErrCap reports that reading an initramfs reached one of its Limits: the
// answer is unknown, never "not there".
var ErrCap = errors.New("initramfs: cap reached")

// Limits bound the work of reading one initramfs. Zero fields take the
// DefaultLimits value.
type Limits struct {
	Bytes   int64 // archive bytes read, after decompression, all segments together
	Entries int   // cpio members
	Name    int   // bytes in one member's name
	Memory  int64 // an xz dictionary or a zstd window
}

// DefaultLimits are the bounds Find applies unless told otherwise: four
// times the largest distribution initramfs (Ubuntu's with every module,
// about 250 MB unpacked), the kernel's PATH_MAX for names, and xz -9's
// dictionary for memory.
func DefaultLimits() Limits {
	return Limits{Bytes: 1 << 30, Entries: 200000, Name: 4096, Memory: 64 << 20}
}

// Summary says what a walk read.
type Summary struct {
	Segments []string // "cpio", "gzip", "zstd", "xz", "lz4", "bzip2", in the order read
	Entries  int      // cpio members read (trailers left out)
	Bytes    int64    // archive bytes read, after decompression
}

// maxSegments bounds the stored archives and compressed streams of one
// initramfs: distributions write one to four (microcode for each vendor,
// then the main archive), and an empty gzip stream of 20 bytes unpacks to
// nothing, so Limits.Bytes alone would not bound them.
const maxSegments = 1024

// pollEvery is how many archive bytes pass between two zero-length reads
// of the source: a source that fails once its context is done (a guest
// file) then stops a walk inside a long decompression too.
const pollEvery = 1 << 20

// Find walks the initramfs r and returns the name of the first regular
// member for which match is true, or "" when none is, having read the
// whole of it. Any fault (a corrupt or truncated archive, an unsupported
// compression, a limit reached: errors.Is(err, ErrCap)) is an error, and
// then the answer is unknown.
func Find(r io.Reader, l Limits, match func(name string) bool) (string, Summary, error) {
	d := DefaultLimits()
	if l.Bytes <= 0 {
		l.Bytes = d.Bytes
	}
	if l.Entries <= 0 {
		l.Entries = d.Entries
	}
	if l.Name <= 0 {
		l.Name = d.Name
	}
	if l.Memory <= 0 {
		l.Memory = d.Memory
	}
	w := &walker{in: newPosReader(r), raw: r, l: l, match: match}
	name, err := w.segments()
	return name, w.sum, err
}

// walker is one Find.
type walker struct {
	in     *posReader // the initramfs as stored
	raw    io.Reader  // polled for its context
	l      Limits
	sum    Summary
	polled int64
	match  func(string) bool
}

// segments reads the stored stream: NUL padding, stored archives and
// compressed segments. A gzip or xz segment ends where its stream ends and
// more may follow, as the kernel allows; the other decompressors read
// ahead, so their segment is the last (where mkinitramfs, dracut and
// mkinitcpio put the compressed archive).
func (w *walker) segments() (string, error) {
	for {
		if err := w.skipNULs(w.in); err == io.EOF {
			return "", nil
		} else if err != nil {
			return "", err
		}
		start := w.in.pos
		if len(w.sum.Segments) == maxSegments {
			return "", fmt.Errorf("%w: more than %d segments (stored archives and compressed streams)", ErrCap, maxSegments)
		}
		magic, _ := w.in.br.Peek(6)
		kind := detect(magic)
		w.sum.Segments = append(w.sum.Segments, kind)
		if kind == "cpio" {
			if name, err := w.archives(w.in, fmt.Sprintf("cpio at 0x%x", start), true); name != "" || err != nil {
				return name, err
			}
			continue
		}
		dec, last, err := w.decoder(kind, start)
		if err != nil {
			return "", err
		}
		name, err := w.archives(newPosReader(dec), fmt.Sprintf("%s at 0x%x", kind, start), false)
		if c, ok := dec.(io.Closer); ok {
			c.Close()
		}
		if name != "" || err != nil || last {
			return name, err
		}
	}
}

// detect names the segment a stored stream starts with.
func detect(magic []byte) string {
	for _, m := range []struct{ kind, magic string }{
		{"cpio", "07070"},
		{"gzip", "\x1f\x8b"},
		{"zstd", "\x28\xb5\x2f\xfd"},
		{"xz", "\xfd7zXZ\x00"},
		{"lz4", "\x02\x21\x4c\x18"}, // legacy framing, as the kernel's lz4 initramfs
		{"lz4", "\x04\x22\x4d\x18"},
		{"bzip2", "BZh"},
		{"lzma", "\x5d\x00\x00"},
		{"lzo", "\x89LZO"},
	} {
		if bytes.HasPrefix(magic, []byte(m.magic)) {
			return m.kind
		}
	}
	return "unknown"
}

// decoder opens the compressed segment of kind at the current position
// and says whether it must be the last.
func (w *walker) decoder(kind string, start int64) (io.Reader, bool, error) {
	fail := func(err error) (io.Reader, bool, error) {
		return nil, false, &image.FormatError{Format: "initramfs", Offset: start, Reason: fmt.Sprintf("%s segment at 0x%x: %v", kind, start, err), Err: err}
	}
	switch kind {
	case "gzip":
		z, err := gzip.NewReader(w.in)
		if err != nil {
			return fail(err)
		}
		z.Multistream(false)
		return z, false, nil
	case "xz":
		x, err := image.NewXZStreamReader(w.in, w.l.Memory)
		if err != nil {
			return nil, false, w.wrap(kind, w.in, err)
		}
		return x, false, nil
	case "zstd":
		d, err := zstd.NewReader(w.in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(uint64(w.l.Memory)), zstd.WithDecoderMaxMemory(uint64(w.l.Memory)))
		if err != nil {
			return fail(err)
		}
		return d.IOReadCloser(), true, nil
	case "lz4":
		z := lz4.NewReader(w.in)
		if err := z.Apply(lz4.ConcurrencyOption(1)); err != nil {
			return fail(err)
		}
		return z, true, nil
	case "bzip2":
		return bzip2.NewReader(w.in), true, nil
	case "unknown":
		return nil, false, &image.FormatError{Format: "initramfs", Offset: start, Reason: fmt.Sprintf("neither a cpio archive nor compressed data at 0x%x", start), Err: image.ErrFormat}
	}
	return nil, false, &image.FormatError{Format: "initramfs", Offset: start, Reason: fmt.Sprintf("%s segment at 0x%x: %s compression is not read", kind, start, kind), Err: image.ErrUnsupported}
}

// archives reads cpio archives from in, NUL padding between them, to the
// end of in, or only the first when one is set (a stored segment, after
// which anything may follow).
func (w *walker) archives(in *posReader, format string, one bool) (string, error) {
	c := &cpioReader{r: in, format: format, maxName: w.l.Name}
	for {
		if !one {
			if err := w.skipNULs(in); err == io.EOF {
				return "", nil
			} else if err != nil {
				return "", w.wrap(format, in, err)
			}
		}
		for {
			before := in.pos
			e, err := c.nextWithin(w.l.Bytes - w.sum.Bytes)
			if err := w.spend(in.pos - before); err != nil {
				return "", err
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return "", w.wrap(format, in, err)
			}
			if w.sum.Entries++; w.sum.Entries > w.l.Entries {
				return "", fmt.Errorf("%w: more than %d cpio entries", ErrCap, w.l.Entries)
			}
			if e.isRegular() && w.match(e.name) {
				return e.name, nil
			}
		}
		if one {
			return "", nil
		}
	}
}

// wrap names the segment in a decompressor's error; the cpio reader's own
// errors name it already.
func (w *walker) wrap(format string, in *posReader, err error) error {
	if _, ok := errors.AsType[*image.FormatError](err); ok || errors.Is(err, ErrCap) {
		return err
	}
	if de, ok := errors.AsType[*image.XZDictError](err); ok {
		return fmt.Errorf("%w: %s: xz block at 0x%x needs a dictionary of %d bytes, over the %d-byte memory limit", ErrCap, format, de.Offset, de.Dict, de.Max)
	}
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return fmt.Errorf("%w: %s: zstd window over the %d-byte memory limit (%v)", ErrCap, format, w.l.Memory, err)
	}
	return &image.FormatError{Format: "initramfs", Offset: in.pos, Reason: fmt.Sprintf("%s: at 0x%x of its data: %v", format, in.pos, err), Err: err}
}

// skipNULs consumes NUL padding, counting it as archive bytes; it returns
// io.EOF at the end of in.
func (w *walker) skipNULs(in *posReader) error {
	for {
		b, err := in.br.Peek(4096)
		if len(b) == 0 {
			if err == nil {
				err = io.EOF
			}
			return err
		}
		n := 0
		for n < len(b) && b[n] == 0 {
			n++
		}
		in.br.Discard(n)
		in.pos += int64(n)
		if err := w.spend(int64(n)); err != nil {
			return err
		}
		if n < len(b) {
			return nil
		}
	}
}

// A real initramfs unpacks to 2–10 times its size (kernel modules and
// firmware compress little); past ratioGrace bytes, one unpacking to more
// than maxRatio times what was read of it is a decompression bomb, refused
// before it costs seconds of decoding per kernel.
const (
	ratioGrace = 64 << 20
	maxRatio   = 100
)

// spend counts n archive bytes against Limits.Bytes and the expansion
// ratio, polling the source every pollEvery bytes.
func (w *walker) spend(n int64) error {
	w.sum.Bytes += n
	if w.sum.Bytes > w.l.Bytes {
		return fmt.Errorf("%w: more than %d bytes of archive (the initramfs limit)", ErrCap, w.l.Bytes)
	}
	if w.sum.Bytes > ratioGrace && w.sum.Bytes > maxRatio*max(w.in.pos, 1) {
		return fmt.Errorf("%w: %d bytes of archive from the first %d bytes of the file: over %d times, a decompression bomb", ErrCap, w.sum.Bytes, w.in.pos, maxRatio)
	}
	if w.sum.Bytes-w.polled >= pollEvery {
		w.polled = w.sum.Bytes
		if _, err := w.raw.Read(nil); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// posReader is a buffered reader that counts the bytes taken from it. Its
// ReadByte lets gzip and the xz walker stop exactly at their stream's end.
type posReader struct {
	br  *bufio.Reader
	pos int64
}

func newPosReader(r io.Reader) *posReader { return &posReader{br: bufio.NewReaderSize(r, 64<<10)} }

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.br.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) ReadByte() (byte, error) {
	c, err := p.br.ReadByte()
	if err == nil {
		p.pos++
	}
	return c, err
}
