package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// sparseDisk is a GPT disk holding sampleRaw's ext4 filesystem in a
// 5 GiB virtual size, most of it never written: past 4 GiB, so that a
// VHDX BAT has a sector bitmap entry between its payload entries (one
// per 4 GiB with 512-byte sectors), with the backup GPT beyond it.
func sparseDisk(t testing.TB) string {
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", DiskSize: 5 << 30,
		Parts: []fixtures.Part{{Type: "linux", Image: sampleRaw(t)}}})
}

// qemuRawAs converts the image at path, read as format, to raw with
// qemu-img, or reuses the conversion kept beside it, and returns the raw
// file's path. (fixtures.QemuRaw lets qemu-img probe the format, and
// qemu-img probes a fixed VHD as raw.) path must be a fixtures cache
// file, named after its content.
func qemuRawAs(t *testing.T, path, format string) string {
	t.Helper()
	out := path + ".qemu-raw-" + format
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := filepath.Join(t.TempDir(), "ref.raw")
	qemuImg(t, "", "convert", "-q", "-f", format, "-O", "raw", path, tmp)
	if err := os.Rename(tmp, out); err != nil {
		return tmp // another filesystem: use it uncached
	}
	return out
}

// sameAsFile compares the whole virtual disk of img with the sparse file
// at ref: the file's data runs byte for byte, and its holes with zeros
// (found with SEEK_DATA and SEEK_HOLE, so that a multi-GiB reference
// costs only its data to read). Reads go in chunks of an odd size, so
// that they straddle blocks.
func sameAsFile(t *testing.T, img *image.Image, ref string) {
	t.Helper()
	f, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	if img.Size() != size {
		t.Fatalf("Size() = %d, qemu-img's disk is %d bytes", img.Size(), size)
	}
	const chunk = 8<<20 + 4093
	got, want := make([]byte, chunk), make([]byte, chunk)
	dataEnd := int64(-1) // the file holds data up to here, from the last seek
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		if _, err := img.ReadAt(got[:n], off); err != nil {
			t.Fatalf("ReadAt(%d at 0x%x): %v", n, off, err)
		}
		clear(want[:n])
		for at := off; at < off+n; {
			if at >= dataEnd {
				start, err := f.Seek(at, seekData)
				if err != nil { // no data after at
					break
				}
				if start >= off+n {
					dataEnd = -1
					break
				}
				end, err := f.Seek(start, seekHole)
				if err != nil {
					t.Fatal(err)
				}
				at, dataEnd = start, end
			}
			m := min(dataEnd, off+n) - at
			if _, err := io.ReadFull(io.NewSectionReader(f, at, m), want[at-off:at-off+m]); err != nil {
				t.Fatal(err)
			}
			at += m
		}
		if !bytes.Equal(got[:n], want[:n]) {
			t.Fatalf("%d bytes at 0x%x differ from qemu-img: %s", n, off, firstDiff(got[:n], want[:n]))
		}
	}
}

// Linux lseek whences: the next data at or after an offset, and the next
// hole.
const (
	seekData = 3
	seekHole = 4
)

