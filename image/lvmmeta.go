package image

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// lvm2 bounds: at most 128 stripes in a segment (lvm2's MAX_STRIPES), and
// extents of at most 2^32 sectors.
const (
	maxLVMStripes    = 128
	maxLVMExtentSize = 1 << 32
)

// A vgMeta is a volume group read from one PV's text metadata, before its
// PVs are matched to sources.
type vgMeta struct {
	name, uuid string
	seqno      int64
	extentSize int64 // sectors
	pvs        []PhysicalVolume
	lvs        []lvMeta
}

type lvMeta struct {
	name, uuid string
	visible    bool
	segs       []segMeta
}

type segMeta struct {
	key                      string // "segment1"
	startExtent, extentCount int64
	typ                      string
	stripeSize               int64 // sectors
	stripes                  []stripeMeta
	cowStore                 string // a snapshot segment's COW LV
}

type stripeMeta struct {
	pv    string
	start int64
}

// parseVGMeta reads a volume group out of lvm2 text metadata. Counts are
// checked against l before anything is built from them.
func parseVGMeta(text []byte, l Limits) (*vgMeta, error) {
	root, err := parseConfig(text)
	if err != nil {
		return nil, err
	}
	if c, ok := root.str("contents"); ok && c != "Text Format Volume Group" {
		return nil, fmt.Errorf("contents %q is not a volume group", c)
	}
	if v, ok := root.int("version"); ok && v != 1 {
		return nil, fmt.Errorf("text format version %d (only 1 is read)", v)
	}
	var vg *cfgEntry
	for i, e := range root.entries {
		if e.sub != nil {
			vg = &root.entries[i]
			break
		}
	}
	if vg == nil {
		return nil, fmt.Errorf("no volume group section")
	}
	m := &vgMeta{name: vg.name}
	s := vg.sub
	var ok bool
	if m.uuid, ok = s.str("id"); !ok {
		return nil, fmt.Errorf("VG %s has no id", m.name)
	}
	if m.seqno, ok = s.int("seqno"); !ok || m.seqno < 0 {
		return nil, fmt.Errorf("VG %s has no valid seqno", m.name)
	}
	if m.extentSize, ok = s.int("extent_size"); !ok || m.extentSize <= 0 || m.extentSize > maxLVMExtentSize {
		return nil, fmt.Errorf("VG %s: extent_size %d sectors out of range", m.name, m.extentSize)
	}
	pvs := s.section("physical_volumes")
	if pvs == nil {
		return nil, fmt.Errorf("VG %s has no physical_volumes", m.name)
	}
	for _, e := range pvs.entries {
		if e.sub == nil {
			continue
		}
		pv, err := parsePVMeta(e, m.extentSize)
		if err != nil {
			return nil, fmt.Errorf("VG %s: %v", m.name, err)
		}
		m.pvs = append(m.pvs, pv)
	}
	lvs := s.section("logical_volumes")
	if lvs == nil {
		return m, nil
	}
	if n := len(lvs.entries); n > l.LVMVolumes {
		return nil, fmt.Errorf("VG %s has %d LVs, over the limit of %d", m.name, n, l.LVMVolumes)
	}
	segments := 0
	for _, e := range lvs.entries {
		if e.sub == nil {
			continue
		}
		lv, err := parseLVMeta(e, l.LVMSegments-segments)
		if err != nil {
			return nil, fmt.Errorf("VG %s: %v", m.name, err)
		}
		segments += len(lv.segs)
		m.lvs = append(m.lvs, lv)
	}
	return m, nil
}

func parsePVMeta(e cfgEntry, extentSize int64) (PhysicalVolume, error) {
	pv := PhysicalVolume{Name: e.name}
	s := e.sub
	var ok bool
	if pv.UUID, ok = s.str("id"); !ok {
		return pv, fmt.Errorf("PV %s has no id", e.name)
	}
	pv.Device, _ = s.str("device")
	start, ok1 := s.int("pe_start")
	count, ok2 := s.int("pe_count")
	if !ok1 || !ok2 || start < 0 || count < 0 || start > math.MaxInt64/512 || count > math.MaxInt64/(extentSize*512) {
		return pv, fmt.Errorf("PV %s: pe_start %d, pe_count %d out of range", e.name, start, count)
	}
	pv.PEStart, pv.PECount = start*512, count
	return pv, nil
}

