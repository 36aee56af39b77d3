package image_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
