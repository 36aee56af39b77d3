package image_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// TestOpenRefusesOtherContainers checks that a file starting with another
// container's magic but holding nothing valid is refused naming that
// format, never read as a raw disk.
func TestOpenRefusesOtherContainers(t *testing.T) {
	dir := t.TempDir()
	for name, head := range map[string]string{
		"vmdk": "KDMV\x01\x00\x00\x00",
		"vhdx": "vhdxfile",
		"vhd":  "conectix",
	} {
		p := filepath.Join(dir, "disk.img") // the extension says nothing
		if err := os.WriteFile(p, append([]byte(head), make([]byte, 8192)...), 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := image.Open(p)
		if err == nil {
			img.Close()
			t.Errorf("%s: opened as %s", name, img.Format())
			continue
		}
		if fe, ok := errors.AsType[*image.FormatError](err); !ok || fe.Format != name {
			t.Errorf("%s: err = %v, want a %s FormatError", name, err, name)
		}
	}
}

func TestOpenRaw(t *testing.T) {
	path := fixtures.MustDisk(t, fixtures.Layout{DiskSize: 25 << 30, Parts: []fixtures.Part{{Type: "bios-boot", Size: mib}, {Type: "linux", Image: rootFS(t), Size: fixtures.Rest}}})
	img, err := image.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Size() != 25<<30 || img.Format() != image.Raw {
		t.Errorf("size %d format %s, want 25 GiB raw", img.Size(), img.Format())
	}
	if ch := img.Chain(); len(ch) != 1 || ch[0] != (image.Layer{Format: image.Raw, Path: path, FileSize: 25 << 30}) {
		t.Errorf("chain %+v", ch)
	}
	if a := img.Allocated(); a <= 0 || a > 32*mib {
		t.Errorf("allocated %d bytes for a sparse disk holding 16 MiB of filesystem", a)
	}
	if s := img.Stats(); s != (image.ReadStats{}) {
		t.Errorf("stats before any read: %+v", s)
	}
	buf := make([]byte, 4096)
	if _, err := img.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := img.ReadAt(buf[:100], 512); err != nil {
		t.Fatal(err)
	}
	if s := img.Stats(); s != (image.ReadStats{BytesRead: 4196, ReadCalls: 2}) {
		t.Errorf("stats %+v, want 4196 bytes in 2 calls", s)
	}
	if string(buf[:8]) != "EFI PART" {
		t.Errorf("LBA 1 starts %q", buf[:8])
	}
}

func TestNew(t *testing.T) {
	if _, err := image.New(bytes.NewReader(nil), -1); err == nil {
		t.Error("New accepted a negative size")
	}
	img, err := image.New(bytes.NewReader([]byte("0123456789")), 10)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	n, err := img.ReadAt(b, 8)
	fe, ok := errors.AsType[*image.FormatError](err)
	if n != 2 || string(b[:2]) != "89" || !errors.Is(err, image.ErrTruncated) || !ok || fe.Offset != 10 {
		t.Errorf("read across the end: n=%d %q err=%v, want 2 bytes and ErrTruncated at 10", n, b[:n], err)
	}
	if _, err := img.ReadAt(b, -3); err == nil {
		t.Error("negative offset accepted")
	}
	if err := img.Close(); err != nil {
		t.Error(err)
	}
}

// TestTruncatedImage cuts a GPT disk inside its root partition, as an
// interrupted upload would: the table is still read, with notes, and any
// read past the cut names its offset instead of returning zeros.
func TestTruncatedImage(t *testing.T) {
	full := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "bios-boot", Size: mib}, {Type: "linux", Image: rootFS(t)}}})
	cut := 10 * mib
	path := filepath.Join(t.TempDir(), "cut.raw")
	src, err := os.Open(full)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, io.NewSectionReader(src, 0, cut)); err != nil {
		t.Fatal(err)
	}
	dst.Close()

	img, tab := openDisk(t, path)
	joined := strings.Join(tab.Notes, "\n")
	for _, want := range []string{"backup GPT at LBA", "partition 2 (bytes 0x200000-0x1200000) extends past the end of the disk (size 0xa00000)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes %q lack %q", tab.Notes, want)
		}
	}
	if len(tab.Partitions) != 2 || tab.Partitions[1].Size != 16*mib {
		t.Fatalf("partitions %+v", tab.Partitions)
	}
	p := tab.Partitions[1]
	buf := make([]byte, 64*kib)
	n, err := p.ReadAt(buf, cut-p.Start-kib)
	fe, ok := errors.AsType[*image.FormatError](err)
	if n != int(kib) || !errors.Is(err, image.ErrTruncated) || !ok || fe.Offset != cut {
		t.Errorf("read across the cut: n=%d err=%v, want %d bytes then ErrTruncated at 0x%x", n, err, kib, cut)
	}
	if _, err := io.ReadAll(p.Open()); !errors.Is(err, image.ErrTruncated) || !strings.Contains(err.Error(), "0xa00000") {
		t.Errorf("reading the whole partition: %v, want ErrTruncated naming 0xa00000", err)
	}
	if _, err := img.ReadAt(buf, cut); !errors.Is(err, image.ErrTruncated) {
		t.Errorf("image read at the end: %v", err)
	}
}

