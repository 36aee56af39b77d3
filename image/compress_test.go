package image_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// sparseRaw is a 16 MiB raw disk with data in three small places only.
func sparseRaw(t *testing.T) (string, []byte) {
	t.Helper()
	data := make([]byte, 16<<20)
	copy(data[0:], bytes.Repeat([]byte("boot sector "), 40))
	copy(data[9<<20+123:], bytes.Repeat([]byte("middle "), 5000))
	copy(data[len(data)-5000:], bytes.Repeat([]byte("tail"), 1250))
	p := filepath.Join(t.TempDir(), "sparse.raw")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// dirEntries lists dir's names.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// expandedBlocks finds the unlinked expansion file this process holds open
// in tmpDir and returns its allocated bytes.
func expandedBlocks(t *testing.T, tmpDir string) int64 {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		missing(t, err)
	}
	for _, fd := range fds {
		p := filepath.Join("/proc/self/fd", fd.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.HasPrefix(target, tmpDir+"/") || !strings.HasSuffix(target, " (deleted)") {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Blocks * 512
	}
	t.Fatalf("no unlinked expansion file from %s is open", tmpDir)
	return 0
}

func TestCompressedUploads(t *testing.T) {
	raw, want := sparseRaw(t)
	for _, kind := range []image.Format{image.Gzip, image.Bzip2, image.XZ, image.Zstd} {
		t.Run(string(kind), func(t *testing.T) {
			up := fixtures.MustGzip(t, raw, string(kind))
			tmp := t.TempDir()
			var mu sync.Mutex
			var last, total int64
			img, err := image.Open(up, image.WithTempDir(tmp), image.WithProgress(func(done, tot int64) {
				mu.Lock()
				defer mu.Unlock()
				last, total = done, tot
			}))
			if err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(up)
			if last != st.Size() || total != st.Size() {
				t.Errorf("last progress = %d of %d; want %d of %d", last, total, st.Size(), st.Size())
			}
			if names := dirEntries(t, tmp); len(names) != 0 {
				t.Errorf("temporary directory holds %v while the image is open; want the file unlinked", names)
			}
			if got := expandedBlocks(t, tmp); got > 1<<20 {
				t.Errorf("expanded file allocates %d bytes for 16 MiB holding 60 KiB; zero runs should be holes", got)
			}
			chain := img.Chain()
			if len(chain) != 2 || chain[0].Format != kind || chain[0].Path != up || chain[0].FileSize != st.Size() || chain[1].Format != image.Raw || chain[1].FileSize != int64(len(want)) {
				t.Errorf("Chain() = %+v", chain)
			}
			if img.Format() != kind || img.Allocated() != st.Size() {
				t.Errorf("Format, Allocated = %s, %d; want %s, %d", img.Format(), img.Allocated(), kind, st.Size())
			}
			if got := readAll(t, img); !bytes.Equal(got, want) {
				t.Errorf("expanded disk differs: %s", firstDiff(got, want))
			}
			if err := img.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCompressedQCOW2(t *testing.T) {
	raw := sampleRaw(t)
	q := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{Compress: true, CompressionType: "zstd"})
	up := fixtures.MustGzip(t, q, "gzip")
	img, err := image.Open(up, image.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var formats []string
	for _, l := range img.Chain() {
		formats = append(formats, string(l.Format))
	}
	if got := strings.Join(formats, " → "); got != "gzip → qcow2 → raw" {
		t.Errorf("chain = %s", got)
	}
	if want := mustRead(t, fixtures.MustQemuRaw(t, q)); !bytes.Equal(readAll(t, img), want) {
		t.Error("gzip → qcow2 reads differently from qemu-img's conversion")
	}
}

func TestCompressedFaults(t *testing.T) {
	raw, _ := sparseRaw(t)
	gz := fixtures.MustGzip(t, raw, "gzip")
	body := mustRead(t, gz)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(body)
	flipped[len(flipped)-6] ^= 0xff // in the CRC-32 of the gzip trailer
	double := fixtures.MustGzip(t, gz, "gzip")
	tests := []struct {
		name     string
		path     string
		opts     []image.Option
		sentinel error
		says     string
	}{
		{"limit", gz, []image.Option{image.WithMaxExpand(1 << 20)}, image.ErrUnsupported, "more than 1 MiB (the --max-expand limit)"},
		{"truncated-gzip", write("cut.gz", body[:len(body)/2]), nil, image.ErrTruncated, "ends early"},
		{"corrupt", write("flipped.gz", flipped), nil, image.ErrFormat, "corrupt compressed stream"},
		{"nested", double, nil, image.ErrUnsupported, "holds gzip"},
	}
	for _, kind := range []string{"bzip2", "xz", "zstd"} {
		b := mustRead(t, fixtures.MustGzip(t, raw, kind))
		tests = append(tests, struct {
			name     string
			path     string
			opts     []image.Option
			sentinel error
			says     string
		}{"truncated-" + kind, write("cut."+kind, b[:len(b)*2/3]), nil, image.ErrTruncated, "ends early"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			img, err := image.Open(tt.path, append(tt.opts, image.WithTempDir(tmp))...)
			if err == nil {
				img.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Open = %v; want %v saying %q", err, tt.sentinel, tt.says)
			}
			if names := dirEntries(t, tmp); len(names) != 0 {
				t.Errorf("failed expansion left %v behind", names)
			}
		})
	}
	if _, err := image.Open(gz, image.WithTempDir(filepath.Join(dir, "no-such-dir"))); err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Errorf("missing temporary directory: %v", err)
	}
}

// TestCompressedInterrupted kills a process in the middle of an expansion
// and checks that nothing is left in the temporary directory.
func TestCompressedInterrupted(t *testing.T) {
	if up := os.Getenv("IMGCHECK_EXPAND_HELPER"); up != "" {
		var once sync.Once
		image.Open(up, image.WithTempDir(os.Getenv("IMGCHECK_EXPAND_TMP")), image.WithProgress(func(done, total int64) {
			once.Do(func() { os.Stdout.WriteString("expanding\n") })
			time.Sleep(time.Hour)
		}))
		return
	}
	raw, _ := sparseRaw(t)
	up := fixtures.MustGzip(t, raw, "gzip")
	for _, sig := range []os.Signal{os.Interrupt, os.Kill} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCompressedInterrupted$")
			cmd.Env = append(os.Environ(), "IMGCHECK_EXPAND_HELPER="+up, "IMGCHECK_EXPAND_TMP="+tmp)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line != "expanding\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper said %q, %v", line, err)
			}
			if names := dirEntries(t, tmp); len(names) != 0 {
				t.Errorf("mid-expansion the temporary directory shows %v; want the file already unlinked", names)
			}
			cmd.Process.Signal(sig)
			if err := cmd.Wait(); err == nil {
				t.Error("helper exited cleanly; it should have been stopped mid-expansion")
			}
			if names := dirEntries(t, tmp); len(names) != 0 {
				t.Errorf("interrupted expansion left %v behind", names)
			}
		})
	}
}

