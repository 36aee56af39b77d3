package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// containerDisk is a GPT disk with sampleTree's ext4 in its only
// partition and a 3 GiB virtual size, almost all of it never written:
// large enough for two twoGbMaxExtent files and many grain tables.
func containerDisk(t testing.TB) string {
	return fixtures.MustDisk(t, fixtures.Layout{DiskSize: 3 << 30, Parts: []fixtures.Part{{Type: "linux", Image: sampleRaw(t), Name: "root"}}})
}

// openVMDK opens a VMDK through the format table.
func openVMDK(t testing.TB, path string, opts ...image.Option) *image.Image {
	t.Helper()
	img, err := image.OpenWithFormat(path, image.VMDK, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// sameAsOracle compares the whole virtual disk of img with the raw file
// at oracle (sameAsFile) and checks that the disk holds the sample
// partition's ext4.
func sameAsOracle(t *testing.T, img *image.Image, oracle string) {
	t.Helper()
	sameAsFile(t, img, oracle)
	tab, err := image.ReadTable(img, img.Size())
	if err != nil || len(tab.Partitions) != 1 {
		t.Fatalf("ReadTable = %+v, %v; want one partition", tab, err)
	}
	if fs := image.Sniff(&tab.Partitions[0], tab.Partitions[0].Size); fs != "ext4" {
		t.Errorf("partition holds %q, want ext4", fs)
	}
}

func TestVMDKSubformatsMatchQemuImg(t *testing.T) {
	disk := containerDisk(t)
	tests := []struct {
		subformat, detail, codec string
		files                    int // files qemu-img writes
	}{
		{"monolithicSparse", "monolithicSparse, grain 64 KiB", "", 1},
		{"streamOptimized", "streamOptimized, grain 64 KiB, deflate", "deflate", 1},
		{"monolithicFlat", "monolithicFlat, 1 extent", "", 2},
		{"twoGbMaxExtentSparse", "twoGbMaxExtentSparse, 2 extents, grain 64 KiB", "", 3},
		{"twoGbMaxExtentFlat", "twoGbMaxExtentFlat, 2 extents", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.subformat, func(t *testing.T) {
			p := fixtures.MustConvert(t, disk, "vmdk", "subformat="+tt.subformat)
			if ents, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "disk*")); len(ents) != tt.files {
				t.Fatalf("qemu-img wrote %d files, want %d", len(ents), tt.files)
			}
			img := openVMDK(t, p)
			chain := img.Chain()
			if img.Format() != image.VMDK || len(chain) != 2 || chain[1].Format != image.Raw {
				t.Fatalf("Chain() = %+v; want vmdk then raw", chain)
			}
			if l := chain[0]; l.Subformat != tt.subformat || l.Detail != tt.detail || l.Codec != tt.codec || l.Path != p {
				t.Errorf("layer = %+v; want subformat %q, detail %q, codec %q, path %s", l, tt.subformat, tt.detail, tt.codec, p)
			}
			if a := img.Allocated(); a != dirBytes(t, filepath.Dir(p)) {
				t.Errorf("Allocated() = %d, want the %d bytes of the files", a, dirBytes(t, filepath.Dir(p)))
			}
			sameAsOracle(t, img, fixtures.MustQemuRaw(t, p))
		})
	}
}

// dirBytes is the size of the files qemu-img wrote into dir (named
// disk*, unlike the hostile copies derived from them) together.
func dirBytes(t *testing.T, dir string) int64 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "disk") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

// vmdkLayout is what the hostile patches need of a sparse VMDK header.
type vmdkLayout struct {
	grainSectors, gdOffset, rgdOffset, descOffset uint64
	gtEntries                                     uint32
}

func readVMDKLayout(t testing.TB, b []byte) vmdkLayout {
	t.Helper()
	if string(b[:4]) != "KDMV" {
		t.Fatalf("not a sparse VMDK: %q", b[:4])
	}
	le64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	return vmdkLayout{grainSectors: le64(20), descOffset: le64(28), gtEntries: binary.LittleEndian.Uint32(b[44:]), rgdOffset: le64(48), gdOffset: le64(56)}
}

// firstGT returns the file offset of the first grain table the grain
// directory names and of its first allocated entry.
func firstGT(t testing.TB, b []byte) (gt, entry int64) {
	t.Helper()
	h := readVMDKLayout(t, b)
	for i := int64(0); ; i++ {
		at := int64(binary.LittleEndian.Uint32(b[int64(h.gdOffset)*512+4*i:])) * 512
		if at == 0 {
			continue
		}
		for j := int64(0); j < int64(h.gtEntries); j++ {
			if binary.LittleEndian.Uint32(b[at+4*j:]) > 1 {
				return at, at + 4*j
			}
		}
	}
}

// withFooter rewrites the streamOptimized file at path as VMware writes
// one: the header's grain directory offset set to GD_AT_END, and the real
// header in a footer between a footer marker and an end-of-stream marker.
func withFooter(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:len(b)-len(b)%512]
	hdr := append([]byte(nil), b[:512]...)
	binary.LittleEndian.PutUint64(b[56:], ^uint64(0))
	marker := make([]byte, 512)
	binary.LittleEndian.PutUint32(marker[12:], 3) // footer
	eos := make([]byte, 512)
	b = append(append(append(b, marker...), hdr...), eos...)
	out := filepath.Join(t.TempDir(), "footer.vmdk")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVMDKStreamOptimizedFooter(t *testing.T) {
	p := withFooter(t, fixtures.MustConvert(t, containerDisk(t), "vmdk", "subformat=streamOptimized"))
	img := openVMDK(t, p)
	if l := img.Chain()[0]; l.Subformat != "streamOptimized" {
		t.Errorf("layer %+v", l)
	}
	sameAsOracle(t, img, fixtures.MustQemuRaw(t, p))
}

