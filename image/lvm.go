package image

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// LVM2 is a volume layer between the partition table and the filesystems:
// physical volumes (partitions or whole disks) carry a label and text
// metadata describing a volume group, whose logical volumes are made of
// segments mapped onto extents of the PVs. ReadVolumeGroups reads the
// metadata; each LogicalVolume is a read-only io.ReaderAt over its
// segments. Linear and striped segments are read; thin, RAID, mirror,
// snapshot, cache, VDO and integrity volumes are named and refused.

// A PVSource is a place that may hold an LVM2 physical volume: a
// partition, or the whole disk.
type PVSource struct {
	Name string // how messages name it: "partition 3", "disk"
	R    io.ReaderAt
	Size int64
}

// A VolumeGroup is an LVM2 volume group as its newest metadata describes
// it.
type VolumeGroup struct {
	Name       string
	UUID       string // with lvm2's dashes
	Seqno      int64  // metadata sequence number
	ExtentSize int64  // bytes
	PVs        []PhysicalVolume
	LVs        []*LogicalVolume
}

// A PhysicalVolume is one PV of a volume group.
type PhysicalVolume struct {
	Name    string // the metadata's key: "pv0"
	UUID    string // with lvm2's dashes
	Device  string // the device path lvm2 last saw (a hint from the image)
	Source  string // the PVSource holding it, "" when it is not in the image
	PEStart int64  // bytes from the start of the PV to extent 0
	PECount int64  // extents

	r    io.ReaderAt
	size int64
}

// A LogicalVolume is one LV: a read-only io.ReaderAt over its segments in
// logical order, safe for concurrent use. Err is set, and ReadAt fails
// with it, when the LV cannot be read: a kind imgcheck does not read
// (thin, raid1, snapshot, ...), a PV missing from the image, or segments
// that do not fit.
type LogicalVolume struct {
	VG       string
	Name     string
	UUID     string
	Size     int64  // bytes
	Kind     string // "linear", "striped", or the lvm2 segment type that is not read: "thin", "raid1", ...
	Visible  bool   // false for the hidden sub-volumes of pools, RAID and mirrors
	Segments []Segment
	Err      error
}

// A Segment maps a run of an LV's extents onto one or more PVs.
type Segment struct {
	Start      int64  // byte offset in the LV
	Size       int64  // bytes
	Type       string // lvm2 segment type: "striped" (also for linear), "thin", ...
	StripeSize int64  // bytes; 0 for a linear segment
	Stripes    []Stripe
}

// A Stripe is where one stripe of a segment lies.
type Stripe struct {
	PV          string // the PV's metadata key: "pv0"
	StartExtent int64
	Extents     int64 // extents of this stripe
	Offset      int64 // bytes from the start of the PV source

	r io.ReaderAt
}

// DMName is the LV's device-mapper name as /dev/mapper shows it: VG and
// LV joined by '-', with each '-' inside them doubled.
func (lv *LogicalVolume) DMName() string {
	return strings.ReplaceAll(lv.VG, "-", "--") + "-" + strings.ReplaceAll(lv.Name, "-", "--")
}

// Open returns a new reader over the LV; each call has its own offset.
func (lv *LogicalVolume) Open() *io.SectionReader { return io.NewSectionReader(lv, 0, lv.Size) }

