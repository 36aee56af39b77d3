package image_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// openAndReadAll opens path as format f and reads its whole virtual disk,
// returning the first error, which must be a *FormatError.
func openAndReadAll(t *testing.T, path string, f image.Format, opts ...image.Option) error {
	t.Helper()
	img, err := image.OpenWithFormat(path, f, opts...)
	if err == nil {
		defer img.Close()
		buf := make([]byte, 64<<10)
		for off := int64(0); off < img.Size() && err == nil; off += int64(len(buf)) {
			_, err = img.ReadAt(buf, off)
		}
	}
	if err != nil {
		if _, ok := errors.AsType[*image.FormatError](err); !ok {
			t.Fatalf("error %v (%T) is not a *FormatError", err, err)
		}
	}
	return err
}

// hostileCase is a file derived from a good one and the error it must
// give: the sentinel and a part of the message.
type hostileCase struct {
	name     string
	path     string
	sentinel error
	want     string
	opts     []image.Option
}

func runHostile(t *testing.T, f image.Format, tests []hostileCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openAndReadAll(t, tt.path, f, tt.opts...)
			if err == nil {
				t.Fatalf("read without error; want %v", tt.sentinel)
			}
			if !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want %v and %q", err, tt.sentinel, tt.want)
			}
			if !strings.HasPrefix(err.Error(), string(f)+": ") {
				t.Errorf("error %q does not name the format", err)
			}
		})
	}
}

func TestVMDKHostileSparse(t *testing.T) {
	raw := sampleRaw(t)
	sparse := fixtures.MustConvert(t, raw, "vmdk")
	stream := fixtures.MustConvert(t, raw, "vmdk", "subformat=streamOptimized")
	sb, err := os.ReadFile(sparse)
	if err != nil {
		t.Fatal(err)
	}
	h := readVMDKLayout(t, sb)
	gtAt, gteAt := firstGT(t, sb)
	gdAt := int64(h.gdOffset) * 512
	must := fixtures.MustHostile(t)
	patch := func(path string, fn func(b []byte)) string { return fixtures.MustCorrupt(t, path, fn) }
	put32 := func(off int64, v uint32) func(b []byte) {
		return func(b []byte) { binary.LittleEndian.PutUint32(b[off:], v) }
	}
	put64 := func(off int64, v uint64) func(b []byte) {
		return func(b []byte) { binary.LittleEndian.PutUint64(b[off:], v) }
	}
	size := int64(len(sb))
	tests := []hostileCase{
		{"cut in the header", must(fixtures.Truncated(sparse, 300)), image.ErrTruncated, "shorter than its 512-byte header", nil},
		{"cut in the grain tables", must(fixtures.Truncated(sparse, gtAt+100)), image.ErrTruncated, "sectors of metadata (overHead)", nil},
		{"cut in the grains", must(fixtures.Truncated(sparse, size/2)), image.ErrTruncated, "past end of file", nil},
		{"grain directory past EOF", patch(sparse, put64(56, uint64(size/512))), image.ErrTruncated, "grain directory at sector", nil},
		{"grain table past EOF", patch(sparse, put32(gdAt, uint32(size/512+8))), image.ErrTruncated, "grain table 0 at sector", nil},
		{"grain table on the grain directory", patch(sparse, put32(gdAt, uint32(h.gdOffset))), image.ErrFormat, "overlaps the grain directory", nil},
		{"grain table on the header", patch(sparse, put32(gdAt, uint32(h.descOffset))), image.ErrFormat, "overlaps the embedded descriptor", nil},
		{"grain at the header", patch(sparse, put32(gteAt, 1)), image.ErrFormat, "points at sector 1, inside the embedded descriptor", nil},
		{"grain on its grain table", patch(sparse, put32(gteAt, uint32(gtAt/512))), image.ErrFormat, "inside the grain table", nil},
		{"grain past EOF", patch(sparse, put32(gteAt, uint32(size/512))), image.ErrTruncated, "past end of file", nil},
		{"overlapping grains", patch(sparse, func(b []byte) {
			binary.LittleEndian.PutUint32(b[gteAt+4:], binary.LittleEndian.Uint32(b[gteAt:])+1)
		}), image.ErrFormat, "overlapping grains", nil},
		{"capacity 2^60 bytes", patch(sparse, put64(12, 1<<51)), image.ErrUnsupported, "the vmdk-grain-dir limit", nil},
		{"capacity 2^60 bytes, no limit", patch(sparse, put64(12, 1<<51)), image.ErrTruncated, "grain directory at sector", []image.Option{image.WithLimits(image.Limits{VMDKGrainDirBytes: 1 << 62})}},
		{"capacity past 2^63 bytes", patch(sparse, put64(12, 1<<60)), image.ErrFormat, "more than 2^63 bytes", nil},
		{"grain of 2^60 sectors", patch(sparse, put64(20, 1<<60)), image.ErrUnsupported, "grains up to 2 MiB", nil},
		{"grain not a power of two", patch(sparse, put64(20, 96)), image.ErrFormat, "not a power of two", nil},
		{"4 billion entries per grain table", patch(sparse, put32(44, 1<<32-1)), image.ErrFormat, "entries per grain table", nil},
		{"version 4", patch(sparse, put32(4, 4)), image.ErrUnsupported, "version 4", nil},
		{"unknown compression", patch(sparse, func(b []byte) { binary.LittleEndian.PutUint16(b[77:], 2) }), image.ErrUnsupported, "compression algorithm 2", nil},
		{"COWD", patch(sparse, func(b []byte) { copy(b, "COWD") }), image.ErrUnsupported, "vmfsSparse (COWD)", nil},
		{"differencing", patch(sparse, func(b []byte) {
			i := strings.Index(string(b[:64<<10]), "parentCID=ffffffff")
			copy(b[i:], "parentCID=12345678")
		}), image.ErrUnsupported, "differencing disk (parentCID 12345678", nil},
	}
	stb, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	sgtAt, sgteAt := firstGT(t, stb)
	_ = sgtAt
	grain := int64(binary.LittleEndian.Uint32(stb[sgteAt:])) * 512
	tests = append(tests, []hostileCase{
		{"stream: grain mapped twice", fixtures.MustCorrupt(t, stream, func(b []byte) {
			binary.LittleEndian.PutUint32(b[sgteAt+4:], binary.LittleEndian.Uint32(b[sgteAt:]))
		}), image.ErrFormat, "overlapping grains", nil},
		{"stream: grain of another sector", fixtures.MustCorrupt(t, stream, func(b []byte) {
			binary.LittleEndian.PutUint64(b[grain:], 1<<40)
		}), image.ErrFormat, "is for sector 1099511627776", nil},
		{"stream: grain of 2^31 bytes", fixtures.MustCorrupt(t, stream, func(b []byte) {
			binary.LittleEndian.PutUint32(b[grain+8:], 1<<31)
		}), image.ErrFormat, "claims 2147483648 bytes", nil},
		{"stream: grain that does not inflate", fixtures.MustCorrupt(t, stream, func(b []byte) {
			copy(b[grain+12:], "not zlib data at all")
		}), image.ErrFormat, "does not inflate", nil},
		{"stream: cut in a grain", must(fixtures.Truncated(stream, grain+40)), image.ErrTruncated, "", nil},
		{"stream: footer without marker", fixtures.MustCorrupt(t, stream, put64(56, 1<<64-1)), image.ErrTruncated, "no footer marker", nil},
		{"stream: cut in the footer", func() string {
			footer := withFooter(t, stream)
			st, err := os.Stat(footer)
			if err != nil {
				t.Fatal(err)
			}
			return must(fixtures.Truncated(footer, st.Size()-700))
		}(), image.ErrTruncated, "the file is cut short or corrupt", nil},
	}...)
	runHostile(t, image.VMDK, tests)
}

