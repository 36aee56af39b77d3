package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/image"
)

// A synthPV lays out a small PV in memory as pvcreate does (label in
// sector 1, metadata area header, text in the area's ring), so hostile
// metadata can be tried without root. TestLVMRead checks the same layout
// against the real lvm2 tools.
type synthPV struct {
	uuid    string // 32 characters
	size    int64
	mdaOff  int64
	mdaSize int64
	textAt  int64 // offset of the text in the area; past the end wraps
}

func newSynthPV(uuid string) synthPV {
	return synthPV{uuid: uuid, size: 64 << 10, mdaOff: 4096, mdaSize: 12288, textAt: 512}
}

func lvmCRC(b []byte) uint32 { return ^crc32.Update(^uint32(0xf597a6cf), crc32.IEEETable, b) }

// build returns the PV's bytes holding text as its metadata.
func (p synthPV) build(text string) []byte {
	b := make([]byte, p.size)
	lab := b[512:1024]
	copy(lab, "LABELONE")
	binary.LittleEndian.PutUint64(lab[8:], 1)
	binary.LittleEndian.PutUint32(lab[20:], 32)
	copy(lab[24:], "LVM2 001")
	copy(lab[32:], p.uuid)
	binary.LittleEndian.PutUint64(lab[64:], uint64(p.size))
	binary.LittleEndian.PutUint64(lab[72:], uint64(16384)) // data area
	binary.LittleEndian.PutUint64(lab[104:], uint64(p.mdaOff))
	binary.LittleEndian.PutUint64(lab[112:], uint64(p.mdaSize))
	binary.LittleEndian.PutUint32(lab[16:], lvmCRC(lab[20:]))
	h := b[p.mdaOff : p.mdaOff+512]
	copy(h[4:], " LVM2 x[5A%r0N*>")
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint64(h[24:], uint64(p.mdaOff))
	binary.LittleEndian.PutUint64(h[32:], uint64(p.mdaSize))
	binary.LittleEndian.PutUint64(h[40:], uint64(p.textAt))
	binary.LittleEndian.PutUint64(h[48:], uint64(len(text)))
	binary.LittleEndian.PutUint32(h[56:], lvmCRC([]byte(text)))
	binary.LittleEndian.PutUint32(h, lvmCRC(h[4:]))
	for i := range len(text) { // the ring wraps to just after the header
		at := p.textAt + int64(i)
		if at >= p.mdaSize {
			at -= p.mdaSize - 512
		}
		b[p.mdaOff+at] = text[i]
	}
	return b
}

// vgText is metadata for VG "vg" on the PVs uuids (16 extents of 4 KiB
// from 16 KiB each) with the LVs given as text.
func vgText(seqno int, uuids []string, lvs string) string {
	var pvs strings.Builder
	for i, u := range uuids {
		fmt.Fprintf(&pvs, "pv%d {\n id = %q\n device = \"/dev/sda%d\"\n status = [\"ALLOCATABLE\"]\n dev_size = 128\n pe_start = 32\n pe_count = 12\n}\n", i, dash(u), i+2)
	}
	return fmt.Sprintf("vg {\nid = \"abcdef-abcd-abcd-abcd-abcd-abcd-abcdef\"\nseqno = %d\n# a comment\nextent_size = 8\nstatus = [\"READ\", \"WRITE\"]\nphysical_volumes {\n%s}\nlogical_volumes {\n%s}\n}\ncontents = \"Text Format Volume Group\"\nversion = 1\ndescription = \"with \\\"quotes\\\"\"\n", seqno, pvs.String(), lvs)
}

func dash(u string) string {
	return u[:6] + "-" + u[6:10] + "-" + u[10:14] + "-" + u[14:18] + "-" + u[18:22] + "-" + u[22:26] + "-" + u[26:]
}

func linearLV(name, typ string, start, count int) string {
	return fmt.Sprintf("%s {\n id = \"x\"\n status = [\"READ\", \"VISIBLE\"]\n segment_count = 1\n segment1 {\n start_extent = 0\n extent_count = %d\n type = %q\n stripe_count = 1\n stripes = [\"pv0\", %d]\n }\n}\n", name, count, typ, start)
}

const (
	uuidA = "AAAAAAaaaaBBBBbbbbCCCCccccDDDDdd"
	uuidB = "EEEEEEeeeeFFFFffffGGGGggggHHHHhh"
)

func readSynth(t *testing.T, pvs ...[]byte) ([]*image.VolumeGroup, []string, error) {
	t.Helper()
	var srcs []image.PVSource
	for i, b := range pvs {
		srcs = append(srcs, image.PVSource{Name: fmt.Sprintf("partition %d", i+1), R: bytes.NewReader(b), Size: int64(len(b))})
	}
	return image.ReadVolumeGroups(srcs, image.Limits{})
}