// ebrOffsets returns the byte offsets of the EBRs of the first extended
// partition of the MBR disk in b, following the chain from its start.
func ebrOffsets(b []byte) []int {
	le32 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 | int(p[3])<<24 }
	for i := range 4 {
		e := b[446+16*i:]
		if e[4] != 0x05 && e[4] != 0x0f && e[4] != 0x85 {
			continue
		}
		ext := le32(e[8:]) * 512
		var offs []int
		for at := ext; len(offs) < 16; {
			offs = append(offs, at)
			link := b[at+446+16:]
			if link[4] == 0 {
				break
			}
			at = ext + le32(link[8:])*512
		}
		return offs
	}
	return nil
}

func TestEBRLoop(t *testing.T) {
	good := fixtures.MustDisk(t, fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
		{Type: "linux", Size: mib},
		{Type: "extended"},
		{Type: "linux", Size: mib, Logical: true},
		{Type: "linux", Size: mib, Logical: true},
		{Type: "linux", Size: mib, Logical: true},
	}})
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	ebrs := ebrOffsets(raw)
	if len(ebrs) != 3 {
		t.Fatalf("fixture has %d EBRs, want 3", len(ebrs))
	}
	tests := []struct {
		name     string
		from, to int // EBR whose link is rewritten, EBR it then points at
		logical  int
		note     string
	}{
		{"last links to first", 2, 0, 3, "EBR chain loops back to LBA"},
		{"second links to itself", 1, 1, 2, "EBR chain loops back to LBA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixtures.MustCorrupt(t, good, func(b []byte) {
				link := b[ebrs[tt.from]+446+16:]
				link[4] = 0x05
				rel := uint32((ebrs[tt.to] - ebrs[0]) / 512)
				link[8], link[9], link[10], link[11] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
				link[12] = 1
			})
			_, tab := openDisk(t, path)
			logical := 0
			for _, p := range tab.Partitions {
				if p.Logical {
					logical++
				}
			}
			if logical != tt.logical {
				t.Errorf("%d logical partitions, want %d", logical, tt.logical)
			}
			if !strings.Contains(strings.Join(tab.Notes, "\n"), tt.note) {
				t.Errorf("notes %q lack %q", tab.Notes, tt.note)
			}
		})
	}
}

// TestEBRChainCap builds, in memory, an extended partition whose chain of
// 300 EBRs exceeds the hop cap.
func TestEBRChainCap(t *testing.T) {
	disk := ebrChainDisk(300, 512)
	tab, err := image.ReadTable(bytes.NewReader(disk), int64(len(disk)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tab.Partitions); n != 1+256 {
		t.Errorf("%d partitions, want the extended one and 256 logical", n)
	}
	if !strings.Contains(strings.Join(tab.Notes, "\n"), "longer than 256 links") {
		t.Errorf("notes %q lack the hop cap", tab.Notes)
	}
}

// TestGPTBounds checks that absurd entry counts and sizes are refused
// before anything is allocated, falling back to the backup.
func TestGPTBounds(t *testing.T) {
	good := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Size: mib}}})
	for _, tt := range []struct {
		name        string
		count, size uint32
		note        string
	}{
		{"too many entries", 1 << 20, 128, "1048576 entries of 128 bytes is more than imgcheck reads"},
		{"entry size 100", 128, 100, "entry size 100 is not a multiple of 128"},
		{"entry size 0", 128, 0, "entry size 0 is not a multiple of 128"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := fixtures.MustCorrupt(t, good, func(b []byte) {
				h := b[512 : 512+92]
				putLE32(h[80:], tt.count)
				putLE32(h[84:], tt.size)
				fixHeaderCRC(h)
			})
			_, tab := openDisk(t, path)
			if len(tab.Partitions) != 1 || !strings.Contains(strings.Join(tab.Notes, "\n"), tt.note) {
				t.Errorf("got %d partitions and notes %q, want 1 partition and a note %q", len(tab.Partitions), tab.Notes, tt.note)
			}
		})
	}
}

