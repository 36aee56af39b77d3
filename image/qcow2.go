package image

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	qimage "github.com/lima-vm/go-qcow2reader/image"
	"github.com/lima-vm/go-qcow2reader/image/qcow2"
	"github.com/lima-vm/go-qcow2reader/image/raw"
)

func init() {
	registerFormat(containerFormat{Format: QCOW2, Match: func(head []byte, _ io.ReaderAt, _ int64) bool { return hasAt(head, 0, qcow2Magic) }, Open: openQCOW2})
}

// openQCOW2 opens the qcow2 file r of size bytes through go-qcow2reader
// after validating its header (and, when o allows backing files, the
// headers of its backing chain, confined to src.Dir) itself. Reads go
// through a bounded cluster cache, so a compressed cluster is inflated
// once while it stays cached.
func openQCOW2(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	hdr, err := readQCOW2Header(r, size, o.limits.QCOW2L1Bytes)
	if err != nil {
		return nil, err
	}
	if hdr.backingName != "" && src.Dir == "" {
		return nil, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "has backing file %q, which is not read beside a remote image", hdr.backingName)
	}
	if hdr.backingName != "" && !o.allowBacking {
		return nil, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "has backing file %q; pass --allow-backing to read it", hdr.backingName)
	}
	var chain []*backingFile
	if hdr.backingName != "" {
		if chain, err = openBackingChain(src.Dir, hdr, o.limits); err != nil {
			return nil, err
		}
	}
	l1 := readTable(r, hdr.l1Offset, uint64(hdr.l1Size)*8, o.limits.QCOW2L1Bytes)
	fetchL2Tables(r, size, hdr, l1)
	referenced := qcow2Referenced(r, size, hdr, l1, o.limits.QCOW2L1Bytes)
	var closers []io.Closer
	for _, b := range chain {
		closers = append(closers, b.f)
	}
	virt, err := openQCOW2Layers(r, hdr, chain)
	if err != nil {
		for _, b := range chain {
			b.f.Close()
		}
		return nil, err
	}
	vsize := int64(hdr.size)
	return &container{
		Disk:       newClusterCache(virt, vsize, hdr.clusterSize(), hdr.extendedL2(), o.limits.QCOW2Cache, newQCOW2Runs(r, size, hdr, l1)),
		Size:       vsize,
		Layers:     qcow2Chain(src, size, hdr, chain),
		Allocated:  size,
		Referenced: referenced,
		Closers:    closers,
	}, nil
}

// qcow2Chain lists the layers of a qcow2 image: the file itself, each
// backing file (Backing set, Detail "backing file, ..."), and the raw disk
// they make when the last backing file is not itself raw.
func qcow2Chain(src source, size int64, hdr *qcow2Header, chain []*backingFile) []Layer {
	layers := []Layer{hdr.layer(src.Name, size)}
	for _, b := range chain {
		path := filepath.Join(src.Dir, b.rel)
		l := Layer{Format: Raw, Detail: "backing file, raw", Path: path, FileSize: b.size, Backing: true}
		if b.hdr != nil {
			l = b.hdr.layer(path, b.size)
			l.Detail, l.Backing = "backing file, "+l.Detail, true
		}
		layers = append(layers, l)
	}
	if layers[len(layers)-1].Format != Raw {
		layers = append(layers, Layer{Format: Raw, FileSize: -1})
	}
	return layers
}

// openQCOW2Layers opens the top file and its backing chain with
// go-qcow2reader, from the bottom up. The library would open a backing
// file by itself, from any host path the header names; it is instead shown
// a header naming os.DevNull, and handed the layer below, already opened
// and confined, when it asks for that file.
func openQCOW2Layers(top io.ReaderAt, hdr *qcow2Header, chain []*backingFile) (qimage.Image, error) {
	var below qimage.Image
	for i := len(chain) - 1; i >= -1; i-- {
		r, h, name := top, hdr, "image"
		if i >= 0 {
			r, h, name = chain[i].f, chain[i].hdr, chain[i].rel
		}
		if h == nil {
			img, err := raw.Open(r)
			if err != nil {
				return nil, err
			}
			below = img
			continue
		}
		lower := below
		img, err := qcow2.Open(hideBacking(r, h, lower != nil), func(dev io.ReaderAt, _ qimage.Type) (qimage.Image, error) {
			if c, ok := dev.(io.Closer); ok {
				c.Close()
			}
			return lower, nil
		})
		if err == nil {
			err = img.Readable()
		}
		if err != nil {
			return nil, qcow2Error(-1, ErrFormat, "%s: %v", name, err)
		}
		below = img
	}
	return below, nil
}

// layer describes the qcow2 file at path, size bytes, that h heads.
func (h *qcow2Header) layer(path string, size int64) Layer {
	return Layer{Format: QCOW2, Detail: h.detail(), Path: path, FileSize: size, Subformat: fmt.Sprintf("v%d", h.version), Codec: h.compressionName()}
}

// hideBacking returns r as go-qcow2reader should see it: with the backing
// file fields of the header rewritten to name os.DevNull (when
// hasBacking) or nothing, the name placed past the end of any real file.
func hideBacking(r io.ReaderAt, h *qcow2Header, hasBacking bool) io.ReaderAt {
	fields := make([]byte, 12) // backing_file_offset, backing_file_size
	p := &patchedReader{r: r, patches: []patch{{off: 8, data: fields}}}
	if hasBacking {
		const nameAt = 1 << 62
		binary.BigEndian.PutUint64(fields, nameAt)
		binary.BigEndian.PutUint32(fields[8:], uint32(len(os.DevNull)))
		p.patches = append(p.patches, patch{off: nameAt, data: []byte(os.DevNull)})
	}
	return p
}

// A patch replaces the bytes at off with data.
type patch struct {
	off  int64
	data []byte
}

// A patchedReader reads r with some byte ranges replaced. A read that lies
// wholly inside a patch is served from it, even beyond the end of r.
type patchedReader struct {
	r       io.ReaderAt
	patches []patch
}

func (p *patchedReader) ReadAt(b []byte, off int64) (int, error) {
	end := off + int64(len(b))
	for _, pt := range p.patches {
		if off >= pt.off && end <= pt.off+int64(len(pt.data)) {
			return copy(b, pt.data[off-pt.off:]), nil
		}
	}
	n, err := p.r.ReadAt(b, off)
	for _, pt := range p.patches {
		lo, hi := max(off, pt.off), min(off+int64(n), pt.off+int64(len(pt.data)))
		if lo < hi {
			copy(b[lo-off:hi-off], pt.data[lo-pt.off:])
		}
	}
	return n, err
}
