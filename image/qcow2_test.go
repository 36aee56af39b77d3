package image_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// sampleTree is a small guest whose files are partly compressible text,
// partly incompressible noise, so that qcow2 clusters of every kind
// (compressed, stored, unallocated) occur.
func sampleTree() fstest.MapFS {
	rng := rand.New(rand.NewChaCha8([32]byte{'i', 'm', 'g'}))
	noise := make([]byte, 1<<20)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	text := strings.Repeat("PermitRootLogin prohibit-password\n", 20000)
	return fstest.MapFS{
		"etc/os-release":       fixtures.File("NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n", 0o644),
		"etc/ssh/sshd_config":  fixtures.File(text, 0o644),
		"var/lib/noise.bin":    {Data: noise, Mode: 0o644},
		"var/log/syslog":       fixtures.File(strings.Repeat("kernel: booted\n", 5000), 0o640),
		"home/alice/.bashrc":   fixtures.Owned("alias ll='ls -l'\n", 0o644, 1000, 1000),
		"usr/share/doc/README": fixtures.File(text[:70000], 0o644),
	}
}

// sampleRaw is sampleTree as an 8 MiB ext4 image.
func sampleRaw(t testing.TB) string {
	return fixtures.MustExt4(t, sampleTree(), fixtures.Ext4Options{Size: 8 << 20})
}

// readAll reads the whole virtual disk of img in chunks of an odd size,
// so that reads straddle cluster boundaries.
func readAll(t testing.TB, img *image.Image) []byte {
	t.Helper()
	out := make([]byte, img.Size())
	const chunk = 7919
	for off := int64(0); off < img.Size(); off += chunk {
		end := min(off+chunk, img.Size())
		if n, err := img.ReadAt(out[off:end], off); err != nil || int64(n) != end-off {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", end-off, off, n, err)
		}
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstDiff describes where two disks differ, for failure messages.
func firstDiff(a, b []byte) string {
	if len(a) != len(b) {
		return fmt.Sprintf("sizes %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at byte 0x%x", i)
		}
	}
	return "no difference"
}

func TestQCOW2VariantsMatchQemuImg(t *testing.T) {
	raw := sampleRaw(t)
	tests := []struct {
		name   string
		opts   fixtures.QCOW2Options
		detail string
	}{
		{"v2", fixtures.QCOW2Options{Version: "0.10"}, "qcow2 v2, zlib, cluster 64 KiB"},
		{"v2-zlib", fixtures.QCOW2Options{Version: "0.10", Compress: true}, "qcow2 v2, zlib, cluster 64 KiB"},
		{"v3", fixtures.QCOW2Options{}, "qcow2 v3, zlib, cluster 64 KiB"},
		{"v3-zlib", fixtures.QCOW2Options{Compress: true}, "qcow2 v3, zlib, cluster 64 KiB"},
		{"v3-zstd", fixtures.QCOW2Options{Compress: true, CompressionType: "zstd"}, "qcow2 v3, zstd, cluster 64 KiB"},
		{"extended-l2", fixtures.QCOW2Options{ExtendedL2: true}, "qcow2 v3, zlib, cluster 64 KiB, extended L2"},
		{"extended-l2-zstd-16k", fixtures.QCOW2Options{ExtendedL2: true, Compress: true, CompressionType: "zstd", ClusterSize: 16 << 10}, "qcow2 v3, zstd, cluster 16 KiB, extended L2"},
		{"cluster-512", fixtures.QCOW2Options{ClusterSize: 512}, "qcow2 v3, zlib, cluster 512 bytes"},
		{"cluster-4k", fixtures.QCOW2Options{ClusterSize: 4 << 10}, "qcow2 v3, zlib, cluster 4 KiB"},
		{"cluster-4k-zlib", fixtures.QCOW2Options{ClusterSize: 4 << 10, Compress: true}, "qcow2 v3, zlib, cluster 4 KiB"},
		{"cluster-2m", fixtures.QCOW2Options{ClusterSize: 2 << 20}, "qcow2 v3, zlib, cluster 2 MiB"},
		{"cluster-2m-zstd", fixtures.QCOW2Options{ClusterSize: 2 << 20, Compress: true, CompressionType: "zstd"}, "qcow2 v3, zstd, cluster 2 MiB"},
		{"cluster-2m-zlib-v2", fixtures.QCOW2Options{Version: "0.10", ClusterSize: 2 << 20, Compress: true}, "qcow2 v2, zlib, cluster 2 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := fixtures.MustQCOW2(t, raw, tt.opts)
			want := mustRead(t, fixtures.MustQemuRaw(t, q))
			img, err := image.Open(q)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Format() != image.QCOW2 || img.Size() != int64(len(want)) {
				t.Fatalf("Format, Size = %s, %d; want qcow2, %d", img.Format(), img.Size(), len(want))
			}
			chain := img.Chain()
			if len(chain) != 2 || chain[0].Detail != tt.detail || chain[0].Path != q || chain[1].Format != image.Raw {
				t.Errorf("Chain() = %+v; want [%q at %s, raw]", chain, tt.detail, q)
			}
			if got := readAll(t, img); !bytes.Equal(got, want) {
				t.Fatalf("virtual disk differs from qemu-img convert -O raw: %s", firstDiff(got, want))
			}
			// Whole, in one read: runs of clusters read at once.
			if whole, err := image.Open(q); err != nil {
				t.Fatal(err)
			} else {
				got := make([]byte, whole.Size())
				if _, err := whole.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("virtual disk read in one call: %v, or differs from qemu-img convert -O raw: %s", err, firstDiff(got, want))
				}
				whole.Close()
			}
			st, _ := os.Stat(q)
			if img.Allocated() != st.Size() {
				t.Errorf("Allocated() = %d, want the file size %d", img.Allocated(), st.Size())
			}
		})
	}
}

