package initramfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/image"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// member is one entry of a test archive.
type member struct {
	name string
	mode uint32
	data string
}

// newc writes members as a cpio "newc" archive with its trailer, as
// cpio -o -H newc does.
func newc(ms ...member) []byte {
	var b bytes.Buffer
	for i, m := range append(ms, member{name: cpioTrailer}) {
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			i+1, m.mode, 0, 0, 1, 0, len(m.data), 0, 0, 0, 0, len(m.name)+1, 0)
		b.WriteString(m.name + "\x00")
		b.Write(make([]byte, pad4(int64(cpioHeaderSize+len(m.name)+1))))
		b.WriteString(m.data)
		b.Write(make([]byte, pad4(int64(len(m.data)))))
	}
	return b.Bytes()
}

func file(name, data string) member { return member{name, 0o100644, data} }
func dir(name string) member        { return member{name, 0o40755, ""} }

// microcode is an early-microcode archive as the distributions prepend it.
var microcode = newc(dir("kernel"), dir("kernel/x86"), dir("kernel/x86/microcode"), file("kernel/x86/microcode/GenuineIntel.bin", strings.Repeat("\x01", 3000)))

// mainArchive is a main initramfs archive; with virtio it holds
// virtio_blk.ko.zst.
func mainArchive(virtio bool) []byte {
	ms := []member{dir("usr"), dir("usr/lib"), file("init", "#!/bin/sh\n"), member{"bin", 0o120777, "usr/bin"},
		file("usr/lib/modules/6.1.0-26-amd64/kernel/drivers/net/virtio_net.ko.zst", "net")}
	if virtio {
		ms = append(ms, file("usr/lib/modules/6.1.0-26-amd64/kernel/drivers/block/virtio_blk.ko.zst", "blk"))
	}
	ms = append(ms, file("usr/lib/modules/6.1.0-26-amd64/modules.dep", strings.Repeat("x", 10000)))
	return newc(ms...)
}

func isVirtioBlk(name string) bool { return strings.HasSuffix(name, "/virtio_blk.ko.zst") }

// compress compresses b with Go's encoders (bzip2 through the tool).
func compress(t testing.TB, kind string, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	var w io.WriteCloser
	var err error
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&out)
	case "zstd":
		w, err = zstd.NewWriter(&out)
	case "xz":
		w, err = xz.NewWriter(&out)
	case "lz4":
		z := lz4.NewWriter(&out)
		err = z.Apply(lz4.LegacyOption(true))
		w = z
	case "bzip2":
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin = bytes.NewReader(b)
		o, err := cmd.Output()
		if err != nil {
			t.Skipf("bzip2: %v", err)
		}
		return o
	default:
		t.Fatalf("no compressor %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFindCompressions(t *testing.T) {
	for _, kind := range []string{"gzip", "zstd", "xz", "lz4", "bzip2"} {
		t.Run(kind, func(t *testing.T) {
			for _, virtio := range []bool{true, false} {
				img := cat(microcode, compress(t, kind, mainArchive(virtio)))
				name, sum, err := Find(bytes.NewReader(img), Limits{}, isVirtioBlk)
				if err != nil {
					t.Fatal(err)
				}
				if want := ""; virtio {
					want = "usr/lib/modules/6.1.0-26-amd64/kernel/drivers/block/virtio_blk.ko.zst"
					if name != want {
						t.Errorf("found %q, want %q", name, want)
					}
				} else if name != want {
					t.Errorf("found %q in an archive without it", name)
				}
				if strings.Join(sum.Segments, "+") != "cpio+"+kind {
					t.Errorf("segments %v", sum.Segments)
				}
				if !virtio && (sum.Entries != 4+6 || sum.Bytes != int64(len(microcode)+len(mainArchive(false)))) {
					t.Errorf("summary %+v, want 10 entries and %d bytes", sum, len(microcode)+len(mainArchive(false)))
				}
			}
		})
	}
}

// TestFindConcatenated: segments after a gzip or an xz stream are read, as
// the kernel reads them, NUL padding included.
func TestFindConcatenated(t *testing.T) {
	for _, kind := range []string{"gzip", "xz"} {
		img := cat(microcode, make([]byte, 512), compress(t, kind, newc(file("a", "a"))), make([]byte, 4), compress(t, kind, mainArchive(true)), make([]byte, 8))
		name, sum, err := Find(bytes.NewReader(img), Limits{}, isVirtioBlk)
		if err != nil || name == "" {
			t.Fatalf("%s: %q %v", kind, name, err)
		}
		if strings.Join(sum.Segments, "+") != "cpio+"+kind+"+"+kind {
			t.Errorf("%s: segments %v", kind, sum.Segments)
		}
	}
	// two archives inside one compressed segment, NUL-padded
	img := compress(t, "zstd", cat(microcode, make([]byte, 12), mainArchive(true)))
	if name, _, err := Find(bytes.NewReader(img), Limits{}, isVirtioBlk); err != nil || name == "" {
		t.Fatalf("two archives in zstd: %q %v", name, err)
	}
}

func TestFindNotRegular(t *testing.T) {
	img := newc(member{"lib/modules/v/kernel/drivers/block/virtio_blk.ko.zst", 0o120777, "elsewhere"})
	if name, _, err := Find(bytes.NewReader(img), Limits{}, isVirtioBlk); err != nil || name != "" {
		t.Fatalf("a symlink counted as the module: %q %v", name, err)
	}
}

