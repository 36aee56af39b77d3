package image

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// openVMDKDescriptor opens the text descriptor top, size bytes, and the
// extent files it names, each read only from src.Dir.
func openVMDKDescriptor(top *readCounter, size int64, src source, l Limits, cache *vmdkCache) (c *container, err error) {
	if size > vmdkMaxDescriptor {
		return nil, vmdkError(0, ErrUnsupported, "descriptor file of %d bytes is larger than the %d bytes a descriptor may have", size, vmdkMaxDescriptor)
	}
	text := make([]byte, size)
	if err := vmdkReadFull(top, text, 0, size, "descriptor"); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(text, []byte(vmdkDescriptorMagic)) {
		return nil, vmdkError(0, ErrFormat, "file starts with neither a sparse extent header nor %q", vmdkDescriptorMagic)
	}
	d, err := parseVMDKDescriptor(string(text[:vmdkTextLen(text)]), l.VMDKExtents)
	if err != nil {
		return nil, err
	}
	if err := d.refuseParent(); err != nil {
		return nil, err
	}
	if len(d.extents) == 0 {
		return nil, vmdkError(-1, ErrFormat, "descriptor lists no extents")
	}
	files := &vmdkFiles{src: src, top: top, opened: map[string]*vmdkFile{}}
	defer func() {
		if err != nil {
			files.close()
		}
	}()
	disk := &vmdkDisk{}
	var first *vmdkSparse
	var total int64
	for i, e := range d.extents {
		if e.access == "NOACCESS" {
			return nil, vmdkError(-1, ErrUnsupported, "descriptor line %d: extent %q is NOACCESS", e.line, vmdkQuote(e.file))
		}
		if e.sectors > (math.MaxInt64-total)/vmdkSector {
			return nil, vmdkError(-1, ErrFormat, "descriptor line %d: the extents add up to more than 2^63 bytes", e.line)
		}
		ext := vmdkExtent{start: total, size: e.sectors * vmdkSector}
		switch e.kind {
		case "ZERO":
		case "FLAT", "VMFS":
			f, err := files.open(e)
			if err != nil {
				return nil, err
			}
			if e.offset > math.MaxInt64/vmdkSector || !fitsIn(uint64(e.offset)*vmdkSector, uint64(ext.size), f.size) {
				return nil, vmdkError(-1, ErrTruncated, "descriptor line %d: flat extent %q (%d sectors at sector %d) runs past end of its file (size 0x%x)", e.line, vmdkQuote(e.file), e.sectors, e.offset, f.size)
			}
			ext.flat, ext.base, ext.fsize, ext.name = f.r, e.offset*vmdkSector, f.size, e.file
		case "SPARSE":
			f, err := files.open(e)
			if err != nil {
				return nil, err
			}
			if ext.sparse, err = openVMDKSparse(f.r, f.size, e.file, i+1, l, cache); err != nil {
				return nil, err
			}
			if ext.sparse.h.capacity != uint64(e.sectors) {
				return nil, vmdkError(-1, ErrFormat, "descriptor line %d: extent %q has %d sectors, but its header says %d", e.line, vmdkQuote(e.file), e.sectors, ext.sparse.h.capacity)
			}
			if first == nil {
				first = ext.sparse
			}
		case "VMFSSPARSE", "SESPARSE", "VMFSRDM", "VMFSRAW":
			return nil, vmdkError(-1, ErrUnsupported, "descriptor line %d: %s extents are not read", e.line, e.kind)
		default:
			return nil, vmdkError(-1, ErrFormat, "descriptor line %d: unknown extent type %q", e.line, vmdkQuote(e.kind))
		}
		disk.extents = append(disk.extents, ext)
		total += ext.size
	}
	subformat := d.createType
	if subformat == "" {
		subformat = "custom"
	}
	return &container{
		Disk:       disk,
		Size:       total,
		Layers:     vmdkLayers(src, size, subformat, first, len(disk.extents)),
		Allocated:  size + files.bytes(),
		Referenced: size,
		Closers:    append([]io.Closer{top}, files.closers()...),
	}, nil
}

// vmdkFiles are the extent files of a descriptor, each opened once.
type vmdkFiles struct {
	src    source
	top    *readCounter // the descriptor's reads, which extent reads add to
	root   *os.Root     // src.Dir, opened at the first extent file
	opened map[string]*vmdkFile
	order  []*vmdkFile
}

// A vmdkFile is an opened extent file.
type vmdkFile struct {
	f    *os.File
	r    io.ReaderAt // f, counted with the descriptor's reads
	size int64
}

