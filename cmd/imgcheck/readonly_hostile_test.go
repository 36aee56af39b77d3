package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imgcheck/imgcheck/fixtures"
)

// fileState is what must not change when imgcheck reads an image.
type fileState struct {
	sum          [32]byte
	size         int64
	mode         os.FileMode
	mtime, ctime time.Time
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	s := fileState{size: st.Size(), mode: st.Mode(), mtime: st.ModTime(),
		ctime: time.Unix(sys.Ctim.Sec, sys.Ctim.Nsec)}
	h.Sum(s.sum[:0])
	return s
}

// A fileWatch records, through inotify, every open, write and attribute
// change of the files in one directory, by any process.
type fileWatch struct {
	fd     int
	events map[string]uint32 // file name -> union of event masks
}

func watchDir(t *testing.T, dir string) *fileWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("inotify: %v", err)
		}
		t.Skipf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	mask := uint32(unix.IN_OPEN | unix.IN_CLOSE_NOWRITE | unix.IN_CLOSE_WRITE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		t.Fatal(err)
	}
	return &fileWatch{fd: fd, events: map[string]uint32{}}
}

// drain reads the queued events.
func (w *fileWatch) drain(t *testing.T) {
	t.Helper()
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for b := buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
			mask := binary.NativeEndian.Uint32(b[4:])
			nameLen := binary.NativeEndian.Uint32(b[12:])
			name := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:unix.SizeofInotifyEvent+int(nameLen)], "\x00"))
			if mask&unix.IN_Q_OVERFLOW != 0 {
				t.Fatal("inotify queue overflowed: events were lost")
			}
			w.events[name] |= mask
			b = b[unix.SizeofInotifyEvent+int(nameLen):]
		}
	}
}

// TestReadOnly proves that no verb writes to an image: every fixture
// kind is copied into a directory of its own and made read-only (mode
// 0444, which root ignores), then after every verb in every format its
// SHA-256, size, mode, mtime and ctime are unchanged, inotify saw it
// opened but never opened for writing, modified or changed, and nothing
// was created beside it.
func TestReadOnly(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	bare := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	fsimg := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	mbr := fixtures.MustDisk(t, fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
		{Type: "linux", Image: fsimg, Bootable: true}, {Type: "extended"}, {Type: "linux", Logical: true, Size: 1 << 20}}})
	must := fixtures.MustHostile(t)
	sources := map[string]string{
		"clean.raw":     clean,
		"leaky.raw":     leaky,
		"bare.img":      bare,
		"mbr.raw":       mbr,
		"plain.qcow2":   fixtures.MustQCOW2(t, leaky, fixtures.QCOW2Options{}),
		"zlib.qcow2":    fixtures.MustQCOW2(t, leaky, fixtures.QCOW2Options{Compress: true}),
		"zstd.qcow2":    fixtures.MustQCOW2(t, clean, fixtures.QCOW2Options{Compress: true, CompressionType: "zstd"}),
		"upload.raw.gz": fixtures.MustGzip(t, clean, "gzip"),
		"ebrloop.raw":   must(fixtures.EBRLoop(fixtures.MustDisk(t, fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{{Type: "linux", Image: fsimg}, {Type: "extended"}, {Type: "linux", Logical: true, Size: 1 << 20}, {Type: "linux", Logical: true, Size: 1 << 20}}}))),
		"cut.raw":       must(fixtures.Truncated(leaky, 40<<20)),
		"gptcut.raw":    must(fixtures.Truncated(clean, 8192)),
	}
	dir := t.TempDir()
	tmp := t.TempDir()
	var names []string
	for name, src := range sources {
		dst := filepath.Join(dir, name)
		if b, err := exec.Command("cp", "--sparse=always", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", src, err, b)
		}
		if err := os.Chmod(dst, 0o444); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	before := map[string]fileState{}
	for _, n := range names {
		before[n] = stateOf(t, filepath.Join(dir, n))
	}
	w := watchDir(t, dir)
	verbs := [][]string{
		{"info"}, {"info", "--json"},
		{"ls", "@", "/"}, {"ls", "-R", "@", "/etc"}, {"cat", "@", "/etc/os-release"}, {"cat", "@", "/etc/shadow"},
		{"scan"}, {"scan", "--format", "json"}, {"scan", "--format", "sarif"}, {"scan", "--format", "junit"},
		{"scan", "--profile", "img_check"}, {"scan", "--profile", "img_check", "--show-contents"},
		{"scan", "--show-contents", "--hash", "--stats", "--format", "json=" + filepath.Join(tmp, "r.json"), "--format", "text"},
		{"scan", "--output-dir", tmp, "--format", "json", "--format", "sarif", "--format", "junit"},
		{"diff", "@", "@"},
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		for _, v := range verbs {
			args := append([]string(nil), v...)
			if !strings.Contains(strings.Join(args, " "), "@") {
				args = append(args, "@")
			}
			for i := range args {
				if args[i] == "@" {
					args[i] = p
				}
			}
			args = append(args[:1], append([]string{"--tmpdir", tmp}, args[1:]...)...)
			if v[0] != "scan" {
				args = append(args[:1], args[3:]...) // --tmpdir is a scan flag
			}
			runCmd(t, args...)
			w.drain(t)
		}
		// One child process too: the same guarantees outside this process.
		runChild(t, nil, "scan", "--format", "json", p)
		w.drain(t)
	}
	for _, n := range names {
		after := stateOf(t, filepath.Join(dir, n))
		if after != before[n] {
			t.Errorf("%s changed: before %+v, after %+v", n, before[n], after)
		}
		ev := w.events[n]
		if ev&unix.IN_CLOSE_NOWRITE == 0 {
			t.Errorf("%s: inotify never saw it opened for reading (mask %#x): the watch proves nothing", n, ev)
		}
		if bad := ev & (unix.IN_CLOSE_WRITE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_MOVED_FROM | unix.IN_DELETE); bad != 0 {
			t.Errorf("%s was opened for writing or changed (inotify mask %#x)", n, bad)
		}
	}
	for n, ev := range w.events {
		if _, ok := before[n]; !ok && ev&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			t.Errorf("%s was created next to the images", n)
		}
	}
}