// TestLVMSynthetic covers metadata the fixtures cannot easily make: text
// that wraps around the ring, the newest seqno across PVs, kinds that are
// named and refused, and hostile counts and checksums.
func TestLVMSynthetic(t *testing.T) {
	good := vgText(3, []string{uuidA}, linearLV("root", "striped", 2, 4))
	t.Run("wrapped", func(t *testing.T) {
		p := newSynthPV(uuidA)
		p.textAt = p.mdaSize - 100
		b := p.build(good)
		copy(b[16384+2*4096:], "root data")
		vgs, _, err := readSynth(t, b)
		if err != nil {
			t.Fatal(err)
		}
		lv := vgs[0].LVs[0]
		buf := make([]byte, 9)
		if _, err := lv.ReadAt(buf, 0); err != nil || string(buf) != "root data" || lv.Size != 4*4096 {
			t.Fatalf("LV %+v: %q %v", lv, buf, err)
		}
	})
	t.Run("newest seqno", func(t *testing.T) {
		two := []string{uuidA, uuidB}
		a := newSynthPV(uuidA).build(vgText(5, two, linearLV("new", "striped", 0, 1)))
		b := newSynthPV(uuidB).build(vgText(4, two, linearLV("old", "striped", 0, 1)))
		vgs, notes, err := readSynth(t, b, a)
		if err != nil || len(vgs) != 1 || vgs[0].Seqno != 5 || vgs[0].LVs[0].Name != "new" || len(notes) != 1 {
			t.Fatalf("vgs %+v notes %q err %v", vgs, notes, err)
		}
	})
	t.Run("duplicate PV", func(t *testing.T) {
		b := newSynthPV(uuidA).build(good)
		vgs, notes, err := readSynth(t, b, b)
		if err != nil || len(vgs) != 1 || len(notes) != 1 || !strings.Contains(notes[0], "partition 1 and partition 2 carry the same PV UUID") {
			t.Fatalf("vgs %v notes %q err %v", vgs, notes, err)
		}
	})
	for _, kind := range []string{"thin", "thin-pool", "raid1", "raid5_ls", "mirror", "cache", "vdo", "integrity", "snapshot"} {
		t.Run(kind, func(t *testing.T) {
			b := newSynthPV(uuidA).build(vgText(1, []string{uuidA}, linearLV("lv", kind, 0, 1)))
			vgs, _, err := readSynth(t, b)
			if err != nil {
				t.Fatal(err)
			}
			lv := vgs[0].LVs[0]
			if lv.Kind != kind || !errors.Is(lv.Err, image.ErrUnsupported) || !strings.Contains(lv.Err.Error(), "not read") {
				t.Fatalf("kind %q err %v", lv.Kind, lv.Err)
			}
		})
	}
	t.Run("snapshot cow", func(t *testing.T) {
		snap := "snapshot0 {\n id = \"s\"\n status = [\"READ\"]\n segment_count = 1\n segment1 {\n start_extent = 0\n extent_count = 1\n type = \"snapshot\"\n chunk_size = 8\n origin = \"root\"\n cow_store = \"snap\"\n }\n}\n"
		b := newSynthPV(uuidA).build(vgText(1, []string{uuidA}, linearLV("root", "striped", 0, 1)+linearLV("snap", "striped", 1, 1)+snap))
		vgs, _, err := readSynth(t, b)
		if err != nil {
			t.Fatal(err)
		}
		lvs := vgs[0].LVs
		if lvs[0].Err != nil || lvs[1].Kind != "snapshot" || !errors.Is(lvs[1].Err, image.ErrUnsupported) || lvs[2].Visible {
			t.Fatalf("origin %v, cow %q %v, snapshot0 visible %v", lvs[0].Err, lvs[1].Kind, lvs[1].Err, lvs[2].Visible)
		}
	})
	lvErrors := []struct{ name, lvs, want string }{
		{"extents past PV", linearLV("lv", "striped", 10, 1000000000), "past PV"},
		{"missing PV key", strings.Replace(linearLV("lv", "striped", 0, 1), `"pv0"`, `"pv7"`, 1), "which the VG lacks"},
		{"gap", strings.Replace(linearLV("lv", "striped", 0, 1), "start_extent = 0", "start_extent = 3", 1), "starts at extent 3"},
	}
	for _, tt := range lvErrors {
		t.Run(tt.name, func(t *testing.T) {
			vgs, _, err := readSynth(t, newSynthPV(uuidA).build(vgText(1, []string{uuidA}, tt.lvs)))
			if err != nil {
				t.Fatal(err)
			}
			if lv := vgs[0].LVs[0]; lv.Err == nil || !strings.Contains(lv.Err.Error(), tt.want) {
				t.Fatalf("Err %v, want %q", lv.Err, tt.want)
			}
		})
	}
	corrupt := []struct {
		name   string
		mess   func(b []byte)
		text   string
		target error
	}{
		{"label CRC", func(b []byte) { b[600] ^= 1 }, good, image.ErrChecksum},
		{"mda header CRC", func(b []byte) { b[4096+60] ^= 1 }, good, image.ErrChecksum},
		{"text CRC", func(b []byte) { b[4096+512+20] ^= 1 }, good, image.ErrChecksum},
		{"billion segments", nil, strings.Replace(good, "segment_count = 1", "segment_count = 1000000000", 1), image.ErrFormat},
		{"unclosed section", nil, good[:len(good)-90], image.ErrFormat},
		{"deep nesting", nil, strings.Repeat("a {\n", 100) + strings.Repeat("}\n", 100), image.ErrFormat},
	}
	for _, tt := range corrupt {
		t.Run(tt.name, func(t *testing.T) {
			b := newSynthPV(uuidA).build(tt.text)
			if tt.mess != nil {
				tt.mess(b)
			}
			_, _, err := readSynth(t, b)
			if !errors.Is(err, tt.target) {
				t.Fatalf("err %v, want %v", err, tt.target)
			}
			if _, ok := errors.AsType[*image.FormatError](err); !ok {
				t.Fatalf("%v is not a *FormatError", err)
			}
		})
	}
	t.Run("segment limit", func(t *testing.T) {
		_, _, err := image.ReadVolumeGroups([]image.PVSource{{Name: "disk", R: bytes.NewReader(newSynthPV(uuidA).build(good)), Size: 64 << 10}}, image.Limits{LVMSegments: 0, LVMVolumes: 0, LVMMetadata: 100})
		if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "over the limit") {
			t.Fatalf("err %v", err)
		}
	})
}
