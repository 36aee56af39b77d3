package image_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/image/remote"
)

// remoteSample is a small guest as an 8 MiB ext4 image: compressible
// text and incompressible noise, so qcow2 clusters of every kind occur.
func remoteSample(t testing.TB) string {
	rng := rand.New(rand.NewChaCha8([32]byte{'r', 'e', 'm'}))
	noise := make([]byte, 1<<20)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	return fixtures.MustExt4(t, fstest.MapFS{
		"etc/os-release":      fixtures.File("NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n", 0o644),
		"etc/ssh/sshd_config": fixtures.File(strings.Repeat("PermitRootLogin prohibit-password\n", 20000), 0o644),
		"var/lib/noise.bin":   {Data: noise, Mode: 0o644},
	}, fixtures.Ext4Options{Size: 8 << 20})
}

// serveFile serves the file at path over loopback HTTP with
// http.ServeContent (Range, ETag, If-Match) and returns its URL and a
// counter of the body bytes sent.
func serveFile(t testing.TB, path string) (string, *atomic.Int64) {
	t.Helper()
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", `"fixture"`)
		http.ServeContent(sentCounter{w, &sent}, r, filepath.Base(path), st.ModTime(), f)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(path), &sent
}

type sentCounter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w sentCounter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

// openRemote opens the image at url with OpenReader over a remote.Object.
func openRemote(t testing.TB, url string) (*image.Image, *remote.Object, error) {
	t.Helper()
	obj, err := remote.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("remote.Open: %v", err)
	}
	img, err := image.OpenReader(obj, obj.Size(), obj.Name())
	if err != nil {
		obj.Close()
		return nil, obj, err
	}
	return img, obj, nil
}

// TestOpenReaderOverHTTP reads raw and qcow2 images (plain, compressed
// clusters, zstd, small clusters) over HTTP and compares every byte of the
// virtual disk with the same image opened locally.
func TestOpenReaderOverHTTP(t *testing.T) {
	raw := remoteSample(t)
	for _, tc := range []struct {
		name   string
		path   string
		format image.Format
	}{
		{"raw", raw, image.Raw},
		{"qcow2", fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{}), image.QCOW2},
		{"qcow2 compressed", fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{Compress: true}), image.QCOW2},
		{"qcow2 zstd 4k clusters", fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{Compress: true, CompressionType: "zstd", ClusterSize: 4096}), image.QCOW2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, sent := serveFile(t, tc.path)
			img, obj, err := openRemote(t, url)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			local, err := image.Open(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer local.Close()
			if img.Format() != tc.format || img.Size() != local.Size() {
				t.Fatalf("format %s size %d, want %s size %d", img.Format(), img.Size(), tc.format, local.Size())
			}
			if ch := img.Chain(); ch[0].Path != url || ch[0].FileSize != obj.Size() {
				t.Errorf("chain %+v does not name the URL and object size", ch)
			}
			if got, want := readAll(t, img), readAll(t, local); !bytes.Equal(got, want) {
				t.Fatalf("virtual disks differ: %s", firstDiff(got, want))
			}
			st := obj.Stats()
			if st.Bytes != sent.Load() || st.Bytes < st.Size {
				t.Errorf("stats %+v; server sent %d bytes", st, sent.Load())
			}
			if is := img.Stats(); is.BytesRead == 0 {
				t.Error("Image.Stats counted no reads")
			}
			img.Close()
			if _, err := obj.ReadAt(make([]byte, 1), obj.Size()-1-3<<20); err == nil {
				t.Error("the object can still be read after the Image is closed")
			}
		})
	}
}

// TestOpenReaderRefusesCompressed checks that a compressed upload is
// refused by name, after reading only its first and last blocks, and
// that OpenStream reads the same upload whole.
func TestOpenReaderRefusesCompressed(t *testing.T) {
	raw := remoteSample(t)
	for _, kind := range []string{"gzip", "xz", "zstd", "bzip2"} {
		t.Run(kind, func(t *testing.T) {
			path := fixtures.MustGzip(t, raw, kind)
			url, _ := serveFile(t, path)
			_, obj, err := openRemote(t, url)
			fe, ok := errors.AsType[*image.FormatError](err)
			if !errors.Is(err, image.ErrStreamOnly) || !ok || fe.Format != kind {
				t.Fatalf("OpenReader: %v, want a %s FormatError wrapping ErrStreamOnly", err, kind)
			}
			// The opening's probes: the first 512 KiB and the last 128 KiB.
			if st := obj.Stats(); st.Bytes > 640<<10 {
				t.Errorf("refusal fetched %d bytes, want at most the opening's 640 KiB", st.Bytes)
			}
			obj2, err := remote.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer obj2.Close()
			var calls int
			img, err := image.OpenStream(obj2.Stream(), obj2.Size(), obj2.Name(), image.WithTempDir(t.TempDir()), image.WithProgress(func(done, total int64) { calls++ }))
			if err != nil {
				t.Fatalf("OpenStream: %v", err)
			}
			defer img.Close()
			if img.Format() != image.Format(kind) || calls == 0 {
				t.Errorf("format %s, %d progress calls", img.Format(), calls)
			}
			if got, want := readAll(t, img), mustRead(t, raw); !bytes.Equal(got, want) {
				t.Fatalf("downloaded disk differs: %s", firstDiff(got, want))
			}
		})
	}
}

// TestOpenStreamLimitAndTruncation checks the size limit and a stream
// that ends before the size it announced.
func TestOpenStreamLimitAndTruncation(t *testing.T) {
	data := mustRead(t, remoteSample(t))
	_, err := image.OpenStream(bytes.NewReader(data), int64(len(data)), "https://host/x.img", image.WithTempDir(t.TempDir()), image.WithMaxExpand(1<<20))
	if !errors.Is(err, image.ErrUnsupported) {
		t.Errorf("over the limit: %v, want ErrUnsupported", err)
	}
	_, err = image.OpenStream(bytes.NewReader(data[:1<<20]), int64(len(data)), "https://host/x.img", image.WithTempDir(t.TempDir()))
	if !errors.Is(err, image.ErrTruncated) {
		t.Errorf("short stream: %v, want ErrTruncated", err)
	}
	dir := t.TempDir()
	img, err := image.OpenStream(bytes.NewReader(data), -1, "https://host/x.img", image.WithTempDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left in place: %v", left)
	}
	if img.Size() != int64(len(data)) {
		t.Errorf("size %d, want %d", img.Size(), len(data))
	}
}

// TestOpenReaderRefusesBacking serves a qcow2 image that names a backing
// file: it is refused, with or without the file beside it.
func TestOpenReaderRefusesBacking(t *testing.T) {
	raw := remoteSample(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "base.raw")
	if err := os.Symlink(raw, base); err != nil {
		t.Fatal(err)
	}
	top := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{Backing: base})
	url, _ := serveFile(t, top)
	_, _, err := openRemote(t, url)
	if !errors.Is(err, image.ErrUnsupported) {
		t.Fatalf("OpenReader: %v, want ErrUnsupported", err)
	}
}
