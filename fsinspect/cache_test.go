package fsinspect

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// countingReader counts the calls and bytes that reach the source.
type countingReader struct {
	r            io.ReaderAt
	calls, bytes atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	n, err := c.r.ReadAt(p, off)
	c.bytes.Add(int64(n))
	return n, err
}

func randomData(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(b)
	return b
}

func TestCacheReadsMatchSource(t *testing.T) {
	data := randomData(5*CacheBlockSize + 123)
	c := NewCache(bytes.NewReader(data), int64(len(data)), 2*CacheBlockSize)
	if err := iotest.TestReader(io.NewSectionReader(c, 0, c.Size()), data); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ off, n int64 }{
		{0, 1}, {CacheBlockSize - 1, 2}, {3 * CacheBlockSize, 2 * CacheBlockSize}, {int64(len(data)) - 10, 10},
	} {
		buf := make([]byte, tc.n)
		if n, err := c.ReadAt(buf, tc.off); n != len(buf) || err != nil || !bytes.Equal(buf, data[tc.off:tc.off+tc.n]) {
			t.Errorf("ReadAt(%d, %d) = %d, %v", tc.off, tc.n, n, err)
		}
	}
	buf := make([]byte, 20)
	if n, err := c.ReadAt(buf, int64(len(data))-10); n != 10 || err != io.EOF {
		t.Errorf("ReadAt across the end = %d, %v; want 10, EOF", n, err)
	}
	if n, err := c.ReadAt(buf, int64(len(data))+1); n != 0 || err != io.EOF {
		t.Errorf("ReadAt past the end = %d, %v", n, err)
	}
	if _, err := c.ReadAt(buf, -1); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestCacheHitsAndEviction(t *testing.T) {
	data := randomData(8 * CacheBlockSize)
	src := &countingReader{r: bytes.NewReader(data)}
	c := NewCache(src, int64(len(data)), 2*CacheBlockSize)
	buf := make([]byte, 100)
	c.ReadAt(buf, 10)                // miss block 0
	c.ReadAt(buf, 20)                // hit
	c.ReadAt(buf, CacheBlockSize+5)  // miss block 1
	c.ReadAt(buf, 30)                // hit block 0, now most recent
	c.ReadAt(buf, 2*CacheBlockSize)  // miss block 2, evicts block 1
	c.ReadAt(buf, 40)                // hit block 0
	c.ReadAt(buf, CacheBlockSize+50) // miss block 1 again
	s := c.Stats()
	want := CacheStats{Hits: 3, Misses: 4, ReadCalls: 4, BytesRead: 4 * CacheBlockSize}
	if s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
	if src.calls.Load() != s.ReadCalls || src.bytes.Load() != s.BytesRead {
		t.Errorf("source saw %d calls, %d bytes; cache says %+v", src.calls.Load(), src.bytes.Load(), s)
	}
}

func TestCacheReadsRunsInOneCall(t *testing.T) {
	data := randomData(10 * CacheBlockSize)
	src := &countingReader{r: bytes.NewReader(data)}
	c := NewCache(src, int64(len(data)), 0)
	buf := make([]byte, 6*CacheBlockSize)
	if _, err := c.ReadAt(buf, CacheBlockSize/2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data[CacheBlockSize/2:][:len(buf)]) {
		t.Fatal("wrong data")
	}
	if s := c.Stats(); s.ReadCalls != 1 || s.Misses != 7 {
		t.Errorf("Stats = %+v; want one call for 7 blocks", s)
	}
}

func TestCacheConcurrent(t *testing.T) {
	data := randomData(16*CacheBlockSize + 77)
	src := &countingReader{r: bytes.NewReader(data)}
	c := NewCache(src, int64(len(data)), 4*CacheBlockSize)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 500 {
				off := r.Int64N(int64(len(data)))
				n := min(r.Int64N(3*CacheBlockSize), int64(len(data))-off)
				buf := make([]byte, n)
				if got, err := c.ReadAt(buf, off); int64(got) != n || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[off:off+n]) {
					errs <- errors.New("wrong data under concurrent use")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := c.Stats(); s.BytesRead != src.bytes.Load() || s.ReadCalls != src.calls.Load() {
		t.Errorf("Stats %+v disagree with the source (%d bytes, %d calls)", s, src.bytes.Load(), src.calls.Load())
	}
}

// TestCacheError: a failed read is returned, not cached, and retried.
func TestCacheError(t *testing.T) {
	data := randomData(2 * CacheBlockSize)
	fail := true
	r := readerFunc(func(p []byte, off int64) (int, error) {
		if fail {
			return 0, errors.New("I/O error")
		}
		return bytes.NewReader(data).ReadAt(p, off)
	})
	c := NewCache(r, int64(len(data)), 0)
	buf := make([]byte, 10)
	if _, err := c.ReadAt(buf, 0); err == nil {
		t.Fatal("error lost")
	}
	fail = false
	if _, err := c.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data[:10]) {
		t.Fatalf("retry after error = %v", err)
	}
	short := NewCache(bytes.NewReader(data[:100]), int64(len(data)), 0)
	if _, err := short.ReadAt(buf, 200); err == nil {
		t.Error("a source shorter than its size went unnoticed")
	}
}

type readerFunc func(p []byte, off int64) (int, error)

func (f readerFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

// TestCachePanickingSource: a source that panics does not leave its
// blocks claimed, so later reads retry instead of waiting forever.
func TestCachePanickingSource(t *testing.T) {
	data := randomData(CacheBlockSize)
	panicked := false
	c := NewCache(readerFunc(func(p []byte, off int64) (int, error) {
		if !panicked {
			panicked = true
			panic("source failed")
		}
		return bytes.NewReader(data).ReadAt(p, off)
	}), int64(len(data)), 0)
	buf := make([]byte, 10)
	func() {
		defer func() { recover() }()
		c.ReadAt(buf, 0)
	}()
	if !panicked {
		t.Fatal("the source was not called")
	}
	if _, err := c.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data[:10]) {
		t.Errorf("read after a panicking read = %v", err)
	}
}
