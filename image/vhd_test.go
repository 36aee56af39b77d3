package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

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
// qemu-img probes a fixed VHD as raw.) path must be a fixtures.Convert
// result, in a directory of its own named after its content.
func qemuRawAs(t *testing.T, path, format string) string {
	t.Helper()
	out := filepath.Join(filepath.Dir(path), "qemu-raw-"+format+".raw")
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
					errs <- errors.New("concurrent read at " + string(rune('0'+g)) + " differs")
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
			sameAsFile(t, img, qemuRawAs(t, path, "vpc"))
		})
	}
}