// writeDescriptor writes a descriptor with the given extent lines into
// dir, beside a 1 MiB flat extent "flat.img", and returns its path.
func writeDescriptor(t *testing.T, dir string, extents ...string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "flat.img"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n# Extent description\n" +
		strings.Join(extents, "\n") + "\n\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\n"
	p := filepath.Join(dir, "disk.vmdk")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVMDKDescriptorConfinement(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.img"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := func() string { return t.TempDir() }
	linked := dir()
	if err := os.Symlink(filepath.Join(outside, "secret.img"), filepath.Join(linked, "link.img")); err != nil {
		t.Fatal(err)
	}
	many := make([]string, 1025)
	for i := range many {
		many[i] = `RW 2048 FLAT "flat.img" 0`
	}
	tests := []hostileCase{
		{"parent directory", writeDescriptor(t, dir(), `RW 2048 FLAT "../secret.img" 0`), image.ErrUnsupported, "outside the descriptor's directory", nil},
		{"absolute path", writeDescriptor(t, dir(), fmt.Sprintf(`RW 2048 FLAT "%s" 0`, filepath.Join(outside, "secret.img"))), image.ErrUnsupported, "is an absolute path", nil},
		{"symbolic link out", writeDescriptor(t, linked, `RW 2048 FLAT "link.img" 0`), image.ErrUnsupported, "cannot be opened", nil},
		{"names itself", writeDescriptor(t, dir(), `RW 1 FLAT "disk.vmdk" 0`), image.ErrFormat, "names itself", nil},
		{"names itself as sparse", writeDescriptor(t, dir(), `RW 2048 SPARSE "disk.vmdk"`), image.ErrFormat, "names itself", nil},
		{"names a raw file as sparse", writeDescriptor(t, dir(), `RW 2048 SPARSE "flat.img"`), image.ErrFormat, `sparse extent in "flat.img" does not start with "KDMV"`, nil},
		{"names another descriptor", func() string {
			d := dir()
			other := writeDescriptor(t, d, `RW 2048 SPARSE "disk.vmdk"`)
			if err := os.Rename(other, filepath.Join(d, "other.vmdk")); err != nil {
				t.Fatal(err)
			}
			return writeDescriptor(t, d, `RW 2048 SPARSE "other.vmdk"`)
		}(), image.ErrFormat, `sparse extent "other.vmdk" is another descriptor; descriptors are not followed`, nil},
		{"missing extent", writeDescriptor(t, dir(), `RW 2048 FLAT "gone.img" 0`), image.ErrFormat, "is missing", nil},
		{"extent past its file", writeDescriptor(t, dir(), `RW 4096 FLAT "flat.img" 0`), image.ErrTruncated, "runs past end of its file", nil},
		{"offset past its file", writeDescriptor(t, dir(), `RW 2048 FLAT "flat.img" 1`), image.ErrTruncated, "runs past end of its file", nil},
		{"2^60 sectors", writeDescriptor(t, dir(), `RW 1152921504606846976 FLAT "flat.img" 0`), image.ErrFormat, "more than 2^63 bytes", nil},
		{"sizes adding past 2^63", writeDescriptor(t, dir(), `RW 2048 FLAT "flat.img" 0`, `RW 18014398509481983 ZERO`), image.ErrFormat, "more than 2^63 bytes", nil},
		{"too many extents", writeDescriptor(t, dir(), many...), image.ErrUnsupported, "the vmdk-extents limit", nil},
		{"no extents", writeDescriptor(t, dir()), image.ErrFormat, "lists no extents", nil},
		{"unquoted name", writeDescriptor(t, dir(), `RW 2048 FLAT flat.img 0`), image.ErrFormat, "not quoted", nil},
		{"garbage line", writeDescriptor(t, dir(), `RW 2048 FLAT "flat.img" 0`, "\xff junk"), image.ErrFormat, "neither a setting nor an extent", nil},
		{"COWD extent", writeDescriptor(t, dir(), `RW 2048 VMFSSPARSE "flat.img"`), image.ErrUnsupported, "VMFSSPARSE extents are not read", nil},
		{"createType with escapes", func() string {
			p := writeDescriptor(t, dir(), `RW 2048 FLAT "flat.img" 0`)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), "monolithicFlat", "\x1b[31mred", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}(), image.ErrFormat, `createType "\x1b[31mred" is not a name`, nil},
		{"NOACCESS", writeDescriptor(t, dir(), `NOACCESS 2048 FLAT "flat.img" 0`), image.ErrUnsupported, "NOACCESS", nil},
	}
	runHostile(t, image.VMDK, tests)

	t.Run("remote object", func(t *testing.T) {
		_, err := image.OpenWithFormatRemote(writeDescriptor(t, dir(), `RW 2048 FLAT "flat.img" 0`), image.VMDK)
		if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "the descriptor is not a file on this host") {
			t.Errorf("error %v; want ErrUnsupported for extent files of a remote descriptor", err)
		}
	})
	t.Run("flat and zero extents", func(t *testing.T) {
		d := dir()
		p := writeDescriptor(t, d, `RW 1024 FLAT "flat.img" 1024`, `RW 100 ZERO`, `RDONLY 1024 VMFS "sub dir/with space.img"`)
		pattern := make([]byte, 1<<20)
		for i := range pattern {
			pattern[i] = byte(i / 512)
		}
		if err := os.WriteFile(filepath.Join(d, "flat.img"), pattern, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(d, "sub dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "sub dir", "with space.img"), pattern[:512<<10], 0o644); err != nil {
			t.Fatal(err)
		}
		img := openVMDK(t, p)
		want := append(append(append([]byte(nil), pattern[512<<10:]...), make([]byte, 100*512)...), pattern[:512<<10]...)
		got := make([]byte, len(want))
		if n, err := img.ReadAt(got, 0); n != len(want) || err != nil || string(got) != string(want) {
			t.Fatalf("ReadAt = %d, %v; same bytes %v", n, err, string(got) == string(want))
		}
		if l := img.Chain()[0]; l.Subformat != "monolithicFlat" || l.Detail != "monolithicFlat, 3 extents" || img.Size() != int64(len(want)) {
			t.Errorf("layer %+v, size %d", l, img.Size())
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// The magic, the descriptor, and the two flat extents read.
		if s := img.Stats(); s.BytesRead != 4+st.Size()+2048*512 || s.ReadCalls != 4 {
			t.Errorf("Stats() = %+v; want the magic, the descriptor and both flat extents (%d bytes) in 4 calls", s, 4+st.Size()+2048*512)
		}
	})
}