func TestFindCaps(t *testing.T) {
	big := newc(file("big", strings.Repeat("z", 1<<20)), file("lib/virtio_blk.ko.zst", "x"))
	many := make([]member, 50)
	for i := range many {
		many[i] = file(fmt.Sprint("f", i), "")
	}
	xz8M := compress(t, "xz", mainArchive(true)) // xz's writer declares an 8 MiB dictionary
	var zw bytes.Buffer
	z, _ := zstd.NewWriter(&zw, zstd.WithWindowSize(8<<20))
	z.Write(bytes.Repeat(mainArchive(true), 100))
	z.Close()
	cases := []struct {
		name string
		img  []byte
		l    Limits
		want string
	}{
		{"bytes, stored", big, Limits{Bytes: 1 << 19}, "holds 1048576 bytes, more than the initramfs limit leaves"},
		{"bytes, compressed", compress(t, "gzip", big), Limits{Bytes: 1 << 19}, "more than the initramfs limit leaves"},
		{"NUL bomb", compress(t, "gzip", make([]byte, 4<<20)), Limits{Bytes: 1 << 20}, "more than 1048576 bytes of archive"},
		{"entries", newc(many...), Limits{Entries: 10}, "more than 10 cpio entries"},
		{"name", newc(file(strings.Repeat("n", 300), "")), Limits{Name: 255}, "name of 300 bytes over the cap of 255"},
		{"xz dictionary", xz8M, Limits{Memory: 1 << 20}, "needs a dictionary of 8388608 bytes, over the 1048576-byte memory limit"},
		{"zstd window", zw.Bytes(), Limits{Memory: 1 << 20}, "zstd window over the 1048576-byte memory limit"},
		{"segments", bytes.Repeat(compress(t, "gzip", nil), 2000), Limits{}, "more than 1024 segments"},
		{"xz bomb", compress(t, "xz", make([]byte, 96<<20)), Limits{}, "over 100 times, a decompression bomb"},
		{"gzip bomb", compress(t, "gzip", newc(file("zeros", string(make([]byte, 128<<20))))), Limits{}, "over 100 times, a decompression bomb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, _, err := Find(bytes.NewReader(c.img), c.l, isVirtioBlk)
			if !errors.Is(err, ErrCap) || !strings.Contains(err.Error(), c.want) || name != "" {
				t.Fatalf("%q, %v; want ErrCap containing %q", name, err, c.want)
			}
		})
	}
}

func TestFindBadInput(t *testing.T) {
	good := mainArchive(true)
	badHex := bytes.Clone(good)
	copy(badHex[54:], "0000ZZ00")
	gz := compress(t, "gzip", good)
	xzs := compress(t, "xz", good)
	xzCut := xzs[:len(xzs)-30]
	cases := []struct {
		name string
		img  []byte
		want error
		msg  string
	}{
		{"bad hex", badHex, image.ErrFormat, "field 7 is not hexadecimal"},
		{"truncated member", good[:200], image.ErrTruncated, "archive ends inside a member"},
		{"junk after archive", cat(microcode, []byte("hello world")), image.ErrFormat, "neither a cpio archive nor compressed data at 0x"},
		{"odc archive", []byte("070707" + strings.Repeat("0", 100)), image.ErrFormat, "no newc header magic"},
		{"lzma", []byte("\x5d\x00\x00\x80\x00rest"), image.ErrUnsupported, "lzma compression is not read"},
		{"corrupt gzip", cat(gz[:40], bytes.Repeat([]byte{0xff}, 40), gz[80:]), nil, "gzip at 0x0"},
		{"cut xz", xzCut, nil, "xz"},
		{"junk inside compressed", compress(t, "gzip", cat(good, []byte("junk after the archive"))), image.ErrFormat, "no newc header magic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, _, err := Find(bytes.NewReader(c.img), Limits{}, func(string) bool { return false })
			if err == nil || !strings.Contains(err.Error(), c.msg) || (c.want != nil && !errors.Is(err, c.want)) || name != "" {
				t.Fatalf("%q, %v; want %v containing %q", name, err, c.want, c.msg)
			}
		})
	}
}

// TestFindStopsAtMatch: the walk ends at the first match, so a cap beyond
// it does not matter, and later damage is never read.
func TestFindStopsAtMatch(t *testing.T) {
	img := cat(mainArchive(true), []byte("junk"))
	name, sum, err := Find(bytes.NewReader(img), Limits{}, isVirtioBlk)
	if err != nil || name == "" || sum.Entries != 6 {
		t.Fatalf("%q %+v %v", name, sum, err)
	}
}

// failAfter fails every read, zero-length ones included, once n bytes
// have been read: a guest file whose context is done.
type failAfter struct {
	r io.Reader
	n int
}

var errDone = errors.New("context done")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDone
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestFindPollsSource: a bomb whose compressed bytes are all read before
// the context ends still stops, through the zero-length polls.
func TestFindPollsSource(t *testing.T) {
	bomb := compress(t, "zstd", make([]byte, 64<<20))
	_, sum, err := Find(&failAfter{bytes.NewReader(bomb), len(bomb)}, Limits{}, isVirtioBlk)
	if !errors.Is(err, errDone) || sum.Bytes > 64<<20 {
		t.Fatalf("%+v %v", sum, err)
	}
}