func TestQCOW2ConcurrentReads(t *testing.T) {
	raw := sampleRaw(t)
	q := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{Compress: true, ClusterSize: 16 << 10})
	want := mustRead(t, raw)
	img, err := image.Open(q)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			buf := make([]byte, 20000)
			for range 200 {
				off := rng.Int64N(img.Size() - int64(len(buf)))
				if _, err := img.ReadAt(buf, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf, want[off:off+int64(len(buf))]) {
					errs <- fmt.Errorf("goroutine %d: read at %d differs", g, off)
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

func TestQCOW2ReadPastEnd(t *testing.T) {
	q := fixtures.MustQCOW2(t, sampleRaw(t), fixtures.QCOW2Options{})
	img, err := image.Open(q)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	buf := make([]byte, 100)
	n, err := img.ReadAt(buf, img.Size()-10)
	if n != 10 || !errors.Is(err, image.ErrTruncated) {
		t.Errorf("ReadAt across the end = %d, %v; want 10, ErrTruncated", n, err)
	}
	if _, err := io.ReadFull(io.NewSectionReader(img, img.Size()-10, 10), buf[:10]); err != nil {
		t.Errorf("reading the last 10 bytes: %v", err)
	}
}

func TestQCOW2LargeSparseSampled(t *testing.T) {
	const size = 3<<30 + 3584 // several L2 tables, a partial last cluster
	islands := []int64{0, 1<<20 - 7, 512<<20 - 100, 1<<31 + 4096, 3 << 30, size - 3000}
	src := filepath.Join(t.TempDir(), "sparse.raw")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	for i, off := range islands {
		island := bytes.Repeat([]byte(fmt.Sprintf("island %d at %#x. ", i, off)), 200)
		if _, err := f.WriteAt(island[:min(int64(len(island)), size-off)], off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, o := range []fixtures.QCOW2Options{{}, {Compress: true, CompressionType: "zstd"}, {ClusterSize: 2 << 20, Compress: true}} {
		t.Run(fmt.Sprintf("cluster%d-%s-compressed=%v", o.ClusterSize, o.CompressionType, o.Compress), func(t *testing.T) {
			scratch := t.TempDir()
			q, err := fixtures.QCOW2(scratch, src, o)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := fixtures.QemuRaw(scratch, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.Open(ref)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			img, err := image.Open(q)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Size() != size {
				t.Fatalf("Size() = %d, want %d", img.Size(), size)
			}
			var samples []int64
			for _, off := range islands {
				samples = append(samples, max(off-50000, 0), off, min(off+70000, size-1))
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for range 40 {
				samples = append(samples, rng.Int64N(size))
			}
			got, exp := make([]byte, 150000), make([]byte, 150000)
			for _, off := range samples {
				n := min(int64(len(got)), size-off)
				if _, err := img.ReadAt(got[:n], off); err != nil {
					t.Fatalf("ReadAt(%d at %#x): %v", n, off, err)
				}
				if _, err := want.ReadAt(exp[:n], off); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got[:n], exp[:n]) {
					t.Fatalf("%d bytes at %#x differ from qemu-img: %s", n, off, firstDiff(got[:n], exp[:n]))
				}
			}
		})
	}
}

// TestQCOW2ClusterCache reads the first 256 KiB twice in 4 KiB pieces:
// the second pass must come from the cluster cache, not the host file
// (a compressed cluster is inflated once, not once per read).
func TestQCOW2ClusterCache(t *testing.T) {
	raw := sampleRaw(t)
	for _, o := range []fixtures.QCOW2Options{{}, {Compress: true}, {Compress: true, CompressionType: "zstd", ExtendedL2: true}} {
		img, err := image.Open(fixtures.MustQCOW2(t, raw, o))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		pass := func() image.ReadStats {
			before := img.Stats()
			for off := int64(0); off < 256<<10; off += 4096 {
				if _, err := img.ReadAt(buf, off); err != nil {
					t.Fatal(err)
				}
			}
			after := img.Stats()
			return image.ReadStats{BytesRead: after.BytesRead - before.BytesRead, ReadCalls: after.ReadCalls - before.ReadCalls}
		}
		first, second := pass(), pass()
		if first.ReadCalls == 0 || second.ReadCalls != 0 {
			t.Errorf("%+v: host reads %+v then %+v; want some, then none", o, first, second)
		}
		img.Close()
	}
}

// TestQCOW2ReadsRunsAtOnce reads 2 MiB stored in 32 clusters that follow
// each other in the file with one read: the host file is read in three
// calls (the L2 entries, then two runs of 1 MiB side by side), not a call
// a cluster; compressed, the same read still gives the same bytes.
func TestQCOW2ReadsRunsAtOnce(t *testing.T) {
	data := []byte(strings.Repeat("stored, not compressed ", 2<<20/23+1)[:2<<20])
	raw := filepath.Join(t.TempDir(), "data.raw")
	if err := os.WriteFile(raw, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range []fixtures.QCOW2Options{{}, {Compress: true}} {
		img, err := image.Open(fixtures.MustQCOW2(t, raw, o))
		if err != nil {
			t.Fatal(err)
		}
		before := img.Stats()
		got := make([]byte, len(data))
		if _, err := img.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%+v: read %v, or wrong data", o, err)
		}
		calls := img.Stats().ReadCalls - before.ReadCalls
		if !o.Compress && calls > 3 {
			t.Errorf("2 MiB of stored clusters took %d reads of the host file, want 3", calls)
		}
		img.Close()
	}
}

// TestQCOW2InternalSnapshot reads the active state of an image that has
// an internal snapshot taken before later writes, as qemu-img does.
func TestQCOW2InternalSnapshot(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "snap.qcow2")
	if err := os.WriteFile(q, mustRead(t, fixtures.MustQCOW2(t, sampleRaw(t), fixtures.QCOW2Options{Compress: true})), 0o644); err != nil {
		t.Fatal(err)
	}
	qemuImg(t, dir, "snapshot", "-c", "before", "snap.qcow2")
	qemuIO, err := fixtures.Tool("qemu-io")
	if err != nil {
		missing(t, err)
	}
	if out, err := exec.Command(qemuIO, "-c", "write -P 0xab 65536 131072", q).CombinedOutput(); err != nil {
		t.Fatalf("qemu-io: %v: %s", err, out)
	}
	ref, err := fixtures.QemuRaw(dir, q)
	if err != nil {
		t.Fatal(err)
	}
	want := mustRead(t, ref)
	if !bytes.Equal(want[65536:65536+131072], bytes.Repeat([]byte{0xab}, 131072)) {
		t.Fatal("qemu-io's write is not in qemu-img's conversion")
	}
	img, err := image.Open(q)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if got := readAll(t, img); !bytes.Equal(got, want) {
		t.Errorf("active state differs from qemu-img: %s", firstDiff(got, want))
	}
}
