package fsinspect

import (
	"fmt"
	"io"
	"strings"

	"github.com/imgcheck/imgcheck/image"
)

// openVolumes reads the LVM2 volume groups whose PVs are among the
// partitions (or the whole disk) and adds each visible logical volume to
// l.Filesystems and backends, opened like a partition, so the root and
// fstab's mounts are found inside LVs as inside partitions. Hidden LVs
// (the parts of pools, RAID and mirrors) are no candidates. Damaged LVM
// metadata becomes the Err of the PV partitions and a Note.
func (l *Layout) openVolumes(cache *Cache, backends []Backend, s settings) []Backend {
	var pvs []image.PVSource
	var pvIdx []int
	for i, fi := range l.Filesystems {
		if fi.Type != "LVM2_member" {
			continue
		}
		p := l.Table.Partitions[i]
		size := min(p.Size, max(cache.Size()-p.Start, 0))
		name := fmt.Sprintf("partition %d", p.Index)
		if l.Table.Scheme == image.None {
			name = "disk"
		}
		pvs = append(pvs, image.PVSource{Name: name, R: io.NewSectionReader(cache, p.Start, size), Size: size})
		pvIdx = append(pvIdx, i)
	}
	if len(pvs) == 0 {
		return backends
	}
	vgs, notes, err := image.ReadVolumeGroups(pvs, s.table)
	l.VolumeGroups = vgs
	l.Notes = append(l.Notes, notes...)
	if err != nil {
		l.Notes = append(l.Notes, err.Error())
		for j, i := range pvIdx {
			if why := pvError(err, pvs[j].Name); why != "" {
				l.Filesystems[i].Err = "LVM2 PV unreadable: " + why
			}
		}
	}
	for _, vg := range vgs {
		for _, lv := range vg.LVs {
			if !lv.Visible {
				continue
			}
			fi := FSInfo{LV: vg.Name + "/" + lv.Name, Size: lv.Size}
			var b Backend
			if lv.Err != nil {
				fi.Type, fi.Err = lv.Kind, lv.Err.Error()
			} else {
				fi, b = openFS(fi, lv, lv.Size, s)
			}
			l.Filesystems = append(l.Filesystems, fi)
			backends = append(backends, b)
		}
	}
	return backends
}

// matchVolume reports whether the fstab source k names the LV that fi
// describes: by filesystem UUID or label, /dev/mapper/<vg>-<lv> (with
// '-' doubled inside names), /dev/<vg>/<lv>, or udev's by-id dm-name and
// dm-uuid-LVM links.
func (l *Layout) matchVolume(fi FSInfo, k specKey) bool {
	switch k.kind {
	case "UUID":
		return fi.UUID != "" && strings.EqualFold(fi.UUID, k.value)
	case "LABEL":
		return fi.Label != "" && fi.Label == k.value
	case "LVPATH":
		return fi.LV == k.value
	}
	for _, vg := range l.VolumeGroups {
		for _, lv := range vg.LVs {
			if fi.LV != vg.Name+"/"+lv.Name {
				continue
			}
			switch k.kind {
			case "DMNAME":
				return lv.DMName() == k.value
			case "DMUUID":
				return strings.ReplaceAll(vg.UUID+lv.UUID, "-", "") == k.value
			}
		}
	}
	return false
}

// pvError is the part of ReadVolumeGroups' joined error about the PV
// source called name, without the "lvm: <name>: " its reasons start with.
func pvError(err error, name string) string {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []string
	for _, e := range errs {
		if msg, ok := strings.CutPrefix(e.Error(), "lvm: "+name+": "); ok {
			out = append(out, msg)
		}
	}
	return strings.Join(out, "; ")
}
