package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// messedCopy copies the file at path into a temporary directory, applies
// mess to its bytes and returns the copy's path.
func messedCopy(t *testing.T, path string, mess func([]byte) []byte) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "messed.qcow2")
	if err := os.WriteFile(out, mess(bytes.Clone(mustRead(t, path))), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func setU32(off int, v uint32) func([]byte) []byte {
	return func(b []byte) []byte { binary.BigEndian.PutUint32(b[off:], v); return b }
}

func setU64(off int, v uint64) func([]byte) []byte {
	return func(b []byte) []byte { binary.BigEndian.PutUint64(b[off:], v); return b }
}

// setIncompatible sets incompatible feature bit n.
func setIncompatible(n int) func([]byte) []byte {
	return func(b []byte) []byte {
		f := binary.BigEndian.Uint64(b[72:])
		binary.BigEndian.PutUint64(b[72:], f|1<<n)
		return b
	}
}

// renameFeature rewrites the first incompatible entry of the feature name
// table extension to name bit n, and sets that bit.
func renameFeature(t *testing.T, n int, name string) func([]byte) []byte {
	return func(b []byte) []byte {
		off := int(binary.BigEndian.Uint32(b[100:]))
		for off+8 <= len(b) {
			typ, length := binary.BigEndian.Uint32(b[off:]), int(binary.BigEndian.Uint32(b[off+4:]))
			if typ == 0 {
				break
			}
			if typ == 0x6803f857 {
				e := b[off+8 : off+8+48]
				e[0], e[1] = 0, byte(n)
				clear(e[2:])
				copy(e[2:], name)
				return setIncompatible(n)(b)
			}
			off += 8 + (length+7)&^7
		}
		t.Fatal("no feature name table in the qemu-img file")
		return b
	}
}

func TestQCOW2HeaderFaults(t *testing.T) {
	good := fixtures.MustQCOW2(t, sampleRaw(t), fixtures.QCOW2Options{})
	st, _ := os.Stat(good)
	tests := []struct {
		name     string
		mess     func([]byte) []byte
		sentinel error
		says     string
	}{
		{"dirty", setIncompatible(0), image.ErrUnsupported, "marked dirty"},
		{"corrupt", setIncompatible(1), image.ErrUnsupported, "marked corrupt"},
		{"external-data-bit", setIncompatible(2), image.ErrUnsupported, "external data file"},
		{"unknown-bit", setIncompatible(20), image.ErrUnsupported, "unknown incompatible feature bit 20"},
		{"unknown-bit-named", renameFeature(t, 21, "frobnicate"), image.ErrUnsupported, `unknown incompatible feature "frobnicate" (bit 21)`},
		{"aes", setU32(32, 1), image.ErrUnsupported, "encrypted qcow2 is not supported (AES)"},
		{"version-1", setU32(4, 1), image.ErrUnsupported, "version 1 is not supported"},
		{"version-4", setU32(4, 4), image.ErrUnsupported, "version 4 is not supported"},
		{"cluster-bits-8", setU32(20, 8), image.ErrFormat, "cluster bits 8 out of range"},
		{"cluster-bits-22", setU32(20, 22), image.ErrFormat, "cluster bits 22 out of range"},
		{"l1-huge", setU32(36, 1<<28), image.ErrFormat, "exceeds 32 MiB"},
		{"l1-past-end", setU64(40, uint64(st.Size())&^0xffff+1<<16), image.ErrTruncated, "runs past end of file"},
		{"l1-unaligned", setU64(40, 0x30008), image.ErrFormat, "not cluster-aligned"},
		{"l1-too-small", setU32(36, 0), image.ErrFormat, "too small"},
		{"refcount-past-end", setU64(48, 1<<40), image.ErrTruncated, "refcount table"},
		{"refcount-none", setU32(56, 0), image.ErrFormat, "no clusters"},
		{"size-zero", setU64(24, 0), image.ErrFormat, "virtual size is 0"},
		{"header-length", setU32(100, 50), image.ErrFormat, "header length 50"},
		{"compression-type", func(b []byte) []byte { b[104] = 7; return setIncompatible(3)(b) }, image.ErrUnsupported, "compression type 7"},
		{"compression-bit-only", setIncompatible(3), image.ErrFormat, "disagrees"},
		{"backing-name-long", func(b []byte) []byte { return setU32(16, 2000)(setU64(8, 0x200)(b)) }, image.ErrFormat, "backing file name"},
		{"truncated-header", func(b []byte) []byte { return b[:50] }, image.ErrTruncated, "header truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := image.Open(messedCopy(t, good, tt.mess))
			if err == nil {
				img.Close()
				t.Fatal("opened")
			}
			_, isFormat := errors.AsType[*image.FormatError](err)
			if !isFormat || !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Open = %v; want a FormatError wrapping %v saying %q", err, tt.sentinel, tt.says)
			}
		})
	}
}

