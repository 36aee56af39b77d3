package image

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	registerFormat(containerFormat{Format: VMDK, Match: matchVMDK, Open: openVMDK})
}

// matchVMDK reports a sparse extent header (hosted KDMV, or ESX COWD,
// which is refused) or a text descriptor.
func matchVMDK(head []byte, _ io.ReaderAt, _ int64) bool {
	return bytes.HasPrefix(head, []byte(vmdkMagic)) || bytes.HasPrefix(head, []byte(vmdkCOWDMagic)) ||
		bytes.HasPrefix(head, []byte(vmdkDescriptorMagic))
}

// openVMDK opens the VMDK r, size bytes from src: a single hosted sparse
// file (monolithicSparse or streamOptimized, with its embedded
// descriptor), or a text descriptor whose extents are files beside it
// (monolithicFlat, twoGbMaxExtentSparse, twoGbMaxExtentFlat, ESXi vmfs).
// Differencing disks and ESX sparse (COWD, SESPARSE) extents are refused.
func openVMDK(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	// top counts the reads of r (and for VMDK, of its extent files) for
	// Stats; the opener closes r.
	top := &readCounter{r: r}
	cache := newVMDKCache(o.limits.VMDKCache)
	magic := make([]byte, 4)
	if size >= 4 {
		if err := vmdkReadFull(top, magic, 0, size, "magic"); err != nil {
			return nil, err
		}
	}
	switch string(magic) {
	case vmdkCOWDMagic:
		return nil, vmdkError(0, ErrUnsupported, "ESX vmfsSparse (COWD) extents are not read")
	case vmdkMagic:
		return openVMDKMonolithic(top, size, src, o.limits, cache)
	}
	return openVMDKDescriptor(top, size, src, o.limits, cache)
}

// openVMDKMonolithic opens a disk held in one sparse file.
func openVMDKMonolithic(top *readCounter, size int64, src source, l Limits, cache *vmdkCache) (*container, error) {
	s, err := openVMDKSparse(top, size, "", 0, l, cache)
	if err != nil {
		return nil, err
	}
	// The subformat is what the header says is read; the embedded
	// descriptor is read only for a parent, which is refused.
	if s.h.descSectors > 0 {
		text := make([]byte, min(s.h.descSectors*vmdkSector, vmdkMaxDescriptor))
		if err := vmdkReadFull(top, text, int64(s.h.descOffset)*vmdkSector, size, "embedded descriptor"); err != nil {
			return nil, err
		}
		d, err := parseVMDKDescriptor(string(text[:vmdkTextLen(text)]), l.VMDKExtents)
		if err != nil {
			return nil, err
		}
		if err := d.refuseParent(); err != nil {
			return nil, err
		}
	}
	disk := &vmdkDisk{extents: []vmdkExtent{{size: s.h.virtualSize(), sparse: s}}}
	return &container{
		Disk:       disk,
		Size:       s.h.virtualSize(),
		Layers:     vmdkLayers(src, size, s.h.subformat(), s, 0),
		Allocated:  size,
		Referenced: s.referenced(),
		Closers:    []io.Closer{top},
	}, nil
}

// vmdkTextLen is the length of descriptor text padded with NULs.
func vmdkTextLen(b []byte) int {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i
	}
	return len(b)
}

// refuseParent refuses a differencing disk, one with a parent.
func (d *vmdkDescriptor) refuseParent() error {
	if d.parentCID == "" || strings.EqualFold(d.parentCID, "ffffffff") {
		return nil
	}
	return vmdkError(-1, ErrUnsupported, "differencing disk (parentCID %s, parent %q) is not read; convert it with its parent into one image", vmdkQuote(d.parentCID), vmdkQuote(d.parentHint))
}

// vmdkLayers is the layer list of a VMDK: the descriptor or sparse file,
// then the raw disk it presents. s is the first sparse extent, nil for
// flat ones; extents counts a descriptor's extents, 0 for a sparse file.
func vmdkLayers(src source, size int64, subformat string, s *vmdkSparse, extents int) []Layer {
	l := Layer{Format: VMDK, Subformat: subformat, Detail: subformat, Path: src.Name, FileSize: size}
	switch {
	case extents == 1:
		l.Detail += ", 1 extent"
	case extents > 1:
		l.Detail += fmt.Sprintf(", %d extents", extents)
	}
	if s != nil {
		l.Detail += ", grain " + clusterSizeString(s.h.grainBytes())
		if s.h.compressed() {
			l.Codec = "deflate"
			l.Detail += ", deflate"
		}
	}
	return []Layer{l, {Format: Raw, FileSize: -1}}
}

// A vmdkExtent is one extent of the virtual disk, size bytes: sparse,
// flat (a byte range of a file), or zero.
type vmdkExtent struct {
	start  int64 // virtual offset
	size   int64
	sparse *vmdkSparse
	flat   io.ReaderAt // with base, fileSize and name when flat
	base   int64
	fsize  int64
	name   string
}

// A vmdkDisk is the virtual disk of a VMDK: its extents end to end.
type vmdkDisk struct {
	extents []vmdkExtent
}

// ReadAt reads p at off, extent by extent. Reads past the end of the disk
// return io.EOF.
func (d *vmdkDisk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, vmdkError(off, ErrFormat, "read at negative offset %d", off)
	}
	n := 0
	i := sort.Search(len(d.extents), func(i int) bool { return d.extents[i].start+d.extents[i].size > off })
	for n < len(p) {
		if i == len(d.extents) {
			return n, io.EOF
		}
		e := &d.extents[i]
		at := off + int64(n) - e.start
		m := int(min(int64(len(p)-n), e.size-at))
		if err := e.readAt(p[n:n+m], at); err != nil {
			return n, err
		}
		n += m
		i++
	}
	return n, nil
}

// readAt fills p from the extent at off, which lies inside it.
func (e *vmdkExtent) readAt(p []byte, off int64) error {
	switch {
	case e.sparse != nil:
		return e.sparse.readAt(p, off)
	case e.flat != nil:
		return vmdkReadFull(e.flat, p, e.base+off, e.fsize, fmt.Sprintf("flat extent %q", e.name))
	}
	clear(p)
	return nil
}
