package ext4_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/fsinspect/internal/fetchlog"
)

// openPrefetchLog opens the filesystem image at img over a fetchlog.Log.
func openPrefetchLog(t *testing.T, img string) (*ext4.FS, *fetchlog.Log) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	log := &fetchlog.Log{ReaderAt: f}
	fsys, err := ext4.New(log, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return fsys, log
}

// rangeBytes is the bytes the calls ask for in all.
func rangeBytes(calls [][]ext4.Range) int64 {
	var n int64
	for _, rs := range calls {
		for _, r := range rs {
			n += r.N
		}
	}
	return n
}

// TestReadAheadInOrder reads a 5 MiB file 4 KiB at a time over a
// Prefetcher: the first read fetches nothing ahead (a reader may want
// only the head), each later one that passes what was fetched fetches
// the next 2 MiB, and the data is the file's.
func TestReadAheadInOrder(t *testing.T) {
	t.Parallel()
	data := []byte(pattern(5<<20, 3))
	fsys, log := openPrefetchLog(t, fixtures.MustExt4(t, fstest.MapFS{"big": {Data: data, Mode: 0o644}}, fixtures.Ext4Options{}))
	f, err := fsys.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var got []byte
	for i := 0; ; i++ {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		calls := log.Take()
		switch {
		case i == 0 && len(calls) != 0:
			t.Fatalf("the first read prefetched %v", calls)
		case len(calls) > 1 || len(calls) == 1 && len(calls[0]) != 1:
			t.Fatalf("read %d at %d prefetched %v, want one range", i, len(got)-n, calls)
		case len(calls) == 1:
			want := min(int64(2<<20), int64(len(data)-len(got)+n))
			if r := calls[0][0]; r.N != want {
				t.Errorf("read %d at %d prefetched %d bytes, want %d", i, len(got)-n, r.N, want)
			}
			if len(got)-n != 4096 && (len(got)-n-4096)%(2<<20) != 0 {
				t.Errorf("read %d at %d prefetched before reaching the end of the last window", i, len(got)-n)
			}
		}
	}
	if !bytes.Equal(got, data) {
		t.Error("data read in order differs from the file")
	}
}

// TestReadAheadAfterSeek reads a file after a Seek: a read that does not
// continue the one before it fetches nothing ahead.
func TestReadAheadAfterSeek(t *testing.T) {
	t.Parallel()
	data := []byte(pattern(1<<20, 4))
	fsys, log := openPrefetchLog(t, fixtures.MustExt4(t, fstest.MapFS{"f": {Data: data, Mode: 0o644}}, fixtures.Ext4Options{}))
	f, err := fsys.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs := f.(io.ReadSeeker)
	buf := make([]byte, 100)
	for _, off := range []int64{0, 500 << 10, 100 << 10} {
		if _, err := rs.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rs, buf); err != nil || !bytes.Equal(buf, data[off:off+100]) {
			t.Fatalf("read at %d: %v, or wrong data", off, err)
		}
	}
	if calls := log.Take(); len(calls) != 0 {
		t.Errorf("reads after seeks prefetched %v", calls)
	}
}

// TestPrefetchExtents reads a sparse file of three data runs whole, and
// asks its file to prefetch itself: each fetches the data runs, never the
// holes, in one call, and the data read is the file's.
func TestPrefetchExtents(t *testing.T) {
	t.Parallel()
	host := filepath.Join(t.TempDir(), "host")
	h, err := os.Create(host)
	if err != nil {
		t.Fatal(err)
	}
	chunks := map[int64]string{0: pattern(8192, 5), 512 << 10: pattern(4096, 6), 1536 << 10: pattern(12288, 7)}
	want := make([]byte, 1536<<10+12288)
	for off, s := range chunks {
		copy(want[off:], s)
		if _, err := h.WriteAt([]byte(s), off); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	img := copyImage(t, fixtures.MustExt4(t, fstest.MapFS{"x": {Data: []byte("x"), Mode: 0o644}}, fixtures.Ext4Options{}))
	runTool(t, "debugfs", "-w", "-R", "write "+host+" sparse", img)
	fsys, log := openPrefetchLog(t, img)

	got, err := fsys.ReadFile("sparse")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile: %v, or wrong data", err)
	}
	calls := log.Take()
	if len(calls) != 1 || rangeBytes(calls) != 8192+4096+12288 {
		t.Errorf("a whole read prefetched %v, want the 24 KiB of data in one call", calls)
	}

	f, err := fsys.Open("sparse")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.(interface{ Prefetch(n int64) }).Prefetch(1 << 20)
	calls = log.Take()
	if len(calls) != 1 || rangeBytes(calls) != 8192+4096 {
		t.Errorf("Prefetch(1 MiB) prefetched %v, want the 12 KiB of data before 1 MiB in one call", calls)
	}
}

// TestReadAheadAfterPrefetch prefetches the first 1 MiB of a 3 MiB file
// and reads it in order: the reads within that 1 MiB fetch nothing more,
// the first past it fetches the next 2 MiB from there, and the data is
// the file's.
func TestReadAheadAfterPrefetch(t *testing.T) {
	t.Parallel()
	data := []byte(pattern(3<<20, 5))
	fsys, log := openPrefetchLog(t, fixtures.MustExt4(t, fstest.MapFS{"f": {Data: data, Mode: 0o644}}, fixtures.Ext4Options{}))
	f, err := fsys.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.(interface{ Prefetch(int64) }).Prefetch(1 << 20)
	if calls := log.Take(); rangeBytes(calls) != 1<<20 {
		t.Fatalf("Prefetch(1 MiB) fetched %v", calls)
	}
	buf := make([]byte, 4096)
	var got []byte
	for len(got) < 1<<20 {
		n, err := f.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if calls := log.Take(); len(calls) != 0 {
		t.Errorf("reads within the prefetched 1 MiB fetched %v", calls)
	}
	rest, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if calls := log.Take(); len(calls) == 0 || calls[0][0].N != 2<<20 {
		t.Errorf("the first read past the prefetched bytes fetched %v, want the next 2 MiB", calls)
	}
	if !bytes.Equal(append(got, rest...), data) {
		t.Error("data read after Prefetch differs from the file")
	}
}

// TestPrefetchDirectory reads a directory of 3,000 entries over a
// Prefetcher, whose blocks mkfs -d spread between its files' data: the
// read fetches all of its runs in one call, rather than one run after
// another, and the entries are all there.
func TestPrefetchDirectory(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{"big": fixtures.Dir(0o755)}
	for i := range 3000 {
		tree[fmt.Sprintf("big/file-%05d", i)] = fixtures.File(pattern(5000, byte(i)), 0o644)
	}
	fsys, log := openPrefetchLog(t, fixtures.MustExt4(t, tree, fixtures.Ext4Options{BlockSize: 4096}))
	fi, err := fsys.Stat("big")
	if err != nil {
		t.Fatal(err)
	}
	log.Take()
	ents, err := fsys.ReadDir("big")
	if err != nil || len(ents) != 3000 {
		t.Fatalf("ReadDir: %d entries, %v", len(ents), err)
	}
	calls := log.Take()
	if len(calls) != 1 || rangeBytes(calls) != fi.Size() {
		t.Errorf("reading the %d-byte directory prefetched %v, want it whole in one call", fi.Size(), calls)
	}
	if len(calls) == 1 && len(calls[0]) < 2 {
		t.Errorf("the directory is one run (%v): the fixture does not test a directory in pieces", calls)
	}
}
