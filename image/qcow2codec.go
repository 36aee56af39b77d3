package image

import (
	"github.com/klauspost/compress/flate"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/lima-vm/go-qcow2reader/image/qcow2"
	qlog "github.com/lima-vm/go-qcow2reader/log"
)

// init sets go-qcow2reader up for imgcheck: pooled decompressors that
// fill a whole cluster in one Read (the library re-inflates a cluster from
// its start after a short read), zstd from klauspost/compress, and no
// logging (imgcheck validates the header itself and reports by errors).
func init() {
	qcow2.SetDecompressor(qcow2.CompressionTypeZlib, openDeflate)
	qcow2.SetDecompressor(qcow2.CompressionTypeZstd, openZstd)
	qlog.SetWarnFunc(nil)
}

// zstdMaxWindow bounds the memory a zstd cluster may ask for; qcow2
// clusters are at most 2 MiB.
const zstdMaxWindow = 8 << 20

var (
	deflatePool sync.Pool // of io.ReadCloser implementing flate.Resetter
	zstdPool    sync.Pool // of *zstd.Decoder
)

// openDeflate returns a raw-deflate reader (qcow2's "zlib" has no zlib
// header) from the pool.
func openDeflate(r io.Reader) (io.ReadCloser, error) {
	if zr, ok := deflatePool.Get().(io.ReadCloser); ok {
		if err := zr.(flate.Resetter).Reset(r, nil); err != nil {
			return nil, err
		}
		return &fullReader{r: zr, done: func() { deflatePool.Put(zr) }}, nil
	}
	zr := flate.NewReader(r)
	return &fullReader{r: zr, done: func() { deflatePool.Put(zr) }}, nil
}

// openZstd returns a synchronous zstd decoder from the pool.
func openZstd(r io.Reader) (io.ReadCloser, error) {
	d, ok := zstdPool.Get().(*zstd.Decoder)
	if !ok {
		var err error
		d, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(zstdMaxWindow))
		if err != nil {
			return nil, err
		}
	}
	if err := d.Reset(r); err != nil {
		return nil, err
	}
	return &fullReader{r: d, done: func() { zstdPool.Put(d) }}, nil
}

// A fullReader fills p completely on each Read unless the stream ends or
// fails, and hands its decoder back to the pool on Close.
type fullReader struct {
	r    io.Reader
	done func()
}

func (f *fullReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

func (f *fullReader) Close() error {
	if f.done != nil {
		f.done()
		f.done = nil
	}
	return nil
}