// open opens the file of extent e, confined to the descriptor's
// directory: its name must be relative and stay inside the directory,
// through ".." or symbolic links; it must be a regular file and not the
// descriptor itself; a sparse extent must not be another descriptor.
func (files *vmdkFiles) open(e vmdkExtentLine) (*vmdkFile, error) {
	refuse := func(why string) (*vmdkFile, error) {
		return nil, vmdkError(-1, ErrUnsupported, "descriptor line %d: extent file %q %s; only files beside the descriptor are read", e.line, vmdkQuote(e.file), why)
	}
	switch {
	case e.file == "":
		return nil, vmdkError(-1, ErrFormat, "descriptor line %d: %s extent has no file name", e.line, e.kind)
	case files.src.Dir == "":
		return nil, vmdkError(-1, ErrUnsupported, "descriptor line %d: extent file %q is not read: the descriptor is not a file on this host (it is a remote object or an archive member)", e.line, vmdkQuote(e.file))
	case strings.ContainsRune(e.file, 0):
		return refuse("is not a valid name")
	case filepath.IsAbs(e.file) || strings.Contains(e.file, "://"):
		return refuse("is an absolute path")
	case !filepath.IsLocal(e.file):
		return refuse("is outside the descriptor's directory")
	}
	name := filepath.Clean(e.file)
	if f, ok := files.opened[name]; ok {
		return f, nil
	}
	if files.root == nil {
		root, err := os.OpenRoot(files.src.Dir)
		if err != nil {
			return nil, vmdkError(-1, ErrUnsupported, "opening the descriptor's directory for extent files: %v", err)
		}
		files.root = root
	}
	// O_NONBLOCK: a FIFO planted as an extent must not wait for a writer.
	f, err := files.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, vmdkError(-1, ErrFormat, "descriptor line %d: extent file %q is missing", e.line, vmdkQuote(e.file))
	}
	if err != nil {
		return refuse("cannot be opened (" + err.Error() + ")")
	}
	vf := &vmdkFile{f: f, r: &vmdkCounted{r: f, c: files.top}}
	files.order = append(files.order, vf)
	files.opened[name] = vf
	st, err := f.Stat()
	if err != nil {
		return nil, vmdkError(-1, ErrUnsupported, "descriptor line %d: extent file %q: %v", e.line, vmdkQuote(e.file), err)
	}
	if !st.Mode().IsRegular() {
		return refuse("is not a regular file")
	}
	if self := files.src.File; self != nil {
		if sst, err := self.Stat(); err == nil && os.SameFile(st, sst) {
			return nil, vmdkError(-1, ErrFormat, "descriptor line %d: the descriptor names itself as extent file %q", e.line, vmdkQuote(e.file))
		}
	}
	vf.size = st.Size()
	if e.kind == "SPARSE" {
		head := make([]byte, len(vmdkDescriptorMagic))
		if n, _ := f.ReadAt(head, 0); n == len(head) && string(head) == vmdkDescriptorMagic {
			return nil, vmdkError(-1, ErrFormat, "descriptor line %d: sparse extent %q is another descriptor; descriptors are not followed", e.line, vmdkQuote(e.file))
		}
		if n, _ := f.ReadAt(head[:4], 0); n == 4 && string(head[:4]) == vmdkCOWDMagic {
			return nil, vmdkError(-1, ErrUnsupported, "descriptor line %d: extent %q is an ESX vmfsSparse (COWD) extent, which is not read", e.line, vmdkQuote(e.file))
		}
	}
	return vf, nil
}

// bytes is the size of the extent files together.
func (files *vmdkFiles) bytes() int64 {
	var n int64
	for _, f := range files.order {
		n += f.size
	}
	return n
}

// closers returns the opened files, for the container to close.
func (files *vmdkFiles) closers() []io.Closer {
	var cs []io.Closer
	for _, f := range files.order {
		cs = append(cs, f.f)
	}
	if files.root != nil {
		files.root.Close()
		files.root = nil
	}
	return cs
}

// close closes every opened file, after a failed open.
func (files *vmdkFiles) close() {
	for _, c := range files.closers() {
		c.Close()
	}
}

// A vmdkCounted reads an extent file and counts the reads with the
// descriptor's, so that the Image's Stats cover every file.
type vmdkCounted struct {
	r io.ReaderAt
	c *readCounter
}

func (v *vmdkCounted) ReadAt(p []byte, off int64) (int, error) {
	n, err := v.r.ReadAt(p, off)
	v.c.calls.Add(1)
	v.c.bytes.Add(int64(n))
	return n, err
}
