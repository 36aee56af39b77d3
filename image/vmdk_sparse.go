package image

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// A vmdkSparse is an opened hosted sparse extent (monolithicSparse,
// streamOptimized, or one file of twoGbMaxExtentSparse): its header and
// grain directory, read at open, and its grain tables and inflated
// grains, read when a read needs them and kept in the image's cache.
type vmdkSparse struct {
	r     io.ReaderAt
	size  int64  // bytes in the file
	in    string // names the extent file in errors; "" for the image file
	id    int    // the extent's part of cache keys
	h     vmdkHeader
	gd    []uint32       // grain table sectors, 0 for none
	meta  []vmdkMetadata // sectors no grain or grain table may overlap
	cache *vmdkCache
}

// A vmdkMetadata is a run of sectors holding metadata.
type vmdkMetadata struct {
	start, n uint64
	what     string
}

// A vmdkGT is a decoded grain table.
type vmdkGT struct {
	at      uint64   // its sector
	entries []uint32 // grain sectors; 0 unallocated, 1 a zero grain
	grains  []uint32 // the allocated grains' sectors, ascending
}

// openVMDKSparse opens the sparse extent r, size bytes: it validates the
// header, reads the grain directory, and checks that every grain table it
// names lies inside the file and clear of the header, the descriptor and
// the grain directories.
func openVMDKSparse(r io.ReaderAt, size int64, name string, id int, l Limits, cache *vmdkCache) (*vmdkSparse, error) {
	h, err := readVMDKHeader(r, size, name, l)
	if err != nil {
		return nil, err
	}
	s := &vmdkSparse{r: r, size: size, in: vmdkIn(name), id: id, h: h, cache: cache}
	s.meta = []vmdkMetadata{{0, 1, "header"}}
	if h.footer {
		s.meta = append(s.meta, vmdkMetadata{uint64(size)/vmdkSector - 3, 3, "footer"})
	}
	if h.descSectors > 0 {
		s.meta = append(s.meta, vmdkMetadata{h.descOffset, h.descSectors, "embedded descriptor"})
	}
	gdBytes := h.gdEntries() * 4
	gdSectors := (gdBytes + vmdkSector - 1) / vmdkSector
	s.meta = append(s.meta, vmdkMetadata{h.gdOffset, gdSectors, "grain directory"})
	if h.flags&vmdkFlagRGD != 0 {
		s.meta = append(s.meta, vmdkMetadata{h.rgdOffset, gdSectors, "redundant grain directory"})
	}
	b := make([]byte, gdBytes)
	if err := vmdkReadFull(r, b, int64(h.gdOffset)*vmdkSector, size, "grain directory"+s.in); err != nil {
		return nil, err
	}
	s.gd = make([]uint32, h.gdEntries())
	gtSectors := uint64(h.gtBytes()+vmdkSector-1) / vmdkSector
	for i := range s.gd {
		at := binary.LittleEndian.Uint32(b[4*i:])
		s.gd[i] = at
		if at == 0 {
			continue
		}
		if !fitsIn(uint64(at)*vmdkSector, uint64(h.gtBytes()), size) {
			return nil, vmdkError(int64(h.gdOffset)*vmdkSector+4*int64(i), ErrTruncated, "grain table %d%s at sector %d runs past end of file (size 0x%x)", i, s.in, at, size)
		}
		if m, ok := s.overlap(uint64(at), gtSectors); ok {
			return nil, vmdkError(int64(h.gdOffset)*vmdkSector+4*int64(i), ErrFormat, "grain table %d%s at sector %d overlaps the %s", i, s.in, at, m.what)
		}
	}
	return s, nil
}

// overlap returns the metadata that the n sectors at start overlap.
func (s *vmdkSparse) overlap(start, n uint64) (vmdkMetadata, bool) {
	for _, m := range s.meta {
		if start < m.start+m.n && m.start < start+n {
			return m, true
		}
	}
	return vmdkMetadata{}, false
}

// referenced is the end of the furthest byte of the file that the header
// and the grain directory point at.
func (s *vmdkSparse) referenced() int64 {
	end := uint64(0)
	for _, m := range s.meta {
		end = max(end, (m.start+m.n)*vmdkSector)
	}
	for _, at := range s.gd {
		if at != 0 {
			end = max(end, uint64(at)*vmdkSector+uint64(s.h.gtBytes()))
		}
	}
	return int64(end)
}

// table returns grain table i, from the cache or read and checked: every
// grain inside the file, clear of the metadata and of the table itself,
// and no two grains overlapping.
func (s *vmdkSparse) table(i int) (*vmdkGT, error) {
	at := uint64(s.gd[i])
	key := vmdkCacheKey{s.id, int64(at) * vmdkSector, false}
	if gt, ok := s.cache.get(key).(*vmdkGT); ok {
		return gt, nil
	}
	b := make([]byte, s.h.gtBytes())
	if err := vmdkReadFull(s.r, b, key.off, s.size, "grain table"+s.in); err != nil {
		return nil, err
	}
	gt := &vmdkGT{at: at, entries: make([]uint32, s.h.gtEntries)}
	span := s.h.grainSectors // sectors a grain occupies in the file
	if s.h.compressed() {
		span = 1 // at least its marker; its length is checked when read
	}
	self := vmdkMetadata{at, (uint64(len(b)) + vmdkSector - 1) / vmdkSector, "grain table"}
	for j := range gt.entries {
		e := binary.LittleEndian.Uint32(b[4*j:])
		gt.entries[j] = e
		if e == 0 || e == 1 && s.h.zeroGrains() {
			continue
		}
		where := key.off + 4*int64(j)
		if uint64(e) >= uint64(s.size)/vmdkSector {
			return nil, vmdkError(where, ErrTruncated, "grain table %d entry %d%s points at sector %d, past end of file (size 0x%x)", i, j, s.in, e, s.size)
		}
		m, ok := s.overlap(uint64(e), span)
		if !ok && uint64(e) < self.start+self.n && self.start < uint64(e)+span {
			m, ok = self, true
		}
		if ok {
			return nil, vmdkError(where, ErrFormat, "grain table %d entry %d%s points at sector %d, inside the %s", i, j, s.in, e, m.what)
		}
		gt.grains = append(gt.grains, e)
	}
	slices.Sort(gt.grains)
	for k := 1; k < len(gt.grains); k++ {
		if uint64(gt.grains[k]-gt.grains[k-1]) < span {
			return nil, vmdkError(key.off, ErrFormat, "grain table %d%s maps overlapping grains at sectors %d and %d (grain of %d sectors)", i, s.in, gt.grains[k-1], gt.grains[k], span)
		}
	}
	s.cache.put(key, gt, int64(len(b))*3)
	return gt, nil
}