// ReadAt reads from the LV at off, across segments and stripes. A read
// past the end returns io.EOF.
func (lv *LogicalVolume) ReadAt(b []byte, off int64) (int, error) {
	if lv.Err != nil {
		return 0, lv.Err
	}
	if off < 0 {
		return 0, &FormatError{Format: "lvm", Offset: off, Reason: fmt.Sprintf("LV %s/%s: read at negative offset %d", lv.VG, lv.Name, off), Err: ErrFormat}
	}
	var eof error
	if off >= lv.Size {
		if len(b) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if int64(len(b)) > lv.Size-off {
		b, eof = b[:lv.Size-off], io.EOF
	}
	i := sort.Search(len(lv.Segments), func(i int) bool { return lv.Segments[i].Start+lv.Segments[i].Size > off })
	n := 0
	for n < len(b) && i < len(lv.Segments) {
		s := &lv.Segments[i]
		pos := off + int64(n) - s.Start
		r, at, run := s.locate(pos)
		chunk := b[n:]
		if int64(len(chunk)) > run {
			chunk = chunk[:run]
		}
		m, err := r.ReadAt(chunk, at)
		n += m
		if m < len(chunk) {
			if err == nil || errors.Is(err, io.EOF) {
				err = &FormatError{Format: "lvm", Offset: at + int64(m), Reason: fmt.Sprintf("LV %s/%s: read at 0x%x of its PV ends early", lv.VG, lv.Name, at+int64(m)), Err: ErrTruncated}
			}
			return n, err
		}
		if pos+int64(m) >= s.Size {
			i++
		}
	}
	return n, eof
}

// locate maps the byte pos inside the segment to the stripe's reader, the
// offset in it, and how many bytes follow contiguously there.
func (s *Segment) locate(pos int64) (io.ReaderAt, int64, int64) {
	if len(s.Stripes) == 1 {
		return s.Stripes[0].r, s.Stripes[0].Offset + pos, s.Size - pos
	}
	// dm-stripe: chunks of StripeSize go round the stripes in turn.
	n := int64(len(s.Stripes))
	chunk, in := pos/s.StripeSize, pos%s.StripeSize
	st := &s.Stripes[chunk%n]
	return st.r, st.Offset + (chunk/n)*s.StripeSize + in, s.StripeSize - in
}

// ReadVolumeGroups finds the LVM2 physical volumes among pvs, reads the
// metadata of each, and assembles the volume groups: the newest metadata
// (highest seqno) of each VG wins, its PVs are matched to the sources by
// UUID, and every LV gets its segments. A source without an LVM2 label is
// skipped. Notes say what was odd but readable (an orphan PV, older
// metadata on another PV). err joins the damaged labels and metadata
// (*FormatError); the VGs that could be read are still returned. Limits
// bound the metadata text (LVMMetadata), LVs per VG (LVMVolumes) and
// segments per VG (LVMSegments).
func ReadVolumeGroups(pvs []PVSource, l Limits) (vgs []*VolumeGroup, notes []string, err error) {
	l = l.orDefaults()
	type found struct {
		src   PVSource
		label *pvLabel
	}
	var (
		labels []found
		errs   []error
		metas  = map[string]*vgMeta{} // by VG UUID
		order  []string
	)
	for _, src := range pvs {
		lab, err := findPVLabel(src.R, src.Size, src.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if lab == nil {
			continue
		}
		labels = append(labels, found{src, lab})
		if len(lab.mdas) == 0 {
			continue
		}
		text, err := readMetadataText(src.R, src.Size, lab.mdas[0], l.LVMMetadata, src.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if text == nil {
			notes = append(notes, fmt.Sprintf("%s: LVM2 PV %s holds no volume group metadata", src.Name, dashUUID(lab.uuid)))
			continue
		}
		m, err := parseVGMeta(text, l)
		if err != nil {
			errs = append(errs, &FormatError{Format: "lvm", Offset: int64(lab.mdas[0].offset), Reason: fmt.Sprintf("%s: VG metadata: %v", src.Name, err), Err: ErrFormat})
			continue
		}
		old, ok := metas[m.uuid]
		switch {
		case !ok:
			metas[m.uuid] = m
			order = append(order, m.uuid)
		case m.seqno > old.seqno:
			notes = append(notes, fmt.Sprintf("VG %s: %s has newer metadata (seqno %d) than another PV (%d)", m.name, src.Name, m.seqno, old.seqno))
			metas[m.uuid] = m
		case m.seqno < old.seqno:
			notes = append(notes, fmt.Sprintf("VG %s: %s has older metadata (seqno %d); seqno %d is used", m.name, src.Name, m.seqno, old.seqno))
		}
	}
	bySource := map[string]found{}
	for _, f := range labels {
		if first, ok := bySource[f.label.uuid]; ok {
			notes = append(notes, fmt.Sprintf("%s and %s carry the same PV UUID %s; %s is used", first.src.Name, f.src.Name, dashUUID(f.label.uuid), first.src.Name))
			continue
		}
		bySource[f.label.uuid] = f
	}
	used := map[string]bool{}
	for _, id := range order {
		m := metas[id]
		for i := range m.pvs {
			pv := &m.pvs[i]
			if f, ok := bySource[strings.ReplaceAll(pv.UUID, "-", "")]; ok {
				pv.Source, pv.r, pv.size = f.src.Name, f.src.R, f.src.Size
				used[f.label.uuid] = true
			}
		}
		vgs = append(vgs, m.volumeGroup())
	}
	for _, f := range labels {
		// A PV with a metadata area was reported above if unused.
		if !used[f.label.uuid] && len(f.label.mdas) == 0 {
			notes = append(notes, fmt.Sprintf("%s: LVM2 PV %s without metadata belongs to no VG found in the image", f.src.Name, dashUUID(f.label.uuid)))
		}
	}
	return vgs, notes, errors.Join(errs...)
}

// dashUUID formats a 32-character lvm2 UUID as lvm2 prints it (6-4-4-4-4-4-6).
func dashUUID(s string) string {
	if len(s) != lvmUUIDLen {
		return s
	}
	return strings.Join([]string{s[:6], s[6:10], s[10:14], s[14:18], s[18:22], s[22:26], s[26:]}, "-")
}