// TestVMDKConcurrentReads reads a streamOptimized image from 8
// goroutines through a cache of the least size, so that grains are
// evicted and inflated again while others read them.
func TestVMDKConcurrentReads(t *testing.T) {
	raw := sampleRaw(t)
	want := mustRead(t, raw)
	img := openVMDK(t, fixtures.MustConvert(t, raw, "vmdk", "subformat=streamOptimized"), image.WithLimits(image.Limits{VMDKCache: 1}))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 6000+g*1000)
			for off := int64(g * 4096); off < img.Size(); off += int64(len(buf)) * 3 {
				n, err := img.ReadAt(buf, off)
				if err != nil && !errors.Is(err, image.ErrTruncated) {
					errs <- err
					return
				}
				if !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
					errs <- fmt.Errorf("goroutine %d: bytes at 0x%x differ", g, off)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestContainerReferenced checks the furthest file byte each reader says
// its metadata points at: within the file, and for layouts whose tables
// end the metadata (qemu-img's sparse VMDK) or whose blocks fill the file
// (VDI), exactly where qemu-img put them.
func TestContainerReferenced(t *testing.T) {
	raw := sampleRaw(t)
	for _, tt := range []struct {
		format image.Format
		opts   []string
		exact  bool
	}{
		{image.VMDK, nil, false},
		{image.VMDK, []string{"subformat=streamOptimized"}, false},
		{image.VMDK, []string{"subformat=monolithicFlat"}, true},
		{image.VDI, nil, true},
		{image.VDI, []string{"static=on"}, true},
	} {
		p := fixtures.MustConvert(t, raw, strings.ToLower(string(tt.format)), tt.opts...)
		ref, alloc, err := image.ReferencedWithFormat(p, tt.format)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(p)
		if ref <= 0 || ref > st.Size() || tt.exact && ref != st.Size() {
			t.Errorf("%s %v: Referenced = %d, file size %d", tt.format, tt.opts, ref, st.Size())
		}
		if alloc != dirBytes(t, filepath.Dir(p)) {
			t.Errorf("%s %v: Allocated = %d, want %d", tt.format, tt.opts, alloc, dirBytes(t, filepath.Dir(p)))
		}
	}
}

// TestVMDKGrainInflatedOnce reads inside one compressed grain twice: the
// second read is served from the cache, without touching the file.
func TestVMDKGrainInflatedOnce(t *testing.T) {
	img := openVMDK(t, fixtures.MustConvert(t, sampleRaw(t), "vmdk", "subformat=streamOptimized"))
	buf := make([]byte, 4096)
	if _, err := img.ReadAt(buf, 1<<20+512); err != nil {
		t.Fatal(err)
	}
	first := img.Stats()
	if first.ReadCalls == 0 || first.BytesRead == 0 {
		t.Fatalf("Stats() = %+v after a read; want file reads counted", first)
	}
	if _, err := img.ReadAt(buf, 1<<20+8192); err != nil {
		t.Fatal(err)
	}
	if again := img.Stats(); again != first {
		t.Errorf("Stats() = %+v after a second read in the grain, was %+v", again, first)
	}
}

// TestVMDKZeroGrain marks an allocated grain as a zero grain (entry 1) in
// an image made with zeroed_grain=on: it reads as zeros, as qemu-img
// reads it.
func TestVMDKZeroGrain(t *testing.T) {
	p := fixtures.MustConvert(t, sampleRaw(t), "vmdk", "zeroed_grain=on")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if flags := binary.LittleEndian.Uint32(b[8:]); flags&4 == 0 {
		t.Fatalf("qemu-img did not set the zero-grain flag: flags 0x%x", flags)
	}
	_, entry := firstGT(t, b)
	zeroed := fixtures.MustCorrupt(t, p, func(b []byte) { binary.LittleEndian.PutUint32(b[entry:], 1) })
	want := mustRead(t, fixtures.MustQemuRaw(t, zeroed))
	if bytes.Equal(want, mustRead(t, fixtures.MustQemuRaw(t, p))) {
		t.Fatal("the patch changed nothing qemu-img reads")
	}
	if got := readAll(t, openVMDK(t, zeroed)); !bytes.Equal(got, want) {
		t.Fatalf("virtual disk differs from qemu-img convert -O raw: %s", firstDiff(got, want))
	}
}

// TestContainerMatch checks that the table detects each conversion as its
// format, and nothing else, and a raw disk as neither.
func TestContainerMatch(t *testing.T) {
	raw := sampleRaw(t)
	for _, tt := range []struct {
		path string
		want image.Format
	}{
		{fixtures.MustConvert(t, raw, "vmdk"), image.VMDK},
		{fixtures.MustConvert(t, raw, "vmdk", "subformat=streamOptimized"), image.VMDK},
		{fixtures.MustConvert(t, raw, "vmdk", "subformat=monolithicFlat"), image.VMDK},
		{fixtures.MustConvert(t, raw, "vdi"), image.VDI},
		{fixtures.MustConvert(t, raw, "vdi", "static=on"), image.VDI},
		{raw, ""},
	} {
		got, err := image.MatchedFormats(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range got {
			if (f == image.VMDK || f == image.VDI) && f != tt.want {
				t.Errorf("%s: matched as %s, want %q", tt.path, f, tt.want)
			}
		}
		if tt.want != "" && !slices.Contains(got, tt.want) {
			t.Errorf("%s: matched as %v, want %s", tt.path, got, tt.want)
		}
	}
}
