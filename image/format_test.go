package image_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

func TestFormatCompressed(t *testing.T) {
	for f, want := range map[image.Format]bool{
		image.Gzip: true, image.Bzip2: true, image.XZ: true, image.Zstd: true,
		image.Raw: false, image.QCOW2: false, image.VMDK: false, image.Format("nonsense"): false,
	} {
		if got := f.Compressed(); got != want {
			t.Errorf("%s.Compressed() = %v, want %v", f, got, want)
		}
	}
}

// TestQCOW2Layer checks the typed fields of qcow2 layers: the subformat,
// the compression type as codec, and Backing on a backing file's layer,
// while Detail keeps its display text.
func TestQCOW2Layer(t *testing.T) {
	raw := sampleRaw(t)
	for _, tt := range []struct {
		opts             fixtures.QCOW2Options
		subformat, codec string
	}{
		{fixtures.QCOW2Options{Version: "0.10"}, "v2", "zlib"},
		{fixtures.QCOW2Options{Compress: true}, "v3", "zlib"},
		{fixtures.QCOW2Options{Compress: true, CompressionType: "zstd"}, "v3", "zstd"},
	} {
		img, err := image.Open(fixtures.MustQCOW2(t, raw, tt.opts))
		if err != nil {
			t.Fatal(err)
		}
		l := img.Chain()[0]
		img.Close()
		if l.Format != image.QCOW2 || l.Subformat != tt.subformat || l.Codec != tt.codec || l.Backing {
			t.Errorf("%+v: layer %+v, want subformat %q codec %q, not backing", tt.opts, l, tt.subformat, tt.codec)
		}
	}

	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "base.raw"), fillWord("base"))
	qemuImg(t, dir, "convert", "-q", "-O", "qcow2", "base.raw", "base.qcow2")
	over := emptyOverlay(t, dir, "overlay.qcow2", "base.qcow2", "qcow2")
	img, err := image.Open(over, image.WithBacking(true))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	chain := img.Chain()
	if len(chain) != 3 || chain[0].Backing || !chain[1].Backing || chain[1].Subformat != "v3" || chain[2].Backing {
		t.Errorf("chain %+v: want the overlay, its backing file (Backing set), then raw", chain)
	}
	if chain[1].Detail != "backing file, qcow2 v3, zlib, cluster 64 KiB" {
		t.Errorf("backing Detail = %q", chain[1].Detail)
	}
}

// TestQCOW2Referenced checks that what qcow2 metadata references ends
// inside the last cluster of every intact image qemu-img writes, and past
// the end of the same image cut short.
func TestQCOW2Referenced(t *testing.T) {
	raw := sampleRaw(t)
	for _, o := range []fixtures.QCOW2Options{
		{Version: "0.10"},
		{},
		{Compress: true},
		{Compress: true, CompressionType: "zstd"},
		{ExtendedL2: true},
		{ClusterSize: 512},
		{ClusterSize: 2 << 20, Compress: true},
	} {
		q := fixtures.MustQCOW2(t, raw, o)
		size := int64(len(mustRead(t, q)))
		cluster := int64(64 << 10)
		if o.ClusterSize != 0 {
			cluster = int64(o.ClusterSize)
		}
		img, err := image.Open(q)
		if err != nil {
			t.Fatal(err)
		}
		ref := img.Referenced()
		img.Close()
		if ref > size || ref <= size-cluster {
			t.Errorf("%+v: Referenced = %d, want within the last cluster of the %d-byte file", o, ref, size)
		}

		cut := filepath.Join(t.TempDir(), "cut.qcow2")
		writeHost(t, cut, mustRead(t, q)[:size-2*cluster])
		img, err = image.Open(cut)
		if err != nil {
			t.Fatalf("%+v cut short: %v", o, err)
		}
		if ref := img.Referenced(); ref <= size-2*cluster {
			t.Errorf("%+v cut to %d bytes: Referenced = %d, want past the end", o, size-2*cluster, ref)
		}
		img.Close()
	}
}

func TestRawReferencedUnknown(t *testing.T) {
	p := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if got := img.Referenced(); got != -1 {
		t.Errorf("raw Referenced = %d, want -1", got)
	}
}

// TestOpenCountsAndCloses checks, for each kind of container, that Stats
// counts the reads of the file the disk is read from (the expanded file
// for a compressed upload, not the upload) and that Close closes
// everything once, without error.
func TestOpenCountsAndCloses(t *testing.T) {
	raw := sampleRaw(t)
	for name, path := range map[string]string{
		"raw":        raw,
		"qcow2":      fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{}),
		"gzip":       fixtures.MustGzip(t, raw, "gzip"),
		"gzip-qcow2": fixtures.MustGzip(t, fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{}), "gzip"),
	} {
		img, err := image.Open(path, image.WithTempDir(t.TempDir()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before := img.Stats()
		if _, err := img.ReadAt(make([]byte, 4096), 1024); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := img.Stats()
		if got := after.BytesRead - before.BytesRead; got < 4096 || got > 256<<10 || after.ReadCalls <= before.ReadCalls {
			t.Errorf("%s: a 4 KiB read counted %d bytes in %d calls", name, got, after.ReadCalls-before.ReadCalls)
		}
		if name == "raw" || name == "gzip" {
			if before != (image.ReadStats{}) || after != (image.ReadStats{BytesRead: 4096, ReadCalls: 1}) {
				t.Errorf("%s: stats %+v then %+v, want none then one read of 4096 bytes", name, before, after)
			}
		}
		if err := img.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	}
}