// bomb is a compressed upload of copies streams (gzip members, bzip2 and
// xz streams, zstd frames) of 64 MiB of zeros each.
func bomb(t *testing.T, kind string, copies int) string {
	t.Helper()
	must := fixtures.MustHostile(t)
	return must(fixtures.Repeat(must(fixtures.ZeroStream(fixtures.CacheDir(), kind, 64<<20)), copies))
}

// TestCompressedBombs opens streams of zeros that expand far more than
// 1000 times: each is refused once past the first 256 MiB, naming the
// ratio and the limit to raise, instead of expanding for minutes (200 GiB
// of bzip2 zeros took 45 minutes). Raising expand-ratio lets the
// expansion go on, to --max-expand here.
func TestCompressedBombs(t *testing.T) {
	for _, tt := range []struct {
		kind   string
		copies int
		raise  bool // also open with the limit raised
	}{
		{"bzip2", 3200, false}, // 200 GiB from 253 KB, like the bomb
		{"gzip", 8, true},      // 512 MiB; gzip's ratio of zeros is 1030
		{"xz", 8, false},       // 512 MiB; xz's is 6900
		{"zstd", 3200, true},   // 200 GiB; zstd's is 32000
	} {
		t.Run(tt.kind, func(t *testing.T) {
			up := bomb(t, tt.kind, tt.copies)
			tmp := t.TempDir()
			img, err := image.Open(up, image.WithTempDir(tmp))
			if err == nil {
				img.Close()
				t.Fatal("opened")
			}
			fe, ok := errors.AsType[*image.FormatError](err)
			if !ok || !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), " upload expands to 256 MiB from ") ||
				!strings.Contains(err.Error(), "read, more than 1000 times over past the first 256 MiB (the expand-ratio limit; a decompression bomb? --limit expand-ratio=N raises it)") {
				t.Fatalf("Open = %v; want the expand-ratio limit", err)
			}
			if st, _ := os.Stat(up); fe.Offset <= 0 || fe.Offset > st.Size() || fe.Offset*1000 >= 256<<20 {
				t.Errorf("offset %d: want the compressed bytes read, under 256 KiB, in a file of %d", fe.Offset, st.Size())
			}
			if names := dirEntries(t, tmp); len(names) != 0 {
				t.Errorf("refused bomb left %v behind", names)
			}
			if !tt.raise {
				return
			}
			_, err = image.Open(up, image.WithTempDir(tmp), image.WithMaxExpand(300<<20), image.WithLimits(image.Limits{ExpandRatio: 1 << 30}))
			if err == nil || !strings.Contains(err.Error(), "more than 300 MiB (the --max-expand limit)") {
				t.Errorf("with expand-ratio raised: %v; want the --max-expand limit", err)
			}
		})
	}
}

