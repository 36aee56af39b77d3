package image_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// lvmTestSpec is a VG over two PVs with 1 MiB extents: "first" (4
// extents at pv0:0), "split-lv" in two segments placed out of order after
// it (pv0:20-27 then pv0:4-11), and "striped" across both PVs (pv0:12-19
// and pv1:0-7, 64 KiB stripes).
func lvmTestSpec(t testing.TB) fixtures.LVMSpec {
	fsImage := func(name string, size int64) string {
		tree := fstest.MapFS{"hello": fixtures.File("I am "+name+"\n", 0o644), "data": fixtures.File(strings.Repeat(name, 50000), 0o644)}
		return fixtures.MustExt4(t, tree, fixtures.Ext4Options{Size: size, Label: name})
	}
	return fixtures.LVMSpec{
		Layout: fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{
			{Type: "bios-boot", Size: mib},
			{Type: "lvm", Size: 32 * mib, Name: "pv0"},
			{Type: "lvm", Size: 32 * mib, Name: "pv1"},
		}},
		VG:         "test-vg",
		ExtentSize: mib,
		LVs: []fixtures.LVSpec{
			{Name: "first", Image: fsImage("first", 4*mib), Segments: []fixtures.LVSegment{{Extents: 4, Stripes: []fixtures.PVExtent{{PV: 0, Extent: 0}}}}},
			{Name: "split-lv", Image: fsImage("split", 16*mib), Segments: []fixtures.LVSegment{
				{Extents: 8, Stripes: []fixtures.PVExtent{{PV: 0, Extent: 20}}},
				{Extents: 8, Stripes: []fixtures.PVExtent{{PV: 0, Extent: 4}}},
			}},
			{Name: "striped", Image: fsImage("striped", 16*mib), Segments: []fixtures.LVSegment{
				{Extents: 16, StripeSize: 64 << 10, Stripes: []fixtures.PVExtent{{PV: 0, Extent: 12}, {PV: 1, Extent: 0}}},
			}},
		},
	}
}