// parseLVMeta reads one LV, refusing more than maxSegs segments.
func parseLVMeta(e cfgEntry, maxSegs int) (lvMeta, error) {
	lv := lvMeta{name: e.name}
	s := e.sub
	lv.uuid, _ = s.str("id")
	lv.visible = slices.Contains(s.strings("status"), "VISIBLE")
	if n, _ := s.int("segment_count"); n > int64(maxSegs) {
		return lv, fmt.Errorf("LV %s claims %d segments, over the limit of segments left (%d)", e.name, n, maxSegs)
	}
	for _, se := range s.entries {
		if se.sub == nil || !strings.HasPrefix(se.name, "segment") {
			continue
		}
		if len(lv.segs) == maxSegs {
			return lv, fmt.Errorf("LV %s has more segments than the limit left (%d)", e.name, maxSegs)
		}
		seg, err := parseSegMeta(se)
		if err != nil {
			return lv, fmt.Errorf("LV %s %s: %v", e.name, se.name, err)
		}
		lv.segs = append(lv.segs, seg)
	}
	if n, ok := s.int("segment_count"); ok && n != int64(len(lv.segs)) {
		return lv, fmt.Errorf("LV %s: segment_count %d but %d segments", e.name, n, len(lv.segs))
	}
	return lv, nil
}

func parseSegMeta(e cfgEntry) (segMeta, error) {
	s := e.sub
	seg := segMeta{key: e.name}
	var ok1, ok2 bool
	seg.startExtent, ok1 = s.int("start_extent")
	seg.extentCount, ok2 = s.int("extent_count")
	seg.typ, _ = s.str("type")
	if !ok1 || !ok2 || seg.startExtent < 0 || seg.extentCount <= 0 || seg.typ == "" {
		return seg, fmt.Errorf("start_extent, extent_count or type missing or out of range")
	}
	seg.cowStore, _ = s.str("cow_store")
	if seg.typ != "striped" {
		return seg, nil // named, not read
	}
	count, _ := s.int("stripe_count")
	if count < 1 || count > maxLVMStripes {
		return seg, fmt.Errorf("stripe_count %d out of range 1-%d", count, maxLVMStripes)
	}
	if count > 1 {
		seg.stripeSize, _ = s.int("stripe_size")
		if seg.stripeSize <= 0 || seg.stripeSize > maxLVMExtentSize {
			return seg, fmt.Errorf("stripe_size %d out of range", seg.stripeSize)
		}
	}
	v := s.value("stripes")
	if v == nil || v.kind != cfgArray || int64(len(v.arr)) != 2*count {
		return seg, fmt.Errorf("stripes is not %d pairs of PV and extent", count)
	}
	for i := 0; i < len(v.arr); i += 2 {
		pv, start := v.arr[i], v.arr[i+1]
		if pv.kind != cfgString || start.kind != cfgInt || start.num < 0 {
			return seg, fmt.Errorf("stripe %d is not a PV name and a start extent", i/2)
		}
		seg.stripes = append(seg.stripes, stripeMeta{pv: pv.str, start: start.num})
	}
	return seg, nil
}

// volumeGroup builds the VolumeGroup once the PVs are matched to sources:
// each LV's segments are placed, or the LV gets an Err saying why not.
func (m *vgMeta) volumeGroup() *VolumeGroup {
	vg := &VolumeGroup{Name: m.name, UUID: m.uuid, Seqno: m.seqno, ExtentSize: m.extentSize * 512, PVs: m.pvs}
	cows := map[string]bool{}
	for _, lv := range m.lvs {
		for _, s := range lv.segs {
			if s.typ == "snapshot" && s.cowStore != "" {
				cows[s.cowStore] = true
			}
		}
	}
	for _, lm := range m.lvs {
		lv := &LogicalVolume{VG: m.name, Name: lm.name, UUID: lm.uuid, Visible: lm.visible}
		if lv.Kind, lv.Err = vg.place(lv, lm.segs); lv.Err != nil {
			lv.Size, lv.Segments = 0, nil
		}
		if cows[lm.name] && lv.Err == nil {
			lv.Kind, lv.Err = "snapshot", refuse(lv, "snapshot")
		}
		vg.LVs = append(vg.LVs, lv)
	}
	return vg
}

// lvmKinds describes the segment types that are named and not read.
var lvmKinds = map[string]string{
	"thin": "a thin volume", "thin-pool": "a thin pool", "mirror": "a mirror",
	"snapshot": "a snapshot (copy-on-write)", "cache": "a cached volume", "cache-pool": "a cache pool",
	"writecache": "a write-cached volume", "vdo": "a VDO volume", "vdo-pool": "a VDO pool",
	"integrity": "an integrity volume", "error": "an error target", "zero": "a zero target",
}

