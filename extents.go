package imgcheck

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/rules"
)

// extents lists what the image's metadata places in its file and on its
// virtual disk, for disk.integrity: the container's referenced bytes
// against its file, each partition and the backup GPT header against the
// virtual disk, each LVM PV's extents against the partition holding it.
func (t *Target) extents() []rules.DiskExtent {
	var out []rules.DiskExtent
	if l, ok := containerLayer(t.img.Chain()); ok && t.img.Referenced() >= 0 && l.FileSize >= 0 {
		out = append(out, rules.DiskExtent{What: string(l.Format) + " metadata (the tables, blocks and clusters it references)",
			End: t.img.Referenced(), In: "file " + filepath.Base(l.Path), Limit: l.FileSize})
	}
	size := t.img.Size()
	tb := t.layout.Table
	pvSize := map[string]int64{}
	for _, p := range tb.Partitions {
		out = append(out, rules.DiskExtent{What: fmt.Sprintf("partition %d", p.Index), End: p.Start + p.Size, In: "virtual disk", Limit: size})
		pvSize[fmt.Sprintf("partition %d", p.Index)] = min(p.Size, max(size-p.Start, 0))
	}
	if tb.Scheme == image.None {
		pvSize["disk"] = size
	}
	if tb.BackupGPT > 0 {
		out = append(out, rules.DiskExtent{What: "backup GPT header", End: satAdd(tb.BackupGPT, int64(tb.SectorSize)), In: "virtual disk", Limit: size})
	}
	for _, vg := range t.layout.VolumeGroups {
		for _, pv := range vg.PVs {
			if limit, ok := pvSize[pv.Source]; ok {
				out = append(out, rules.DiskExtent{What: fmt.Sprintf("LVM PV %s of %s (its %d extents)", pv.Name, vg.Name, pv.PECount),
					End: satAdd(pv.PEStart, satMul(pv.PECount, vg.ExtentSize)), In: "PV " + pv.Source, Limit: limit})
			}
		}
	}
	return out
}

// containerLayer is the layer whose file the container metadata
// describes: the first that is neither a compression nor a backing file
// (for a compressed upload, the expanded file).
func containerLayer(chain []image.Layer) (image.Layer, bool) {
	for _, l := range chain {
		if !l.Format.Compressed() && !l.Backing {
			return l, true
		}
	}
	return image.Layer{}, false
}

// satAdd and satMul add and multiply non-negative sizes from untrusted
// metadata, saturating instead of overflowing.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