// readAt reads p at off, which lies within the extent's capacity.
func (s *vmdkSparse) readAt(p []byte, off int64) error {
	gb := s.h.grainBytes()
	for len(p) > 0 {
		g := off / gb // grain number in the extent
		within := off % gb
		n := min(int64(len(p)), gb-within)
		if err := s.readGrain(p[:n], g, within); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// readGrain fills p from grain g at within bytes into it.
func (s *vmdkSparse) readGrain(p []byte, g, within int64) error {
	ti, ei := g/int64(s.h.gtEntries), g%int64(s.h.gtEntries)
	if s.gd[ti] == 0 {
		clear(p)
		return nil
	}
	gt, err := s.table(int(ti))
	if err != nil {
		return err
	}
	e := gt.entries[ei]
	if e == 0 || e == 1 && s.h.zeroGrains() {
		clear(p)
		return nil
	}
	if !s.h.compressed() {
		return vmdkReadFull(s.r, p, int64(e)*vmdkSector+within, s.size, "grain"+s.in)
	}
	data, err := s.inflated(gt, e, g)
	if err != nil {
		return err
	}
	copy(p, data[within:])
	return nil
}

// inflated returns compressed grain g, whose marker is at sector e, from
// the cache or read in one call (up to the next grain or table the file
// is known to hold) and inflated.
func (s *vmdkSparse) inflated(gt *vmdkGT, e uint32, g int64) ([]byte, error) {
	key := vmdkCacheKey{s.id, int64(e) * vmdkSector, true}
	if data, ok := s.cache.get(key).([]byte); ok {
		return data, nil
	}
	gb := s.h.grainBytes()
	maxLen := vmdkGrainMarkerLen + 2*gb // qemu's bound on a compressed grain
	bound := uint64(s.size) / vmdkSector
	if k, _ := slices.BinarySearch(gt.grains, e+1); k < len(gt.grains) {
		bound = uint64(gt.grains[k])
	}
	if gt.at > uint64(e) {
		bound = min(bound, gt.at)
	}
	want := min(max(int64(bound-uint64(e))*vmdkSector, vmdkSector), maxLen, s.size-key.off)
	if want < vmdkGrainMarkerLen {
		return nil, vmdkError(key.off, ErrTruncated, "grain marker%s at 0x%x runs past end of file (size 0x%x)", s.in, key.off, s.size)
	}
	buf := make([]byte, want)
	if err := vmdkReadFull(s.r, buf, key.off, s.size, "compressed grain"+s.in); err != nil {
		return nil, err
	}
	lba, clen := binary.LittleEndian.Uint64(buf), int64(binary.LittleEndian.Uint32(buf[8:]))
	if sector := uint64(g) * s.h.grainSectors; lba != sector {
		return nil, vmdkError(key.off, ErrFormat, "grain marker%s at 0x%x is for sector %d, but the grain table maps it to sector %d (overlapping or misplaced grain)", s.in, key.off, lba, sector)
	}
	if clen == 0 || clen > 2*gb {
		return nil, vmdkError(key.off+8, ErrFormat, "compressed grain%s at 0x%x claims %d bytes; 1 to %d are valid", s.in, key.off, clen, 2*gb)
	}
	if end := vmdkGrainMarkerLen + clen; end > want {
		rest := make([]byte, end)
		copy(rest, buf)
		if err := vmdkReadFull(s.r, rest[want:], key.off+want, s.size, "compressed grain"+s.in); err != nil {
			return nil, err
		}
		buf = rest
	}
	data := make([]byte, min(gb, s.h.virtualSize()-g*gb))
	if err := vmdkInflate(data, buf[vmdkGrainMarkerLen:vmdkGrainMarkerLen+clen]); err != nil {
		return nil, vmdkError(key.off, ErrFormat, "compressed grain%s at 0x%x does not inflate to %d bytes: %v", s.in, key.off, len(data), err)
	}
	s.cache.put(key, data, int64(len(data)))
	return data, nil
}

// vmdkZlibPool holds zlib readers for reuse.
var vmdkZlibPool sync.Pool

// vmdkInflate fills out from the zlib stream in.
func vmdkInflate(out, in []byte) error {
	src := bytes.NewReader(in)
	var zr io.ReadCloser
	if pooled, ok := vmdkZlibPool.Get().(io.ReadCloser); ok {
		if err := pooled.(zlib.Resetter).Reset(src, nil); err != nil {
			return err
		}
		zr = pooled
	} else {
		var err error
		if zr, err = zlib.NewReader(src); err != nil {
			return err
		}
	}
	_, err := io.ReadFull(zr, out)
	vmdkZlibPool.Put(zr)
	return err
}