func TestQCOW2QemuRefusedFeatures(t *testing.T) {
	dir := t.TempDir()
	// qemu-img times its PBKDF on CPU usage and gives up ("Unable to get
	// accurate CPU usage") now and then on a busy machine: try again.
	for try := 1; ; try++ {
		err := runQemuImg(t, dir, "create", "-q", "-f", "qcow2", "--object", "secret,id=s0,data=hunter2",
			"-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=100", "luks.qcow2", "1M")
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(err.Error(), "accurate CPU usage") {
			t.Fatal(err)
		}
	}
	qemuImg(t, dir, "create", "-q", "-f", "qcow2", "-o", "data_file=data.raw,data_file_raw=on", "external.qcow2", "1M")
	for _, tt := range []struct{ file, says string }{
		{"luks.qcow2", "encrypted qcow2 is not supported (LUKS)"},
		{"external.qcow2", "external data file"},
	} {
		_, err := image.Open(filepath.Join(dir, tt.file))
		if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("Open(%s) = %v; want ErrUnsupported saying %q", tt.file, err, tt.says)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

func TestQCOW2TruncatedFileFailsOnRead(t *testing.T) {
	good := fixtures.MustQCOW2(t, sampleRaw(t), fixtures.QCOW2Options{Compress: true})
	cut := messedCopy(t, good, func(b []byte) []byte { return b[:len(b)*2/3] })
	img, err := image.Open(cut)
	if err != nil {
		// The tables may lie in the part cut off; that is a clear error too.
		if !errors.Is(err, image.ErrTruncated) {
			t.Fatalf("Open = %v; want ErrTruncated", err)
		}
		return
	}
	defer img.Close()
	_, err = io.Copy(io.Discard, io.NewSectionReader(img, 0, img.Size()))
	fe, ok := errors.AsType[*image.FormatError](err)
	if !ok || fe.Format != "qcow2" || fe.Offset <= 0 {
		t.Fatalf("reading a truncated qcow2 = %v; want a qcow2 FormatError with an offset", err)
	}
}

// FuzzQCOW2 opens mutated qcow2 files and reads from them: no panic, no
// hang. The seeds are small qemu-img files of a 64 KiB disk. Each new
// input is minimized by running it thousands of times, which stalls the
// exec count for a minute by default: run it with -fuzzminimizetime=2s.
func FuzzQCOW2(f *testing.F) {
	disk := bytes.Repeat([]byte("fuzz seed disk, partly compressible\x00\x01\x02"), 1<<16/38+1)[:1<<16]
	clear(disk[20000:40000])
	raw := filepath.Join(f.TempDir(), "seed.raw")
	if err := os.WriteFile(raw, disk, 0o644); err != nil {
		f.Fatal(err)
	}
	for _, o := range []fixtures.QCOW2Options{
		{ClusterSize: 512},
		{Version: "0.10", Compress: true, ClusterSize: 4096},
		{Compress: true, CompressionType: "zstd", ExtendedL2: true, ClusterSize: 16384},
	} {
		q, err := fixtures.QCOW2(f.TempDir(), raw, o)
		if err != nil {
			break // no qemu-img: fuzz from the empty input
		}
		f.Add(mustRead(f, q))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "fuzz.qcow2")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := image.Open(p, image.WithBacking(true))
		if err != nil {
			return
		}
		defer img.Close()
		buf := make([]byte, 64<<10)
		for _, off := range []int64{0, 1 << 20, img.Size() / 2, img.Size() - 1} {
			img.ReadAt(buf, max(off, 0))
		}
	})
}