// refuse is the Err of an LV of a kind that is not read.
func refuse(lv *LogicalVolume, kind string) error {
	what, ok := lvmKinds[kind]
	switch {
	case strings.HasPrefix(kind, "raid"):
		what = "a RAID volume"
	case !ok:
		what = "a volume"
	}
	return &FormatError{Format: "lvm", Offset: -1, Reason: fmt.Sprintf("LV %s/%s is %s (lvm2 segment type %q): not read", lv.VG, lv.Name, what, kind), Err: ErrUnsupported}
}

// place fills lv's Segments and Size from segs in logical order and
// returns its kind, or the error that makes it unreadable.
func (vg *VolumeGroup) place(lv *LogicalVolume, segs []segMeta) (string, error) {
	bad := func(sentinel error, format string, args ...any) error {
		return &FormatError{Format: "lvm", Offset: -1, Reason: fmt.Sprintf("LV %s/%s: %s", lv.VG, lv.Name, fmt.Sprintf(format, args...)), Err: sentinel}
	}
	segs = slices.Clone(segs)
	slices.SortFunc(segs, func(a, b segMeta) int { return cmp.Compare(a.startExtent, b.startExtent) })
	kind := "linear"
	for _, s := range segs {
		switch {
		case s.typ != "striped":
			return s.typ, refuse(lv, s.typ)
		case len(s.stripes) > 1:
			kind = "striped"
		}
	}
	if len(segs) == 0 {
		return kind, bad(ErrFormat, "no segments")
	}
	es := vg.ExtentSize
	var next int64 // next logical extent
	for _, s := range segs {
		if s.startExtent != next {
			return kind, bad(ErrFormat, "%s starts at extent %d, not %d", s.key, s.startExtent, next)
		}
		n := int64(len(s.stripes))
		per := s.extentCount / n
		if s.extentCount%n != 0 {
			return kind, bad(ErrFormat, "%s: %d extents do not divide into %d stripes", s.key, s.extentCount, n)
		}
		seg := Segment{Type: s.typ, StripeSize: s.stripeSize * 512}
		if n > 1 && (per*es)%seg.StripeSize != 0 {
			return kind, bad(ErrFormat, "%s: stripe size %d does not divide the stripe length", s.key, seg.StripeSize)
		}
		for _, sm := range s.stripes {
			pv := vg.pv(sm.pv)
			switch {
			case pv == nil:
				return kind, bad(ErrFormat, "%s names PV %q, which the VG lacks", s.key, sm.pv)
			case pv.r == nil:
				return kind, bad(ErrTruncated, "uses PV %s (%s, last seen as %q), which is not in the image", pv.Name, pv.UUID, pv.Device)
			case sm.start > pv.PECount || per > pv.PECount-sm.start:
				return kind, bad(ErrFormat, "%s: extents %d-%d lie past PV %s's %d extents", s.key, sm.start, sm.start+per-1, pv.Name, pv.PECount)
			case pv.PEStart > pv.size || pv.PECount > (pv.size-pv.PEStart)/es:
				return kind, bad(ErrTruncated, "PV %s: %d extents from 0x%x run past the end of %s (size 0x%x)", pv.Name, pv.PECount, pv.PEStart, pv.Source, pv.size)
			}
			seg.Stripes = append(seg.Stripes, Stripe{PV: sm.pv, StartExtent: sm.start, Extents: per, Offset: pv.PEStart + sm.start*es, r: pv.r})
		}
		// Each stripe's bytes fit in its PV, so per*es fits an int64;
		// the sum over stripes and segments is checked.
		size := per * es
		if size > (math.MaxInt64-lv.Size)/n {
			return kind, bad(ErrFormat, "size overflows")
		}
		seg.Start, seg.Size = lv.Size, size*n
		lv.Size += seg.Size
		lv.Segments = append(lv.Segments, seg)
		next += s.extentCount
	}
	return kind, nil
}

// pv returns the PV with the metadata key name, or nil.
func (vg *VolumeGroup) pv(name string) *PhysicalVolume {
	for i := range vg.PVs {
		if vg.PVs[i].Name == name {
			return &vg.PVs[i]
		}
	}
	return nil
}

// String describes the segment as lvs's seg_pe_ranges does, with PV keys:
// "pv0:5-6" or "pv0:0-3 pv1:0-3".
func (s Segment) String() string {
	var parts []string
	for _, st := range s.Stripes {
		parts = append(parts, fmt.Sprintf("%s:%d-%d", st.PV, st.StartExtent, st.StartExtent+st.Extents-1))
	}
	return strings.Join(parts, " ")
}