// TestCompressedSparseDisk opens 512 MiB disks that begin with 200 MiB of
// zeros: one with 4 MiB of data after them expands about 250 times and
// opens; one with 128 KiB of data has expanded more than 1000 times its
// zstd input at 256 MiB and is refused unless the limit is raised. (gzip
// never expands more than 1032 times: only zeros reach its limit.)
func TestCompressedSparseDisk(t *testing.T) {
	dir := t.TempDir()
	disk := func(name string, data int) string {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		words := []byte("abcdefghijklmnopqrstuvwxyz ")
		text := make([]byte, data)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range text {
			text[i] = words[rng.IntN(len(words))] // compresses 1.7 times, as text does
		}
		if _, err := f.WriteAt(text, 200<<20); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(512 << 20); err != nil {
			t.Fatal(err)
		}
		return f.Name()
	}
	data, thin := disk("data.raw", 4<<20), disk("thin.raw", 128<<10)
	for _, kind := range []string{"gzip", "zstd"} {
		t.Run(kind, func(t *testing.T) {
			img, err := image.Open(fixtures.MustGzip(t, data, kind), image.WithTempDir(t.TempDir()))
			if err != nil {
				t.Fatalf("4 MiB of data in 512 MiB: %v", err)
			}
			if img.Size() != 512<<20 {
				t.Errorf("size %d", img.Size())
			}
			img.Close()
		})
	}
	thinUp := fixtures.MustGzip(t, thin, "zstd")
	if _, err := image.Open(thinUp, image.WithTempDir(t.TempDir())); !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "expand-ratio") {
		t.Errorf("128 KiB of data in 512 MiB: %v; want the expand-ratio limit", err)
	}
	img, err := image.Open(thinUp, image.WithTempDir(t.TempDir()), image.WithLimits(image.Limits{ExpandRatio: 100000}))
	if err != nil {
		t.Fatalf("with expand-ratio=100000: %v", err)
	}
	img.Close()
}

// TestCompressedCancel stops an endless expansion (200 GiB of bzip2 zeros,
// the ratio limit raised) through its context: the copy loop watches it.
func TestCompressedCancel(t *testing.T) {
	up := bomb(t, "bzip2", 3200)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tmp := t.TempDir()
	var once sync.Once
	_, err := image.Open(up, image.WithTempDir(tmp), image.WithContext(ctx), image.WithLimits(image.Limits{ExpandRatio: 1 << 30}),
		image.WithProgress(func(done, total int64) { once.Do(cancel) }))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "expanding bzip2 upload stopped after ") {
		t.Fatalf("Open = %v; want it stopped by the context", err)
	}
	if names := dirEntries(t, tmp); len(names) != 0 {
		t.Errorf("cancelled expansion left %v behind", names)
	}
}

