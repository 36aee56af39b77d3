package image_test

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// A fetchLog is a file that records what an image asks it to fetch in
// the background, as a remote object would be asked.
type fetchLog struct {
	io.ReaderAt
	mu    sync.Mutex
	calls [][2]int64 // offset and length
}

func (f *fetchLog) FetchBackground(off, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]int64{off, n})
}

// openFetchLogged converts the raw disk to a qcow2 image of 4 KiB
// clusters (an L2 table a 2 MiB of disk) and opens it through a fetchLog;
// f is the qcow2 file.
func openFetchLogged(t *testing.T, raw string) (img *image.Image, log *fetchLog, f *os.File) {
	t.Helper()
	f, err := os.Open(fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{ClusterSize: 4096}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	log = &fetchLog{ReaderAt: f}
	if img, err = image.OpenReader(log, st.Size(), "disk.qcow2"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img, log, f
}

// TestQCOW2FetchesL2Tables opens, through a reader that can fetch in the
// background, a qcow2 image of 4 KiB clusters (an L2 table a 2 MiB of
// disk) with data in nine places: every L2 table its L1 table names is
// asked for, those near each other in the file with one call of at most
// 4 MiB, and the image reads the same.
func TestQCOW2FetchesL2Tables(t *testing.T) {
	t.Parallel()
	raw := filepath.Join(t.TempDir(), "disk.raw")
	want := make([]byte, 40<<20)
	for i := range 9 {
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		for j := range 5000 {
			want[i*(4<<20)+12345+j] = byte(rng.Uint32())
		}
	}
	if err := os.WriteFile(raw, want, 0o644); err != nil {
		t.Fatal(err)
	}
	img, log, f := openFetchLogged(t, raw)
	st, _ := f.Stat()

	// The L2 tables the L1 table names (header: l1_size at 36, its
	// offset at 40).
	head := make([]byte, 48)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	l1 := make([]byte, 8*binary.BigEndian.Uint32(head[36:]))
	if _, err := f.ReadAt(l1, int64(binary.BigEndian.Uint64(head[40:]))); err != nil {
		t.Fatal(err)
	}
	var tables []int64
	for i := 0; i < len(l1); i += 8 {
		if off := int64(binary.BigEndian.Uint64(l1[i:]) & 0x00fffffffffffe00); off != 0 {
			tables = append(tables, off)
		}
	}
	if len(tables) < 9 {
		t.Fatalf("the fixture has %d L2 tables, want 9", len(tables))
	}
	for _, tb := range tables {
		in := 0
		for _, c := range log.calls {
			if tb >= c[0] && tb+4096 <= c[0]+c[1] {
				in++
			}
		}
		if in != 1 {
			t.Errorf("L2 table at %d is in %d background fetches %v, want one", tb, in, log.calls)
		}
	}
	for _, c := range log.calls {
		if c[1] > 4<<20 || c[0]+c[1] > st.Size() {
			t.Errorf("background fetch %v: over 4 MiB or past the end of the file", c)
		}
	}
	if len(log.calls) >= len(tables) {
		t.Errorf("%d background fetches for %d tables: neighbours not fetched together", len(log.calls), len(tables))
	}
	got := make([]byte, len(want))
	if _, err := img.ReadAt(got, 0); err != nil || string(got) != string(want) {
		t.Fatalf("reading the disk: %v, or it differs", err)
	}
}

// TestQCOW2FetchesL2TablesBounded: an image of 4 KiB clusters with 40 KiB
// of data in each of a hundred 2 MiB regions (an L2 table each, too far
// apart in the file to share a request) asks for at most 32 background
// fetches, not one per table.
func TestQCOW2FetchesL2TablesBounded(t *testing.T) {
	t.Parallel()
	raw := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 40<<10)
	for i := range data {
		data[i] = byte(i*7 + 1)
	}
	for i := range 100 {
		if _, err := f.WriteAt(data, int64(i)<<21); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	img, log, _ := openFetchLogged(t, raw)
	if n := len(log.calls); n == 0 || n > 32 {
		t.Errorf("%d background fetches, want 1 to 32", n)
	}
	got := make([]byte, len(data))
	if _, err := img.ReadAt(got, 99<<21); err != nil || string(got) != string(data) {
		t.Fatalf("reading the last region: %v, or it differs", err)
	}
}
