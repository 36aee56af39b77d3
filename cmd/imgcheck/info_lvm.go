package main

import (
	"bufio"
	"fmt"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// infoVG is one LVM2 volume group in `imgcheck info --json`.
type infoVG struct {
	Name       string   `json:"name"`
	UUID       string   `json:"uuid"`
	Seqno      int64    `json:"seqno"`
	ExtentSize int64    `json:"extent_size"`
	PVs        []infoPV `json:"pvs"`
	LVs        []infoLV `json:"lvs"`
}

type infoPV struct {
	Name    string `json:"name"`
	UUID    string `json:"uuid"`
	Source  string `json:"source,omitempty"` // "partition 3"; empty when the PV is not in the image
	PEStart int64  `json:"pe_start"`
	PECount int64  `json:"pe_count"`
}

type infoLV struct {
	Name       string        `json:"name"`
	UUID       string        `json:"uuid"`
	Kind       string        `json:"kind"`
	Size       int64         `json:"size"`
	Hidden     bool          `json:"hidden,omitempty"`
	Mountpoint string        `json:"mountpoint,omitempty"`
	Segments   []infoSegment `json:"segments,omitempty"`
	Error      string        `json:"error,omitempty"`
}

type infoSegment struct {
	Start      int64    `json:"start"` // bytes in the LV
	Size       int64    `json:"size"`
	Type       string   `json:"type"`
	StripeSize int64    `json:"stripe_size,omitempty"`
	Stripes    []string `json:"stripes"` // "pv0:5-7": PV and its extents
}

// infoVolumeGroups describes the layout's LVM2 volume groups, with the
// mount point of each LV that is mounted.
func infoVolumeGroups(l *fsinspect.Layout) []infoVG {
	mounted := map[string]string{}
	for _, fi := range l.Filesystems {
		if fi.LV != "" {
			mounted[fi.LV] = fi.MountPoint
		}
	}
	var out []infoVG
	for _, vg := range l.VolumeGroups {
		v := infoVG{Name: vg.Name, UUID: vg.UUID, Seqno: vg.Seqno, ExtentSize: vg.ExtentSize, PVs: []infoPV{}, LVs: []infoLV{}}
		for _, pv := range vg.PVs {
			v.PVs = append(v.PVs, infoPV{Name: pv.Name, UUID: pv.UUID, Source: pv.Source, PEStart: pv.PEStart, PECount: pv.PECount})
		}
		for _, lv := range vg.LVs {
			il := infoLV{Name: lv.Name, UUID: lv.UUID, Kind: lv.Kind, Size: lv.Size, Hidden: !lv.Visible, Mountpoint: mounted[vg.Name+"/"+lv.Name]}
			if lv.Err != nil {
				il.Error = lv.Err.Error()
			}
			for _, s := range lv.Segments {
				is := infoSegment{Start: s.Start, Size: s.Size, Type: s.Type, StripeSize: s.StripeSize}
				if s.Type == "striped" && len(s.Stripes) == 1 {
					is.Type = "linear"
				}
				for _, st := range s.Stripes {
					is.Stripes = append(is.Stripes, fmt.Sprintf("%s:%d-%d", st.PV, st.StartExtent, st.StartExtent+st.Extents-1))
				}
				il.Segments = append(il.Segments, is)
			}
			v.LVs = append(v.LVs, il)
		}
		out = append(out, v)
	}
	return out
}

// volumeGroupsText prints the volume groups: each PV, then each LV with
// its kind, size, mount point and segments (logical extents: PV extents).
func volumeGroupsText(w *bufio.Writer, vgs []infoVG) {
	for _, vg := range vgs {
		escapedf(w, "LVM VG:      %s uuid=%s seqno=%d, %d KiB extents\n", vg.Name, vg.UUID, vg.Seqno, vg.ExtentSize>>10)
		for _, pv := range vg.PVs {
			escapedf(w, "  PV %s on %s uuid=%s, %d extents from byte %d\n", pv.Name, dashIfEmpty(pv.Source), pv.UUID, pv.PECount, pv.PEStart)
		}
		for _, lv := range vg.LVs {
			escapedf(w, "  LV %s: %s, %s", lv.Name, lv.Kind, sizeText(lv.Size))
			if lv.Hidden {
				fmt.Fprint(w, ", hidden")
			}
			if lv.Mountpoint != "" {
				escapedf(w, " on %s", lv.Mountpoint)
			}
			if lv.Error != "" {
				escapedf(w, " (%s)", lv.Error)
			}
			fmt.Fprintln(w)
			for _, s := range lv.Segments {
				first, n := s.Start/vg.ExtentSize, s.Size/vg.ExtentSize
				escapedf(w, "    extents %d-%d: %s", first, first+n-1, s.Type)
				if s.StripeSize > 0 {
					escapedf(w, " (%d KiB stripes)", s.StripeSize>>10)
				}
				for _, st := range s.Stripes {
					escapedf(w, " %s", st)
				}
				fmt.Fprintln(w)
			}
		}
	}
}
