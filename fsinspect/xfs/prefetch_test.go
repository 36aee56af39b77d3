package xfs_test

import (
	"bytes"
	"io"
	"os"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/internal/fetchlog"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// TestReadAheadInOrder reads a 5 MiB file 4 KiB at a time over a reader
// that prefetches: the first read fetches nothing ahead, each later one
// that passes what was fetched fetches 2 MiB from there, which are where
// the image holds that part of the file, and the data is the file's.
func TestReadAheadInOrder(t *testing.T) {
	t.Parallel()
	data := []byte(pattern(5<<20, 3))
	img := fixtures.MustXFS(t, fstest.MapFS{"big": {Data: data, Mode: 0o644}}, fixtures.XFSOptions{})
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	log := &fetchlog.Log{ReaderAt: bytes.NewReader(raw)}
	fsys, err := xfs.New(log, int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var got []byte
	windows := 0
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
		at := int64(len(got) - n)
		switch {
		case i == 0 && len(calls) != 0:
			t.Fatalf("the first read prefetched %v", calls)
		case len(calls) > 1:
			t.Fatalf("read %d at %d prefetched %d times", i, at, len(calls))
		case len(calls) == 1:
			windows++
			var fetched []byte
			for _, r := range calls[0] {
				fetched = append(fetched, raw[r.Off:r.Off+r.N]...)
			}
			want := data[at:][:min(2<<20, int64(len(data))-at)]
			if !bytes.Equal(fetched, want) {
				t.Errorf("read %d at %d prefetched %v: %d bytes, not the file's next %d", i, at, calls[0], len(fetched), len(want))
			}
		}
	}
	if windows != 3 {
		t.Errorf("%d windows fetched ahead, want 3 (from 4 KiB, 2 MiB + 4 KiB, 4 MiB + 4 KiB)", windows)
	}
	if !bytes.Equal(got, data) {
		t.Error("data read in order differs from the file")
	}
}