// lvmSources opens the disk at path and returns its partitions as PV
// sources.
func lvmSources(t testing.TB, path string) []image.PVSource {
	img, err := image.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	tab, err := image.ReadTable(img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	var srcs []image.PVSource
	for i := range tab.Partitions {
		p := &tab.Partitions[i]
		srcs = append(srcs, image.PVSource{Name: "partition " + string(rune('0'+p.Index)), R: p, Size: p.Size})
	}
	return srcs
}

// TestLVMRead reads the LVs of a VG written by pvcreate and vgcfgrestore
// and compares each with the filesystem image placed in it, and the
// segment map with what lvs reported.
func TestLVMRead(t *testing.T) {
	spec := lvmTestSpec(t)
	path := fixtures.MustLVMDisk(t, spec)
	vgs, notes, err := image.ReadVolumeGroups(lvmSources(t, path), image.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vgs) != 1 || len(notes) != 0 {
		t.Fatalf("vgs %v, notes %q", vgs, notes)
	}
	vg := vgs[0]
	if vg.Name != "test-vg" || vg.ExtentSize != mib || len(vg.PVs) != 2 || len(vg.LVs) != 3 {
		t.Fatalf("VG %+v", vg)
	}
	for _, pv := range vg.PVs {
		if pv.Source == "" || pv.PEStart != mib || pv.PECount != 31 {
			t.Errorf("PV %+v", pv)
		}
	}
	report, err := fixtures.ReadLVMReport(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range report.PVs {
		i := vgPV(vg, row["pv_name"])
		if i < 0 || !strings.EqualFold(vg.PVs[i].UUID, row["pv_uuid"]) || row["pe_start"] != "2048" || row["pv_pe_count"] != "31" {
			t.Errorf("pvs row %v, reader PVs %+v", row, vg.PVs)
		}
	}
	var got []string
	for _, lv := range vg.LVs {
		for _, s := range lv.Segments {
			got = append(got, lv.Name+" "+s.String())
		}
	}
	var want []string
	for _, row := range report.LVs {
		want = append(want, row["lv_name"]+" "+row["seg_pe_ranges"])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("segments:\n%s\nlvs says:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, lv := range vg.LVs {
		ls := spec.LVs[i]
		if lv.Err != nil || lv.Name != ls.Name || !lv.Visible {
			t.Fatalf("LV %+v", lv)
		}
		wantKind := "linear"
		if lv.Name == "striped" {
			wantKind = "striped"
		}
		if lv.Kind != wantKind {
			t.Errorf("%s: kind %q, want %q", lv.Name, lv.Kind, wantKind)
		}
		wantBytes, err := os.ReadFile(ls.Image)
		if err != nil {
			t.Fatal(err)
		}
		gotBytes := make([]byte, lv.Size)
		if _, err := lv.ReadAt(gotBytes, 0); err != nil {
			t.Fatalf("%s: %v", lv.Name, err)
		}
		if !bytes.Equal(gotBytes[:len(wantBytes)], wantBytes) || !allZero(gotBytes[len(wantBytes):]) {
			t.Errorf("%s: LV bytes differ from the filesystem image placed in it", lv.Name)
		}
		if fs := image.Sniff(lv, lv.Size); fs != "ext4" {
			t.Errorf("%s holds %q", lv.Name, fs)
		}
	}
	if dm := vg.LVs[1].DMName(); dm != "test--vg-split--lv" {
		t.Errorf("DMName %q", dm)
	}
}

// TestLVMConcurrentReads reads the striped LV from several goroutines in
// odd-sized pieces that cross stripe and segment boundaries.
func TestLVMConcurrentReads(t *testing.T) {
	spec := lvmTestSpec(t)
	path := fixtures.MustLVMDisk(t, spec)
	vgs, _, err := image.ReadVolumeGroups(lvmSources(t, path), image.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range vgs[0].LVs[1:] {
		want := make([]byte, lv.Size)
		if _, err := lv.ReadAt(want, 0); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				buf := make([]byte, 65536+511+g*4096)
				for off := int64(g * 777); off < lv.Size; off += int64(len(buf)) {
					n, err := lv.ReadAt(buf, off)
					if err != nil && !errors.Is(err, io.EOF) {
						t.Error(err)
						return
					}
					if !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
						t.Errorf("%s: bytes at %d differ", lv.Name, off)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

// TestLVMMissingPV drops the second PV: the striped LV that uses it has an
// Err naming it, and the others still read.
func TestLVMMissingPV(t *testing.T) {
	path := fixtures.MustLVMDisk(t, lvmTestSpec(t))
	srcs := lvmSources(t, path)
	vgs, _, err := image.ReadVolumeGroups(srcs[:2], image.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range vgs[0].LVs {
		switch {
		case lv.Name == "striped" && (!errors.Is(lv.Err, image.ErrTruncated) || !strings.Contains(lv.Err.Error(), "not in the image")):
			t.Errorf("striped: Err %v", lv.Err)
		case lv.Name != "striped" && lv.Err != nil:
			t.Errorf("%s: %v", lv.Name, lv.Err)
		}
	}
	if _, err := vgs[0].LVs[2].ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("read of an LV with a missing PV succeeded")
	}
}

func vgPV(vg *image.VolumeGroup, name string) int {
	for i, pv := range vg.PVs {
		if pv.Name == name {
			return i
		}
	}
	return -1
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// TestLVMInstallerLayouts reads the Ubuntu-like and RHEL-like disks: the
// PV partition holds the VG, and the root LV an ext4 filesystem.
func TestLVMInstallerLayouts(t *testing.T) {
	tests := []struct {
		name, vg, root string
		build          func(testing.TB) string
		lvs            []string
		rootFS         string
	}{
		{"ubuntu", "ubuntu-vg", "ubuntu-lv", fixtures.MustUbuntuLVM, []string{"ubuntu-lv linear 20971520 pv0:0-4"}, "ext4"},
		{"rhel", "rhel", "root", fixtures.MustRHELLVM, []string{"swap linear 8388608 pv0:0-1", "root linear 20971520 pv0:5-7,pv0:2-3"}, "xfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vgs, notes, err := image.ReadVolumeGroups(lvmSources(t, tt.build(t)), image.Limits{})
			if err != nil || len(vgs) != 1 || len(notes) != 0 {
				t.Fatalf("vgs %v notes %q err %v", vgs, notes, err)
			}
			var got []string
			for _, lv := range vgs[0].LVs {
				var segs []string
				for _, s := range lv.Segments {
					segs = append(segs, s.String())
				}
				got = append(got, fmt.Sprintf("%s %s %d %s", lv.Name, lv.Kind, lv.Size, strings.Join(segs, ",")))
				want := tt.rootFS
				if lv.Name == "swap" {
					want = "swap"
				}
				if fs := image.Sniff(lv, lv.Size); fs != want {
					t.Errorf("%s holds %q, want %s", lv.Name, fs, want)
				}
			}
			if vgs[0].Name != tt.vg || strings.Join(got, "\n") != strings.Join(tt.lvs, "\n") {
				t.Errorf("VG %s LVs:\n%s\nwant:\n%s", vgs[0].Name, strings.Join(got, "\n"), strings.Join(tt.lvs, "\n"))
			}
		})
	}
}
