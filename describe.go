package imgcheck

import (
	"strings"

	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// describe fills the container, partition and filesystem fields of res.
func (t *Target) describe(res *Result) {
	res.Root = t.isRoot
	res.AllocatedSize = -1
	if t.noGuest != nil {
		res.RootError = t.noGuest.Error()
	}
	if t.img == nil {
		return
	}
	for _, l := range t.img.Chain() {
		res.Container = append(res.Container, report.Layer{Format: string(l.Format), Detail: l.Detail, Path: l.Path, FileSize: max(l.FileSize, 0)})
	}
	res.VirtualSize = t.img.Size()
	res.AllocatedSize = t.img.Allocated()
	tb := t.layout.Table
	rt := &report.Table{Scheme: string(tb.Scheme), SectorSize: tb.SectorSize, DiskGUID: tb.DiskGUID, Partitions: []report.Partition{}, Notes: t.layout.Notes}
	for _, p := range tb.Partitions {
		rt.Partitions = append(rt.Partitions, report.Partition{Index: p.Index, Start: p.Start, Size: p.Size, Type: p.Type, Name: p.Name, UUID: p.UUID})
	}
	res.Table = rt
	for _, fi := range t.layout.Filesystems {
		f := report.Filesystem{Partition: fi.Partition, LV: fi.LV, Type: fi.Type, Offset: fi.Offset, Size: fi.Size, UUID: fi.UUID, Label: fi.Label, Mountpoint: fi.MountPoint, Error: fi.Err}
		if fi.Facts != nil {
			f.Size, f.Free = fi.Facts.Size, fi.Facts.Free
		}
		res.Filesystems = append(res.Filesystems, f)
	}
}

// disk returns the facts of the disk rules; nil for a directory.
func (t *Target) disk() *rules.Disk {
	if t.img == nil {
		return nil
	}
	d := &rules.Disk{
		Container:     string(t.img.Format()),
		VirtualSize:   t.img.Size(),
		AllocatedSize: t.img.Allocated(),
		Scheme:        string(t.layout.Table.Scheme),
		SectorSize:    t.layout.Table.SectorSize,
	}
	if c := containerLabel(t.img.Chain()); c != "" {
		d.Container = c
	}
	for _, l := range t.img.Chain() {
		d.Compressed = d.Compressed || l.Format.Compressed()
		d.Backed = d.Backed || l.Backing
		if !l.Backing {
			d.Formats = append(d.Formats, string(l.Format))
		}
	}
	d.Notes = t.layout.Notes // the partition table's notes and root discovery's
	for i, p := range t.layout.Table.Partitions {
		dp := rules.DiskPartition{Index: p.Index, Start: p.Start, Size: p.Size, Type: p.Type, Name: p.Name}
		if i < len(t.layout.Filesystems) {
			dp.FS = t.layout.Filesystems[i].Type
		}
		d.Partitions = append(d.Partitions, dp)
	}
	if t.layout.Root >= 0 && t.layout.Filesystems[t.layout.Root].Facts != nil {
		d.Root = &t.layout.Filesystems[t.layout.Root]
	}
	if t.noGuest != nil {
		d.RootErr = t.noGuest.Error()
	}
	d.Extents = t.extents()
	d.Boot = t.bootPath()
	return d
}

// containerLabel names the disk's container with its details ("qcow2 v3
// (zstd)"): the first layer that is neither a compression nor a backing
// file. It is "" for a raw disk, which the outermost format then names.
func containerLabel(chain []image.Layer) string {
	for _, l := range chain {
		switch {
		case l.Format.Compressed(), l.Backing:
		case l.Format == image.Raw:
			return ""
		case l.Detail == "":
			return string(l.Format)
		case strings.HasPrefix(l.Detail, string(l.Format)):
			return l.Detail
		default:
			return string(l.Format) + " " + l.Detail
		}
	}
	return ""
}

// Describe returns what t is before any rule runs: the container chain,
// sizes, partition table, filesystems and the OS as a marketplace scan
// names it.
func (t *Target) Describe() *Result {
	res := &Result{Path: t.Name(), Profile: rules.Marketplace}
	t.describe(res)
	res.OS = t.OS()
	return res
}
