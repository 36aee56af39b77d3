package image

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

func init() {
	registerFormat(containerFormat{
		Format: VHDX,
		Match: func(head []byte, _ io.ReaderAt, _ int64) bool {
			return len(head) >= len(vhdxMagic) && string(head[:len(vhdxMagic)]) == vhdxMagic
		},
		Open: openVHDX,
	})
}

// BAT entry states (MS-VHDX 2.5.1). A payload block that is undefined,
// zero or unmapped reads as zeros, as the specification allows for all
// three (state 5 is "unmapped" in the v0.95 draft that early Hyper-V
// wrote, which qemu accepts too); one not present reads as zeros too, or
// from the parent of a differencing disk.
const (
	vhdxBlockNotPresent   = 0
	vhdxBlockUndefined    = 1
	vhdxBlockZero         = 2
	vhdxBlockUnmapped     = 3
	vhdxBlockUnmappedV095 = 5
	vhdxBlockFullyPresent = 6
	vhdxBlockPartial      = 7
	vhdxBitmapPresent     = 6
)

// openVHDX opens a VHDX file: the current header, the region table, the
// metadata, and the whole BAT, held in memory (at most
// o.limits.VHDXBATEntries entries). A header naming a log to replay and
// unknown required regions or metadata items are refused, and so is a
// differencing disk unless o allows backing files (see openVHDXParent).
func openVHDX(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	return openVHDXChain(r, size, src, o, 0, "")
}

// openVHDXChain opens a VHDX file depth parents below the image named,
// whose data write GUID must match linkage (from the child's parent
// locator) unless linkage is "".
func openVHDXChain(r io.ReaderAt, size int64, src source, o *options, depth int, linkage string) (*container, error) {
	if size < vhdxReserved {
		return nil, vhdxError(size, ErrTruncated, "file of %d bytes is shorter than the 1 MiB header area", size)
	}
	// The headers and region tables, then the start of the metadata
	// region, are each read in one call and served from memory: a remote
	// object opens in three round trips and one for the BAT.
	area, err := readStructure(VHDX, r, size, 0, vhdxRegionAt2+vhdxRegionLen, "header area")
	if err != nil {
		return nil, err
	}
	pre := &patchedReader{r: r, patches: []patch{{off: 0, data: area}}}
	hdr, err := readVHDXHeader(pre, size)
	if err != nil {
		return nil, err
	}
	if !hdr.logGUID.isZero() {
		return nil, vhdxError(hdr.at+48, ErrUnsupported, "the log (GUID %s) holds writes that were never applied: the file was not closed cleanly and its log must be replayed first, which a read-only reader must not guess at (attach it once in Hyper-V or Windows, or run qemu-img check -r all on a copy)", hdr.logGUID)
	}
	if linkage != "" && !strings.EqualFold(strings.Trim(linkage, "{}"), hdr.dataWrite.String()) {
		return nil, vhdxError(hdr.at+32, ErrFormat, "parent %s has changed since its child was made: its data write GUID is %s, the child's parent locator links %s", src.Name, hdr.dataWrite, linkage)
	}
	bat, meta, structures, err := readVHDXRegions(pre, size)
	if err != nil {
		return nil, err
	}
	if n := min(meta.length, vhdxMetaPrefetch, max(size-meta.offset, 0)); n > 0 {
		b, err := readStructure(VHDX, r, size, meta.offset, n, "metadata region")
		if err != nil {
			return nil, err
		}
		pre.patches = append(pre.patches, patch{off: meta.offset, data: b})
	}
	p, err := readVHDXMetadata(pre, size, meta)
	if err != nil {
		return nil, err
	}
	var parent *container
	if p.hasParent {
		if !o.allowBacking {
			return nil, vhdxError(meta.offset, ErrUnsupported, "differencing disk with parent %q; pass --allow-backing to read it", vhdxParentName(p.parent))
		}
		if parent, err = openVHDXParent(src, p, o, depth); err != nil {
			return nil, err
		}
	}
	m, bitmaps, err := readVHDXBAT(r, size, bat, p, o.limits.VHDXBATEntries)
	if err != nil {
		closeAll(parent)
		return nil, err
	}
	structures = append(structures, bitmaps...)
	structures = append(structures, fileRange{"header area", 0, vhdxReserved})
	if hdr.logLength > 0 {
		if hdr.logOffset >= maxFileOffset {
			return nil, vhdxError(hdr.at+72, ErrFormat, "log offset 0x%x is beyond any file", hdr.logOffset)
		}
		structures = append(structures, fileRange{"log", int64(hdr.logOffset), int64(hdr.logLength)})
	}
	referenced, err := m.check(structures, 0)
	if err != nil {
		closeAll(parent)
		return nil, err
	}
	// A fixed disk is made with its blocks allocated and the flag that
	// keeps them so; writing zeros can still turn its blocks into zero
	// blocks (qemu-img convert does), so the flag decides.
	sub := "dynamic"
	if p.leaveAllocated {
		sub = "fixed"
	}
	detail := fmt.Sprintf("%s, block %s", sub, clusterSizeString(p.blockSize))
	if p.logicalSector != 512 {
		detail += fmt.Sprintf(", %d-byte sectors", p.logicalSector)
	}
	c := &container{
		Disk:       m,
		Size:       p.diskSize,
		Layers:     []Layer{{Format: VHDX, Subformat: sub, Detail: detail, Path: src.Name, FileSize: size}},
		Allocated:  size,
		Referenced: referenced,
	}
	if parent == nil {
		c.Layers = append(c.Layers, Layer{Format: Raw, FileSize: -1})
		return c, nil
	}
	c.Layers[0].Subformat, c.Layers[0].Detail = "differencing", "differencing, block "+clusterSizeString(p.blockSize)
	parent.Layers[0].Backing = true
	c.Layers = append(c.Layers, parent.Layers...)
	c.Closers = parent.Closers
	m.parent = parent.Disk
	return c, nil
}

