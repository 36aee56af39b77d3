package image_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// FuzzCompressedUpload opens mutated compressed uploads (gzip, bzip2, xz,
// zstd; a qcow2 or a raw disk inside; several streams; xz headers
// declaring a 4 GiB dictionary, a zstd frame a 2 TiB window) with a 1 MiB
// expansion cap: no panic, no hang, a failure is a *FormatError, and
// neither a failed Open nor Close leaves a temporary file behind.
func FuzzCompressedUpload(f *testing.F) {
	disk := bytes.Repeat([]byte("upload seed\x00\x01"), 1<<16/13+1)[:1<<16]
	raw := filepath.Join(f.TempDir(), "seed.raw")
	if err := os.WriteFile(raw, disk, 0o644); err != nil {
		f.Fatal(err)
	}
	seeds := []string{raw}
	if q, err := fixtures.QCOW2(f.TempDir(), raw, fixtures.QCOW2Options{ClusterSize: 4096}); err == nil {
		seeds = append(seeds, q)
	}
	for _, in := range seeds {
		for _, kind := range []string{"gzip", "bzip2", "xz", "zstd"} {
			if p, err := fixtures.Gzip(f.TempDir(), in, kind); err == nil {
				f.Add(mustRead(f, p))
				if twice, err := fixtures.Repeat(p, 2); err == nil {
					f.Add(mustRead(f, twice))
				}
			}
		}
	}
	if p, err := fixtures.Gzip(f.TempDir(), raw, "xz", "--block-size=16KiB", "--check=sha256"); err == nil {
		f.Add(mustRead(f, p))
		if big, err := fixtures.XZDictionary(p, 40); err == nil {
			f.Add(mustRead(f, big))
		}
	}
	if p, err := fixtures.Gzip(f.TempDir(), raw, "zstd", "--zstd=wlog=10"); err == nil {
		if big, err := fixtures.ZstdWindow(p, 41); err == nil {
			f.Add(mustRead(f, big))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "upload.img")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "tmp")
		if err := os.Mkdir(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		img, err := image.Open(p, image.WithMaxExpand(1<<20), image.WithTempDir(tmp))
		if err != nil {
			if _, ok := errors.AsType[*image.FormatError](err); !ok {
				t.Fatalf("error is not a *FormatError: %v", err)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("a failed Open left %d temporary files", len(left))
			}
			return
		}
		buf := make([]byte, 64<<10)
		for _, off := range []int64{0, img.Size() / 2, img.Size() - 1} {
			img.ReadAt(buf, max(off, 0))
		}
		if err := img.Close(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("Close left %d temporary files", len(left))
		}
	})
}