// concurrentReads reads img from 8 goroutines at random offsets and
// compares with ref.
func concurrentReads(t *testing.T, img *image.Image, ref string) {
	t.Helper()
	want, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			got, exp := make([]byte, 300000), make([]byte, 300000)
			for range 100 {
				off := rng.Int64N(64 << 20)
				if _, err := img.ReadAt(got, off); err != nil {
					errs <- err
					return
				}
				if _, err := want.ReadAt(exp, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, exp) {
					errs <- fmt.Errorf("goroutine %d: read at 0x%x differs", g, off)
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

// wantFormatError checks that err is a *image.FormatError of format
// wrapping sentinel whose message holds every one of words.
func wantFormatError(t *testing.T, err error, format image.Format, sentinel error, words ...string) {
	t.Helper()
	fe, ok := errors.AsType[*image.FormatError](err)
	if !ok {
		t.Fatalf("error %v (%T); want a *image.FormatError", err, err)
	}
	if fe.Format != string(format) || !errors.Is(err, sentinel) {
		t.Errorf("error %q (format %q); want format %q wrapping %v", err, fe.Format, format, sentinel)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func be32(b []byte) uint32       { return binary.BigEndian.Uint32(b) }
func putBE32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }

// TestVHDMatchesQemuImg converts the 5 GiB sparse disk to VHD, dynamic
// and fixed, with the size rounded to CHS geometry as qemu-img does by
// default and exact (force_size), and compares our whole virtual disk
// with qemu-img's raw conversion of the same file read as vpc.
func TestVHDMatchesQemuImg(t *testing.T) {
	disk := sparseDisk(t)
	tests := []struct {
		opts   []string
		detail string
	}{
		{[]string{"subformat=dynamic"}, "dynamic, block 2 MiB"},
		{[]string{"subformat=dynamic", "force_size=on"}, "dynamic, block 2 MiB"},
		{[]string{"subformat=fixed"}, "fixed"},
		{[]string{"subformat=fixed", "force_size=on"}, "fixed"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.opts, ","), func(t *testing.T) {
			path := fixtures.MustConvert(t, disk, "vpc", tt.opts...)
			img, referenced, err := image.OpenByTable(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			l := img.Chain()[0]
			if l.Format != image.VHD || l.Subformat != strings.TrimPrefix(tt.opts[0], "subformat=") || l.Detail != tt.detail {
				t.Errorf("layer %+v; want vhd %q", l, tt.detail)
			}
			if referenced <= 0 || referenced > l.FileSize {
				t.Errorf("Referenced = %d for a whole file of %d bytes", referenced, l.FileSize)
			}
			if slices.Contains(tt.opts, "force_size=on") && img.Size() != 5<<30 {
				t.Errorf("Size() = %d with force_size; want the source's %d", img.Size(), 5<<30)
			}
			ref := qemuRawAs(t, path, "vpc")
			sameAsFile(t, img, ref)
			concurrentReads(t, img, ref)
		})
	}
}

// smallVHD is sampleRaw as a dynamic VHD: footer copy at 0, dynamic
// header at 512, the BAT where the header says.
func smallVHD(t testing.TB) string {
	return fixtures.MustConvert(t, sampleRaw(t), "vpc", "subformat=dynamic")
}

// setVHDChecksum recomputes the checksum at field of a footer or dynamic
// header.
func setVHDChecksum(b []byte, field int) {
	putBE32(b[field:], 0)
	var sum uint32
	for _, c := range b {
		sum += uint32(c)
	}
	putBE32(b[field:], ^sum)
}

// vhdFooterPatch patches both footers of a dynamic VHD alike and fixes
// their checksums.
func vhdFooterPatch(patch func(f []byte)) func([]byte) {
	return func(b []byte) {
		for _, f := range [][]byte{b[:512], b[len(b)-512:]} {
			patch(f)
			setVHDChecksum(f, 64)
		}
	}
}

// vhdHeaderPatch patches the dynamic header at 512 and fixes its checksum.
func vhdHeaderPatch(patch func(h []byte)) func([]byte) {
	return func(b []byte) { h := b[512:1536]; patch(h); setVHDChecksum(h, 36) }
}

// vhdBAT returns the BAT of the small VHD.
func vhdBAT(b []byte) []byte { return b[binary.BigEndian.Uint64(b[512+16:]):] }

func TestVHDHostile(t *testing.T) {
	path := smallVHD(t)
	good := mustRead(t, path)
	if string(good[:8]) != "conectix" || string(good[512:520]) != "cxsparse" {
		t.Fatal("qemu-img's dynamic VHD layout changed")
	}
	tests := []patchCase{
		{name: "footer copy bad checksum", patch: func(b []byte) { b[100] ^= 1 }},
		{name: "footer at the end bad checksum", patch: func(b []byte) { b[len(b)-100] ^= 1 }},
		{name: "both footers bad checksum", patch: func(b []byte) { b[100] ^= 1; b[len(b)-100] ^= 1 },
			sentinel: image.ErrChecksum, words: []string{"footer at 0x0 fails its checksum"}},
		{name: "dynamic header bad checksum", patch: func(b []byte) { b[512+700] ^= 1 },
			sentinel: image.ErrChecksum, words: []string{"dynamic header at 0x200 fails its checksum"}},
		{name: "dynamic header past EOF", patch: vhdFooterPatch(func(f []byte) { binary.BigEndian.PutUint64(f[16:], 1<<40) }),
			sentinel: image.ErrTruncated, words: []string{"dynamic header at 0x10000000000", "past end of file"}},
		{name: "BAT past EOF", patch: vhdHeaderPatch(func(h []byte) { binary.BigEndian.PutUint64(h[16:], 1<<40) }),
			sentinel: image.ErrTruncated, words: []string{"BAT at 0x10000000000", "past end of file"}},
		{name: "BAT claiming 10^9 entries", patch: func(b []byte) {
			vhdHeaderPatch(func(h []byte) { putBE32(h[28:], 1e9) })(b)
			vhdFooterPatch(func(f []byte) { binary.BigEndian.PutUint64(f[48:], 1e9*2<<20) })(b)
		}, sentinel: image.ErrUnsupported, words: []string{"BAT of 1000000000 entries is over 4194304 (the vhd-bat limit)"}},
		{name: "BAT claiming 10^9 entries, limit raised", patch: func(b []byte) {
			vhdHeaderPatch(func(h []byte) { putBE32(h[28:], 1e9) })(b)
			vhdFooterPatch(func(f []byte) { binary.BigEndian.PutUint64(f[48:], 1e9*2<<20) })(b)
		}, limits: image.Limits{VHDBATEntries: 1 << 30}, sentinel: image.ErrTruncated, words: []string{"BAT at 0x600 (0xee6b2800 bytes) runs past end of file"}},
		{name: "BAT too small for the disk", patch: vhdHeaderPatch(func(h []byte) { putBE32(h[28:], 2) }),
			sentinel: image.ErrFormat, words: []string{"BAT of 2 entries is too small"}},
		{name: "block size 3 MiB", patch: vhdHeaderPatch(func(h []byte) { putBE32(h[32:], 3<<20) }),
			sentinel: image.ErrFormat, words: []string{"block size 3145728"}},
		{name: "overlapping blocks", patch: func(b []byte) { copy(vhdBAT(b)[4:8], vhdBAT(b)[:4]) },
			sentinel: image.ErrFormat, words: []string{"overlaps block 0"}},
		{name: "block on the BAT", patch: func(b []byte) { putBE32(vhdBAT(b), 3) },
			sentinel: image.ErrFormat, words: []string{"block 0 at file offset 0x600 overlaps BAT"}},
		{name: "unknown disk type", patch: vhdFooterPatch(func(f []byte) { putBE32(f[60:], 5) }),
			sentinel: image.ErrUnsupported, words: []string{"disk type 5"}},
		{name: "fixed type in a dynamic file", patch: vhdFooterPatch(func(f []byte) { putBE32(f[60:], 2) }),
			sentinel: image.ErrFormat, words: []string{"does not fill the file"}},
		{name: "differencing disk", patch: func(b []byte) {
			vhdFooterPatch(func(f []byte) { putBE32(f[60:], 4) })(b)
			vhdHeaderPatch(func(h []byte) {
				for i, c := range utf16.Encode([]rune("base\n.vhd")) {
					binary.BigEndian.PutUint16(h[64+2*i:], c)
				}
			})(b)
		}, sentinel: image.ErrUnsupported, words: []string{`differencing disk with parent "base\n.vhd"`}},
		// qemu-img rounds the 8 MiB up to CHS geometry: 5 blocks.
		{name: "BAT limit one under", limits: image.Limits{VHDBATEntries: 4},
			sentinel: image.ErrUnsupported, words: []string{"BAT of 5 entries is over 4 (the vhd-bat limit)"}},
		{name: "BAT limit met", limits: image.Limits{VHDBATEntries: 5}},
	}
	ref := qemuRawAs(t, path, "vpc")
	runPatchCases(t, image.VHD, path, ref, tests)
}

// TestVHDTruncated cuts the small VHD short of its last block: it opens
// from the footer copy at 0, says how far its BAT reaches, and fails only
// reads of the cut block.
func TestVHDTruncated(t *testing.T) {
	path := smallVHD(t)
	b := mustRead(t, path)
	must := fixtures.MustHostile(t)
	_, _, err := image.OpenByTable(must(fixtures.Truncated(path, 300)))
	wantFormatError(t, err, image.VHD, image.ErrTruncated, "footer")

	cut := must(fixtures.Truncated(path, int64(len(b))-4096))
	img, referenced, err := image.OpenByTable(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if referenced != int64(len(b))-512 {
		t.Errorf("Referenced = %d; want the end of the last block, %d", referenced, len(b)-512)
	}
	last, lastAt := 0, uint32(0)
	for k := range int((img.Size() + 2<<20 - 1) >> 21) {
		if s := be32(vhdBAT(b)[4*k:]); s != 0xFFFFFFFF && s > lastAt {
			last, lastAt = k, s
		}
	}
	buf := make([]byte, 4096)
	_, err = img.ReadAt(buf, int64(last+1)<<21-4096)
	wantFormatError(t, err, image.VHD, image.ErrTruncated, "runs past end of file")
}

// TestVHDFixedFooterProbe checks that only a whole, valid fixed footer
// makes a file a VHD: a raw disk ending in "conectix" with a bad
// checksum, or a valid footer whose size does not match the file, stays
// raw (no table format matches it), and a valid one opens as fixed.
func TestVHDFixedFooterProbe(t *testing.T) {
	footer := func(size uint64, typ uint32, fix bool) []byte {
		disk := bytes.Repeat([]byte("raw disk"), 1<<17) // 1 MiB
		f := make([]byte, 512)
		copy(f, "conectix")
		binary.BigEndian.PutUint64(f[48:], size)
		putBE32(f[60:], typ)
		if fix {
			setVHDChecksum(f, 64)
		}
		return append(disk, f...)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		file []byte
		vhd  bool
	}{
		{"bad checksum", footer(1<<20, 2, false), false},
		{"dynamic type at the end only", footer(1<<20, 3, true), false},
		{"size off by a sector", footer(1<<20-512, 2, true), false},
		{"valid fixed footer", footer(1<<20, 2, true), true},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
		writeHost(t, p, tt.file)
		img, _, err := image.OpenByTable(p)
		if !tt.vhd {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s: opened as %v, %v; want no table format (raw)", tt.name, img, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := readAll(t, img)
		img.Close()
		if !bytes.Equal(got, tt.file[:1<<20]) {
			t.Errorf("%s: fixed VHD payload differs: %s", tt.name, firstDiff(got, tt.file[:1<<20]))
		}
	}
}

// TestVHDSizeFromFooter records where our virtual size and qemu-img's
// part. We take the footer's current size, as Hyper-V and the
// specification do. qemu-img takes the CHS geometry instead when the
// creator is Virtual PC ("vpc ") or old qemu ("qemu") and the geometry is
// not the maximum; qemu-img itself writes the two equal, so its own files
// agree. On a file whose geometry falls short of the current size, qemu
// reads a shorter disk, which is a prefix of ours.
func TestVHDSizeFromFooter(t *testing.T) {
	path := smallVHD(t)
	good := mustRead(t, path)
	current := int64(binary.BigEndian.Uint64(good[48:]))
	chs := func(f []byte) int64 {
		return int64(binary.BigEndian.Uint16(f[56:])) * int64(f[58]) * int64(f[59]) * 512
	}
	if chs(good) != current || string(good[28:32]) != "qemu" {
		t.Fatalf("qemu-img wrote creator %q, CHS size %d, current size %d; want \"qemu\" and equal sizes", good[28:32], chs(good), current)
	}
	shortCHS := func(creator string) func([]byte) {
		return vhdFooterPatch(func(f []byte) {
			copy(f[28:32], creator)
			binary.BigEndian.PutUint16(f[56:], binary.BigEndian.Uint16(f[56:])-8)
		})
	}
	for _, tt := range []struct {
		creator  string
		qemuSize func(f []byte) int64
	}{
		{"vpc ", chs},
		{"win ", func([]byte) int64 { return current }},
	} {
		p := fixtures.MustCorrupt(t, path, shortCHS(tt.creator))
		img, _, err := image.OpenByTable(p)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		if img.Size() != current {
			t.Errorf("creator %q: Size() = %d; want the current size %d", tt.creator, img.Size(), current)
		}
		ref := qemuRawAs(t, p, "vpc")
		want := mustRead(t, ref)
		if int64(len(want)) != tt.qemuSize(mustRead(t, p)) {
			t.Errorf("creator %q: qemu-img read %d bytes; this test expected %d", tt.creator, len(want), tt.qemuSize(mustRead(t, p)))
		}
		got := make([]byte, len(want))
		if _, err := img.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
			t.Errorf("creator %q: our first %d bytes differ from qemu-img's disk (%v): %s", tt.creator, len(want), err, firstDiff(got, want))
		}
	}
}