// TestCompressedDecoderMemory opens uploads whose headers declare the
// decoder's memory: an xz LZMA2 dictionary and a zstd window. Up to the
// limits (xz -9's 64 MiB, zstd --long=27's 128 MiB) they open; over them,
// up to xz's 4 GiB, they are refused before anything is allocated, naming
// the limit and how to raise it; raised, they open.
func TestCompressedDecoderMemory(t *testing.T) {
	must := fixtures.MustHostile(t)
	raw, want := sparseRaw(t)
	xzUp, zstdUp := fixtures.MustGzip(t, raw, "xz"), fixtures.MustGzip(t, raw, "zstd", "-1")
	for _, tt := range []struct {
		name  string
		path  string
		raise image.Limits
		says  string // "" when it opens
	}{
		{"xz 64 MiB", must(fixtures.XZDictionary(xzUp, 28)), image.Limits{}, ""},
		{"xz 96 MiB", must(fixtures.XZDictionary(xzUp, 29)), image.Limits{XZDictionary: 96 << 20},
			"xz block at 0xc declares a 96 MiB dictionary, over the xz-dictionary limit of 64 MiB; --limit xz-dictionary=SIZE raises it"},
		{"xz 4 GiB", must(fixtures.XZDictionary(xzUp, 40)), image.Limits{XZDictionary: 1<<32 - 1},
			"declares a 4.0 GiB dictionary, over the xz-dictionary limit of 64 MiB"},
		{"zstd 128 MiB", must(fixtures.ZstdWindow(zstdUp, 27)), image.Limits{}, ""},
		{"zstd 256 MiB", must(fixtures.ZstdWindow(zstdUp, 28)), image.Limits{ZstdWindow: 256 << 20},
			"zstd: a frame declares a window over the zstd-window limit of 128 MiB; --limit zstd-window=SIZE raises it"},
		{"zstd 2 TiB", must(fixtures.ZstdWindow(zstdUp, 41)), image.Limits{}, "over the zstd-window limit of 128 MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			img, err := image.Open(tt.path, image.WithTempDir(t.TempDir()))
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := readAll(t, img); !bytes.Equal(got, want) {
					t.Errorf("expanded disk differs: %s", firstDiff(got, want))
				}
				img.Close()
				return
			}
			if err == nil {
				img.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Open = %v; want ErrUnsupported saying %q", err, tt.says)
			}
			if tt.raise == (image.Limits{}) {
				return
			}
			img, err = image.Open(tt.path, image.WithTempDir(t.TempDir()), image.WithLimits(tt.raise))
			if err != nil {
				t.Fatalf("with the limit raised: %v", err)
			}
			img.Close()
		})
	}
}

// TestCompressedXZStructure opens xz uploads the dictionary guard must
// walk: many blocks (with and without sizes in their headers), several
// streams with padding between them, and every check type.
func TestCompressedXZStructure(t *testing.T) {
	raw, want := sparseRaw(t)
	for _, flags := range [][]string{
		{"--block-size=1MiB", "-T1"}, {"--block-size=1MiB", "-T2"}, {"--check=none"}, {"--check=crc32"}, {"--check=sha256"}, {"-9e"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			up := fixtures.MustGzip(t, raw, "xz", flags...)
			img, err := image.Open(up, image.WithTempDir(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if got := readAll(t, img); !bytes.Equal(got, want) {
				t.Errorf("expanded disk differs: %s", firstDiff(got, want))
			}
		})
	}
	t.Run("streams and padding", func(t *testing.T) {
		half := len(want) / 2
		p := filepath.Join(t.TempDir(), "two.raw.xz")
		first, second := xzOf(t, want[:half]), xzOf(t, want[half:])
		if err := os.WriteFile(p, slices.Concat(first, make([]byte, 8), second), 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := image.Open(p, image.WithTempDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		if got := readAll(t, img); !bytes.Equal(got, want) {
			t.Errorf("expanded disk differs: %s", firstDiff(got, want))
		}
	})
}

// xzOf compresses b with the xz tool.
func xzOf(t *testing.T, b []byte) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return mustRead(t, fixtures.MustGzip(t, p, "xz"))
}
