package image

import (
	"encoding/binary"
	"fmt"
	"io"
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

// BAT entry states (MS-VHDX 2.5.1). A payload block that is not present,
// undefined, zero or unmapped reads as zeros (state 5 is "unmapped" in
// the v0.95 draft that early Hyper-V wrote, which qemu accepts too).
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
// o.limits.VHDXBATEntries entries). A header naming a log to replay, a
// differencing disk, and unknown required regions or metadata items are
// refused.
func openVHDX(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
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
	if p.hasParent {
		parent := p.parentPath
		if parent == "" {
			parent = "(no path in its parent locator)"
		}
		return nil, vhdxError(meta.offset, ErrUnsupported, "differencing disk with parent %q: reading through a parent is not supported; merge it into its parent first (Hyper-V Edit Disk, or Merge-VHD)", parent)
	}
	m, err := readVHDXBAT(r, size, bat, p, o.limits.VHDXBATEntries)
	if err != nil {
		return nil, err
	}
	structures = append(structures, fileRange{"header area", 0, vhdxReserved})
	if hdr.logLength > 0 {
		if hdr.logOffset >= maxFileOffset {
			return nil, vhdxError(hdr.at+72, ErrFormat, "log offset 0x%x is beyond any file", hdr.logOffset)
		}
		structures = append(structures, fileRange{"log", int64(hdr.logOffset), int64(hdr.logLength)})
	}
	referenced, err := m.check(structures, 0)
	if err != nil {
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
	return &container{
		Disk: m,
		Size: p.diskSize,
		Layers: []Layer{
			{Format: VHDX, Subformat: sub, Detail: detail, Path: src.Name, FileSize: size},
			{Format: Raw, FileSize: -1},
		},
		Allocated:  size,
		Referenced: referenced,
	}, nil
}

// readVHDXBAT reads the BAT region and returns the payload blocks as a
// blockMap. Sector bitmap entries, one after each chunk of payload
// entries, must be absent or present; a disk without a parent never
// reads them.
func readVHDXBAT(r io.ReaderAt, size int64, bat vhdxRegion, p *vhdxParams, limit int) (*blockMap, error) {
	chunk := vhdxSectorBits * p.logicalSector / p.blockSize // payload blocks per sector bitmap block
	blocks := (p.diskSize + p.blockSize - 1) / p.blockSize
	entries := blocks
	if blocks > 0 {
		entries += (blocks - 1) / chunk
	}
	if entries > int64(limit) {
		return nil, vhdxError(bat.offset, ErrUnsupported, "BAT of %d entries is over %d (the vhdx-bat limit)", entries, limit)
	}
	if entries*8 > bat.length {
		return nil, vhdxError(bat.offset, ErrFormat, "BAT region of %d bytes cannot hold the %d entries a %d-byte disk in %d-byte blocks needs", bat.length, entries, p.diskSize, p.blockSize)
	}
	raw, err := readStructure(VHDX, r, size, bat.offset, entries*8, "BAT")
	if err != nil {
		return nil, err
	}
	m := &blockMap{format: VHDX, r: r, size: p.diskSize, block: p.blockSize, offsets: make([]int64, blocks)}
	for i := range entries {
		e := binary.LittleEndian.Uint64(raw[8*i:])
		state, off := e&7, e>>20<<20
		where := bat.offset + 8*i
		if (i+1)%(chunk+1) == 0 {
			if state != vhdxBlockNotPresent && state != vhdxBitmapPresent {
				return nil, vhdxError(where, ErrFormat, "BAT entry %d: sector bitmap block in unknown state %d", i, state)
			}
			continue
		}
		k := i - i/(chunk+1)
		switch state {
		case vhdxBlockNotPresent, vhdxBlockUndefined, vhdxBlockZero, vhdxBlockUnmapped, vhdxBlockUnmappedV095:
			m.offsets[k] = noBlock
		case vhdxBlockFullyPresent:
			if off >= maxFileOffset {
				return nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d at file offset 0x%x, beyond any file", i, k, off)
			}
			m.offsets[k] = int64(off)
		case vhdxBlockPartial:
			return nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d is partially present, which only a differencing disk may be", i, k)
		default:
			return nil, vhdxError(where, ErrFormat, "BAT entry %d: block %d in unknown state %d", i, k, state)
		}
	}
	return m, nil
}
