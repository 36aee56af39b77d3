package image_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

const backingSize = 1 << 20

// qemuImg runs qemu-img in dir and fails t if it fails.
func qemuImg(t *testing.T, dir string, args ...string) {
	t.Helper()
	if err := runQemuImg(t, dir, args...); err != nil {
		t.Fatal(err)
	}
}

// runQemuImg runs qemu-img in dir; it skips t if qemu-img is missing,
// except under CI=true.
func runQemuImg(t *testing.T, dir string, args ...string) error {
	t.Helper()
	bin, err := fixtures.Tool("qemu-img")
	if err != nil {
		missing(t, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// missing skips t for a tool or kernel feature the host lacks, except
// under CI=true, where that fails t.
func missing(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
}

// fillWord is backingSize bytes of a repeated word.
func fillWord(word string) []byte {
	return bytes.Repeat([]byte(word), backingSize/len(word)+1)[:backingSize]
}

func writeHost(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// emptyOverlay makes dir/name, an overlay with no data of its own naming
// backing (in format) without checking that it exists.
func emptyOverlay(t *testing.T, dir, name, backing, format string) string {
	t.Helper()
	qemuImg(t, dir, "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", format, name, fmt.Sprint(backingSize))
	return filepath.Join(dir, name)
}

func TestQCOW2BackingRefusedByDefault(t *testing.T) {
	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "base.qcow2.raw"), fillWord("base"))
	qemuImg(t, dir, "convert", "-q", "-O", "qcow2", "base.qcow2.raw", "base.qcow2")
	over := emptyOverlay(t, dir, "overlay.qcow2", "base.qcow2", "qcow2")
	_, err := image.Open(over)
	fe, ok := errors.AsType[*image.FormatError](err)
	if !ok || !errors.Is(err, image.ErrUnsupported) {
		t.Fatalf("Open(overlay) = %v; want an ErrUnsupported FormatError", err)
	}
	if want := `has backing file "base.qcow2"; pass --allow-backing to read it`; fe.Reason != want {
		t.Errorf("Reason = %q, want %q", fe.Reason, want)
	}
	img, err := image.Open(over, image.WithBacking(false))
	if err == nil {
		img.Close()
		t.Error("WithBacking(false) read the backing file")
	}
}

func TestQCOW2BackingChainMatchesQemuImg(t *testing.T) {
	dir := t.TempDir()
	base := fillWord("base")
	mid := bytes.Clone(base)
	copy(mid[70000:], bytes.Repeat([]byte("mid!"), 40000))
	top := bytes.Clone(mid)
	copy(top[500000:], bytes.Repeat([]byte("top."), 3000))
	copy(top[backingSize-100:], "end of the top layer")
	writeHost(t, filepath.Join(dir, "src", "base.raw"), base)
	writeHost(t, filepath.Join(dir, "src", "mid.raw"), mid)
	writeHost(t, filepath.Join(dir, "src", "top.raw"), top)
	writeHost(t, filepath.Join(dir, "base.raw"), base)

	midQ, err := fixtures.QCOW2(dir, filepath.Join(dir, "src", "mid.raw"), fixtures.QCOW2Options{Backing: filepath.Join(dir, "base.raw"), Compress: true, CompressionType: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	topQ, err := fixtures.QCOW2(dir, filepath.Join(dir, "src", "top.raw"), fixtures.QCOW2Options{Backing: midQ, ClusterSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := fixtures.QemuRaw(t.TempDir(), topQ)
	if err != nil {
		t.Fatal(err)
	}
	want := mustRead(t, ref)
	if !bytes.Equal(want, top) {
		t.Fatalf("qemu-img does not read the chain back as its source: %s", firstDiff(want, top))
	}
	img, err := image.Open(topQ, image.WithBacking(true))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if got := readAll(t, img); !bytes.Equal(got, want) {
		t.Fatalf("chain differs from qemu-img convert -O raw: %s", firstDiff(got, want))
	}
	var formats []string
	for _, l := range img.Chain() {
		formats = append(formats, string(l.Format)+":"+filepath.Base(l.Path))
	}
	wantChain := fmt.Sprintf("qcow2:%s qcow2:%s raw:base.raw", filepath.Base(topQ), filepath.Base(midQ))
	if got := strings.Join(formats, " "); got != wantChain {
		t.Errorf("Chain() = %s, want %s", got, wantChain)
	}
}

func TestQCOW2BackingInsideDirectory(t *testing.T) {
	dir := t.TempDir()
	base := fillWord("inside")
	writeHost(t, filepath.Join(dir, "disks", "base.raw"), base)
	if err := os.Symlink("disks/base.raw", filepath.Join(dir, "alias.raw")); err != nil {
		t.Fatal(err)
	}
	writeHost(t, filepath.Join(dir, "q", "src.raw"), base)
	qemuImg(t, dir, "convert", "-q", "-O", "qcow2", "q/src.raw", "disks/base.qcow2")
	for _, tt := range []struct{ name, backing, format string }{
		{"subdirectory", "disks/base.raw", "raw"},
		{"symlink-inside", "alias.raw", "raw"},
		{"dotdot-inside", "disks/../disks/base.raw", "raw"},
		// The header says raw; the magic says qcow2, and wins.
		{"format-from-magic", "disks/base.qcow2", "raw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			over := emptyOverlay(t, dir, tt.name+".qcow2", tt.backing, tt.format)
			img, err := image.Open(over, image.WithBacking(true))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if got := readAll(t, img); !bytes.Equal(got, base) {
				t.Errorf("overlay over %s reads wrong: %s", tt.backing, firstDiff(got, base))
			}
		})
	}
}

func TestQCOW2BackingConfined(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "images")
	outside := filepath.Join(root, "outside")
	secret := filepath.Join(outside, "secret.raw")
	writeHost(t, secret, fillWord("SECRET"))
	writeHost(t, filepath.Join(dir, "base.raw"), fillWord("base"))
	if err := os.Symlink("../outside/secret.raw", filepath.Join(dir, "link.raw")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside", filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	emptyOverlay(t, dir, "mid.qcow2", "../outside/secret.raw", "raw")

	opens := watchOpens(t, outside)
	for _, tt := range []struct{ name, backing, why string }{
		{"dotdot", "../outside/secret.raw", "outside the image's directory"},
		{"dotdot-after-subdir", "sub/../../outside/secret.raw", "outside the image's directory"},
		{"absolute", secret, "absolute"},
		{"symlink", "link.raw", "symbolic link"},
		{"symlinked-directory", "sub/secret.raw", "symbolic link"},
		{"second-hop", "mid.qcow2", "outside the image's directory"},
		{"etc-passwd", "../../../../../../../../etc/passwd", "outside the image's directory"},
		{"protocol", "nbd://localhost/secret", "protocol"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			over := emptyOverlay(t, dir, tt.name+".qcow2", tt.backing, "raw")
			img, err := image.Open(over, image.WithBacking(true))
			if err == nil {
				img.Close()
				t.Fatalf("backing file %q was read", tt.backing)
			}
			if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Open = %v; want ErrUnsupported saying %q", err, tt.why)
			}
		})
	}
	if got := opens(); len(got) != 0 {
		t.Fatalf("files outside the image directory were opened: %v", got)
	}
	// The watch works: opening the file is seen.
	f, err := os.Open(secret)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := opens(); len(got) == 0 {
		t.Fatal("inotify did not see the file opened; the assertion above proves nothing")
	}
}

func TestQCOW2BackingChainDepth(t *testing.T) {
	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "c0.raw"), fillWord("depth"))
	prev, format := "c0.raw", "raw"
	for i := 1; i <= 9; i++ {
		name := fmt.Sprintf("c%d.qcow2", i)
		emptyOverlay(t, dir, name, prev, format)
		prev, format = name, "qcow2"
	}
	img, err := image.Open(filepath.Join(dir, "c8.qcow2"), image.WithBacking(true))
	if err != nil {
		t.Fatalf("chain of 8 backing files: %v", err)
	}
	if got := readAll(t, img); !bytes.Equal(got, fillWord("depth")) {
		t.Errorf("chain of 8 reads wrong: %s", firstDiff(got, fillWord("depth")))
	}
	img.Close()
	_, err = image.Open(filepath.Join(dir, "c9.qcow2"), image.WithBacking(true))
	if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "deeper than 8") {
		t.Errorf("chain of 9 backing files: %v; want a depth error", err)
	}

	emptyOverlay(t, dir, "a.qcow2", "b.qcow2", "qcow2")
	emptyOverlay(t, dir, "b.qcow2", "a.qcow2", "qcow2")
	_, err = image.Open(filepath.Join(dir, "a.qcow2"), image.WithBacking(true))
	if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "deeper than 8") {
		t.Errorf("backing loop: %v; want a depth error", err)
	}

	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.raw"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyOverlay(t, dir, "fifo.qcow2", "fifo.raw", "raw")
	_, err = image.Open(filepath.Join(dir, "fifo.qcow2"), image.WithBacking(true))
	if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO as backing file: %v; want it refused (and no hang)", err)
	}

	emptyOverlay(t, dir, "missing.qcow2", "nothere.raw", "raw")
	_, err = image.Open(filepath.Join(dir, "missing.qcow2"), image.WithBacking(true))
	if err == nil || !strings.Contains(err.Error(), "nothere.raw") {
		t.Errorf("missing backing file: %v", err)
	}
}

// watchOpens watches dir with inotify and returns a function that drains
// the names of the files opened in it since the last call.
func watchOpens(t *testing.T, dir string) func() []string {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		missing(t, fmt.Errorf("inotify: %v", err))
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		var names []string
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if n <= 0 || err != nil {
				return names
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				names = append(names, string(bytes.TrimRight(name, "\x00")))
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}