// readVHDXBAT reads the BAT region and returns the payload blocks as a
// blockMap, and the sector bitmap blocks' file ranges. A sector bitmap
// entry follows each chunk of payload entries; only a differencing disk
// (p.hasParent) reads its bitmaps, for its partially present blocks, and
// reads its absent blocks from the parent.
func readVHDXBAT(r io.ReaderAt, size int64, bat vhdxRegion, p *vhdxParams, limit int) (*blockMap, []fileRange, error) {
	chunk := vhdxSectorBits * p.logicalSector / p.blockSize // payload blocks per sector bitmap block
	blocks := (p.diskSize + p.blockSize - 1) / p.blockSize
	entries := blocks
	if blocks > 0 {
		entries += (blocks - 1) / chunk
	}
	if p.hasParent { // every chunk has its bitmap entry, the last one too
		entries = (blocks + chunk - 1) / chunk * (chunk + 1)
	}
	if entries > int64(limit) {
		return nil, nil, vhdxError(bat.offset, ErrUnsupported, "BAT of %d entries is over %d (the vhdx-bat limit)", entries, limit)
	}
	if entries*8 > bat.length {
		return nil, nil, vhdxError(bat.offset, ErrFormat, "BAT region of %d bytes cannot hold the %d entries a %d-byte disk in %d-byte blocks needs", bat.length, entries, p.diskSize, p.blockSize)
	}
	raw, err := readStructure(VHDX, r, size, bat.offset, entries*8, "BAT")
	if err != nil {
		return nil, nil, err
	}
	m := &blockMap{format: VHDX, r: r, size: p.diskSize, block: p.blockSize, offsets: make([]int64, blocks), sector: p.logicalSector}
	entry := func(i int64) (state, off uint64) {
		e := binary.LittleEndian.Uint64(raw[8*i:])
		return e & 7, e >> 20 << 20
	}
	var bitmaps []fileRange
	for i := chunk; i < entries; i += chunk + 1 {
		state, off := entry(i)
		switch {
		case state == vhdxBlockNotPresent:
		case state != vhdxBitmapPresent:
			return nil, nil, vhdxError(bat.offset+8*i, ErrFormat, "BAT entry %d: sector bitmap block in unknown state %d", i, state)
		case off >= maxFileOffset:
			return nil, nil, vhdxError(bat.offset+8*i, ErrFormat, "BAT entry %d: sector bitmap block at file offset 0x%x, beyond any file", i, off)
		default:
			bitmaps = append(bitmaps, fileRange{fmt.Sprintf("sector bitmap block %d", i/(chunk+1)), int64(off), vhdxAlign})
		}
	}
	absent := int64(noBlock)
	if p.hasParent {
		absent = parentBlock
	}
	for k := range blocks {
		i := k + k/chunk
		state, off := entry(i)
		where := bat.offset + 8*i
		switch state {
		case vhdxBlockNotPresent:
			m.offsets[k] = absent
		case vhdxBlockUndefined, vhdxBlockZero, vhdxBlockUnmapped, vhdxBlockUnmappedV095:
			m.offsets[k] = noBlock
		case vhdxBlockFullyPresent, vhdxBlockPartial:
			if off >= maxFileOffset {
				return nil, nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d at file offset 0x%x, beyond any file", i, k, off)
			}
			m.offsets[k] = int64(off)
			if state == vhdxBlockFullyPresent {
				break
			}
			if !p.hasParent {
				return nil, nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d is partially present, which only a differencing disk may be", i, k)
			}
			bstate, boff := entry(k/chunk*(chunk+1) + chunk)
			if bstate != vhdxBitmapPresent {
				return nil, nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d is partially present but its sector bitmap block is not", i, k)
			}
			if m.partial == nil {
				m.partial = map[int64]int64{}
			}
			m.partial[k] = int64(boff) + k%chunk*(p.blockSize/p.logicalSector)/8
		default:
			return nil, nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d in unknown state %d", i, k, state)
		}
	}
	return m, bitmaps, nil
}

// closeAll closes the files of c, if any.
func closeAll(c *container) {
	if c != nil {
		for _, cl := range c.Closers {
			cl.Close()
		}
	}
}