// TestGPTEntryNotes rewrites partition entries of a valid GPT (fixing its
// CRCs) and expects each oddity noted while the table stays readable.
func TestGPTEntryNotes(t *testing.T) {
	good := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Size: 2 * mib}, {Type: "linux", Size: 2 * mib}}})
	entry := func(b []byte, n int) []byte { return b[1024+128*(n-1):] }
	for _, tt := range []struct {
		name  string
		edit  func(b []byte)
		parts int
		note  string
	}{
		{"overlap", func(b []byte) { putLE64(entry(b, 2)[32:], 3000) }, 2, "partitions 1 and 2 overlap"},
		{"outside usable", func(b []byte) { putLE64(entry(b, 1)[32:], 10) }, 2, "partition 1 (LBA 10-6143) lies outside the usable LBAs"},
		{"end before start", func(b []byte) { putLE64(entry(b, 2)[40:], 100) }, 1, "partition 2 ends (LBA 100) before it starts"},
		{"past the end", func(b []byte) { putLE64(entry(b, 2)[40:], 1<<40) }, 2, "partition 2 (LBA 6144-1099511627776) lies outside the usable LBAs"},
		{"beyond any disk", func(b []byte) { putLE64(entry(b, 2)[40:], 1<<62) }, 1, "is beyond any disk"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := fixtures.MustCorrupt(t, good, func(b []byte) {
				tt.edit(b)
				h := b[512 : 512+92]
				putLE32(h[88:], crc32.ChecksumIEEE(b[1024:1024+128*128]))
				fixHeaderCRC(h)
			})
			_, tab := openDisk(t, path)
			if len(tab.Partitions) != tt.parts || !strings.Contains(strings.Join(tab.Notes, "\n"), tt.note) {
				t.Errorf("%d partitions, notes %q; want %d and a note %q", len(tab.Partitions), tab.Notes, tt.parts, tt.note)
			}
		})
	}
}

// TestEBRChain4096 reads logical partitions on a disk with 4 KiB sectors,
// where every LBA of the MBR and the EBRs counts 4096 bytes.
func TestEBRChain4096(t *testing.T) {
	disk := ebrChainDisk(3, 4096)
	tab, err := image.ReadTable(bytes.NewReader(disk), int64(len(disk)))
	if err != nil {
		t.Fatal(err)
	}
	if tab.SectorSize != 4096 || len(tab.Partitions) != 4 {
		t.Fatalf("sector size %d, %d partitions; want 4096 and 4", tab.SectorSize, len(tab.Partitions))
	}
	for i, p := range tab.Partitions[1:] {
		if want := int64(2+2*i+1) * 4096; p.Index != 5+i || !p.Logical || p.Start != want || p.Size != 4096 {
			t.Errorf("logical partition %d = %+v, want index %d at %d, 4096 bytes", i, p, 5+i, want)
		}
	}
}

// TestGrownDisk grows a GPT disk by 8 MiB after partitioning, as
// `qemu-img resize` does, so the backup GPT is no longer at the end.
func TestGrownDisk(t *testing.T) {
	good := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Size: 2 * mib}}})
	for _, tt := range []struct {
		name string
		src  string
		note string
	}{
		{"intact", good, "not at the last LBA"},
		{"primary damaged", fixtures.MustCorrupt(t, good, func(b []byte) { b[1024+56] ^= 1 }), "using the backup at LBA 8191"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "grown.raw")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, int64(len(b))+8*mib); err != nil {
				t.Fatal(err)
			}
			_, tab := openDisk(t, path)
			if len(tab.Partitions) != 1 || !strings.Contains(strings.Join(tab.Notes, "\n"), tt.note) {
				t.Errorf("%d partitions, notes %q; want 1 and a note %q", len(tab.Partitions), tab.Notes, tt.note)
			}
		})
	}
}

func TestOpenNotAnImage(t *testing.T) {
	dir := t.TempDir()
	if _, err := image.Open(dir); !errors.Is(err, image.ErrFormat) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	if _, err := image.Open(filepath.Join(dir, "missing.raw")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.raw")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(empty)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	tab, err := image.ReadTable(img, img.Size())
	if err != nil || tab.Scheme != image.None || len(tab.Partitions) != 1 || tab.Partitions[0].Size != 0 {
		t.Errorf("empty image: %+v, %v; want no table and one empty pseudo-partition", tab, err)
	}
}

func TestOpenRefusesFIFOAndCharDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "disk.raw")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := image.Open(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, image.ErrFormat) {
			t.Errorf("Open(fifo) = %v, want ErrFormat", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open blocked on a FIFO")
	}
	if _, err := image.Open("/dev/zero"); !errors.Is(err, image.ErrFormat) {
		t.Errorf("Open(/dev/zero) = %v, want ErrFormat", err)
	}
}
