package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/image/remote"
)

// noise returns n deterministic pseudo-random bytes.
func noise(n int, seed byte) []byte {
	rng := rand.New(rand.NewChaCha8([32]byte{seed}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// An object is what a test server serves: its bytes and ETag, which a
// test may replace while a client reads.
type object struct {
	mu   sync.Mutex
	data []byte
	etag string
	mod  time.Time
}

func (o *object) get() ([]byte, string, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.data, o.etag, o.mod
}

func (o *object) replace(data []byte, etag string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data, o.etag, o.mod = data, etag, o.mod.Add(time.Hour)
}

// A server is an httptest server of one object through http.ServeContent,
// which honours Range, If-Match and If-Unmodified-Since. It counts the
// requests, the body bytes it wrote and the most requests in flight.
type server struct {
	*httptest.Server
	obj             *object
	requests, bytes atomic.Int64
	tails           atomic.Int64 // requests for the object's last bytes (Open's tail probe)
	inFlight, peak  atomic.Int64
	// before, when set, may answer a request itself (returning true).
	before func(w http.ResponseWriter, r *http.Request, n int64) bool
	// hold delays every answer, so that concurrent requests overlap.
	hold time.Duration
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

func (w countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newServer(t *testing.T, data []byte, configure ...func(*server)) *server {
	t.Helper()
	s := &server{obj: &object{data: data, etag: `"v1"`, mod: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	for _, c := range configure {
		c(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Range"), "bytes=-") {
			// The tail probe Open sends beside its first request is
			// a guess: counted apart, never failed.
			s.tails.Add(1)
			data, etag, mod := s.obj.get()
			w.Header().Set("ETag", etag)
			http.ServeContent(countingWriter{w, &s.bytes}, r, "disk.img", mod, bytes.NewReader(data))
			return
		}
		n := s.requests.Add(1)
		cur := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			p := s.peak.Load()
			if cur <= p || s.peak.CompareAndSwap(p, cur) {
				break
			}
		}
		if s.hold > 0 {
			time.Sleep(s.hold)
		}
		cw := countingWriter{w, &s.bytes}
		if s.before != nil && s.before(cw, r, n) {
			return
		}
		data, etag, mod := s.obj.get()
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		http.ServeContent(cw, r, "disk.img", mod, bytes.NewReader(data))
	}))
	t.Cleanup(s.Close)
	return s
}

// fast keeps retries quick in tests.
var fast = []remote.Option{remote.WithBackoff(time.Millisecond), remote.WithTimeout(10 * time.Second)}

func open(t *testing.T, url string, opts ...remote.Option) *remote.Object {
	t.Helper()
	obj, err := remote.Open(t.Context(), url, append(append([]remote.Option{}, fast...), opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { obj.Close() })
	return obj
}

// TestReadAtMatchesObject reads the object at many offsets and lengths,
// from several goroutines, and compares every byte.
func TestReadAtMatchesObject(t *testing.T) {
	data := noise(5<<20+12345, 1)
	s := newServer(t, data)
	obj := open(t, s.URL+"/disk.img", remote.WithCacheSize(1<<20))
	if obj.Size() != int64(len(data)) {
		t.Fatalf("Size = %d, want %d", obj.Size(), len(data))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 60 {
				off := rng.Int64N(int64(len(data)))
				n := rng.IntN(300 << 10)
				p := make([]byte, n)
				m, err := obj.ReadAt(p, off)
				want := data[off:min(off+int64(n), int64(len(data)))]
				if m != len(want) || !bytes.Equal(p[:m], want) {
					errs <- fmt.Errorf("ReadAt(%d, %d) = %d bytes, %v; content differs or short", n, off, m, err)
					return
				}
				if (m < n) != (err == io.EOF) {
					errs <- fmt.Errorf("ReadAt(%d, %d) = %d, %v: want io.EOF exactly for a short read", n, off, m, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := obj.Stats()
	if st.Requests != s.requests.Load()+s.tails.Load() || st.Bytes != s.bytes.Load() {
		t.Errorf("Stats = %+v; server saw %d requests and %d tail probes, wrote %d bytes", st, s.requests.Load(), s.tails.Load(), s.bytes.Load())
	}
	if _, err := obj.ReadAt(make([]byte, 1), obj.Size()); err != io.EOF {
		t.Errorf("ReadAt at the end: %v, want io.EOF", err)
	}
	if _, err := obj.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
}

// TestSequentialReadsCoalesce reads 4 MiB in 64 KiB steps: the read-ahead
// window must merge them into a handful of requests, and fetch little
// beyond what was read.
func TestSequentialReadsCoalesce(t *testing.T) {
	data := noise(16<<20, 2)
	s := newServer(t, data)
	obj := open(t, s.URL)
	const step, total = 64 << 10, 4 << 20
	p := make([]byte, step)
	for off := int64(0); off < total; off += step {
		if _, err := obj.ReadAt(p, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, data[off:off+step]) {
			t.Fatalf("content differs at %d", off)
		}
	}
	st := obj.Stats()
	if st.Requests > 12 {
		t.Errorf("%d requests for %d sequential reads, want at most 12", st.Requests, total/step)
	}
	if st.Bytes > total+1<<20 {
		t.Errorf("%d bytes received for %d read: read-ahead overshoots by more than 1 MiB", st.Bytes, total)
	}
	// A random read far away is not read ahead.
	before := obj.Stats().Bytes
	if _, err := obj.ReadAt(p[:100], 12<<20+5); err != nil {
		t.Fatal(err)
	}
	if got := obj.Stats().Bytes - before; got != 64<<10 {
		t.Errorf("a 100-byte random read fetched %d bytes, want one 64 KiB block", got)
	}
}

// TestParallelRequestsBounded reads scattered blocks from many goroutines
// and checks that the server never sees more than WithParallel requests
// at once.
func TestParallelRequestsBounded(t *testing.T) {
	data := noise(8<<20, 3)
	s := newServer(t, data, func(s *server) { s.hold = 20 * time.Millisecond })
	obj := open(t, s.URL, remote.WithParallel(2))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			p := make([]byte, 10)
			off := int64(g)*(512<<10) + 300<<10
			if _, err := obj.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+10]) {
				t.Errorf("ReadAt at %d: %v", off, err)
			}
		})
	}
	wg.Wait()
	if p := s.peak.Load(); p > 2 {
		t.Errorf("server saw %d requests at once, want at most 2", p)
	}
	// One large read is split into requests of at most 4 MiB.
	big := open(t, s.URL, remote.WithParallel(2))
	p := make([]byte, 7<<20)
	if _, err := big.ReadAt(p, 1<<20); err != nil || !bytes.Equal(p, data[1<<20:]) {
		t.Fatalf("large ReadAt: %v", err)
	}
	if r := big.Stats().Requests; r < 3 {
		t.Errorf("a 7 MiB read took %d requests (with the opening one), want it split", r)
	}
}

// TestRangeIgnoredRefused serves a huge body with 200 OK whatever the
// Range: Open must refuse it and close the connection, so the server
// cannot write more than a few socket buffers.
func TestRangeIgnoredRefused(t *testing.T) {
	const huge = 4 << 30
	s := newServer(t, nil, func(s *server) {
		s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			w.Header().Set("Content-Length", fmt.Sprint(huge))
			w.WriteHeader(http.StatusOK)
			chunk := make([]byte, 64<<10)
			for n := 0; n < huge; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return true
				}
			}
			return true
		}
	})
	_, err := remote.Open(t.Context(), s.URL+"/big.img", fast...)
	if !errors.Is(err, remote.ErrRangeIgnored) {
		t.Fatalf("Open: %v, want ErrRangeIgnored", err)
	}
	for _, want := range []string{"200 OK", "4294967296 bytes", "--download"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	s.CloseClientConnections()
	s.Close() // waits for the handler, which ends when its writes fail
	if n := s.bytes.Load(); n > 32<<20 {
		t.Errorf("server wrote %d bytes before the client hung up, want only socket buffers", n)
	}
	if r := s.requests.Load(); r != 1 {
		t.Errorf("%d requests, want 1: a refusal is not retried", r)
	}
}

// TestObjectReplacedMidScan replaces the object (new ETag) after it is
// opened: the next read must fail with ErrChanged, whether the server
// honours If-Match (412) or ignores it and only the ETag tells.
func TestObjectReplacedMidScan(t *testing.T) {
	for _, tc := range []struct {
		name        string
		honourMatch bool
		etag        string // of the replacement; "" for none (Last-Modified only)
		size        int    // of the replacement
	}{
		{"if-match honoured", true, `"v2"`, 2 << 20},
		{"if-match ignored", false, `"v2"`, 2 << 20},
		{"resized", false, `"v1"`, 3 << 20},
		{"last-modified only", true, "", 2 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := noise(2<<20, 4)
			s := newServer(t, data, func(s *server) {
				if tc.etag == "" {
					s.obj.etag = ""
				}
				if !tc.honourMatch {
					s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
						r.Header.Del("If-Match")
						r.Header.Del("If-Unmodified-Since")
						return false
					}
				}
			})
			obj := open(t, s.URL)
			p := make([]byte, 1000)
			if _, err := obj.ReadAt(p, 1<<20); err != nil {
				t.Fatalf("read before the change: %v", err)
			}
			s.obj.replace(noise(tc.size, 5), tc.etag)
			_, err := obj.ReadAt(p, 1<<20+300<<10)
			if !errors.Is(err, remote.ErrChanged) {
				t.Fatalf("read after the change: %v, want ErrChanged", err)
			}
			if e, ok := errors.AsType[*remote.Error](err); !ok || e.Offset != 1<<20+256<<10 {
				t.Errorf("error %#v does not name the block's offset", err)
			}
		})
	}
}

// TestTransientFailuresRetried fails requests in several ways before
// answering: every read must succeed after retries.
func TestTransientFailuresRetried(t *testing.T) {
	data := noise(3<<20, 6)
	for _, tc := range []struct {
		name string
		fail func(w http.ResponseWriter, r *http.Request)
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }},
		{"429", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }},
		{"connection reset", func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		}},
		{"body cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes "+strings.TrimPrefix(r.Header.Get("Range"), "bytes=")+"/"+fmt.Sprint(len(data)))
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[:1000])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, data, func(s *server) {
				s.before = func(w http.ResponseWriter, r *http.Request, n int64) bool {
					if n%3 != 0 { // two failures, then an answer
						tc.fail(w, r)
						return true
					}
					return false
				}
			})
			obj := open(t, s.URL)
			p := make([]byte, 200<<10)
			for _, off := range []int64{0, 1 << 20, 2<<20 + 77} {
				if _, err := obj.ReadAt(p[:min(len(p), len(data)-int(off))], off); err != nil {
					t.Fatalf("ReadAt(%d): %v", off, err)
				}
				if !bytes.Equal(p[:min(len(p), len(data)-int(off))], data[off:min(off+int64(len(p)), int64(len(data)))]) {
					t.Fatalf("content differs at %d", off)
				}
			}
			// net/http itself resends a request whose reused
			// connection was reset, so not every failure is ours to
			// retry; the opening one's two are.
			if st := obj.Stats(); st.Retries < 2 {
				t.Errorf("Stats = %+v, want the failures retried", st)
			}
		})
	}
}

// TestFailuresGiveUp checks that persistent failures end in an error
// naming the status, after the allowed retries (5xx) or at once (4xx),
// and that a stalled server times out instead of hanging.
func TestFailuresGiveUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		requests int64
	}{
		{"always 500", http.StatusInternalServerError, 3},
		{"forbidden", http.StatusForbidden, 1},
		{"not found", http.StatusNotFound, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, nil, func(s *server) {
				s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
					w.WriteHeader(tc.status)
					return true
				}
			})
			_, err := remote.Open(t.Context(), s.URL+"/x.img?X-Amz-Signature=SECRETSIG", append(fast, remote.WithRetries(2))...)
			e, ok := errors.AsType[*remote.Error](err)
			if !ok || e.Status != tc.status {
				t.Fatalf("Open: %v, want an *Error with status %d", err, tc.status)
			}
			if strings.Contains(err.Error(), "SECRETSIG") {
				t.Errorf("error %q prints the URL's signature", err)
			}
			if !strings.Contains(err.Error(), "/x.img?…") {
				t.Errorf("error %q does not name the object", err)
			}
			if got := s.requests.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
	t.Run("stalled", func(t *testing.T) {
		s := newServer(t, nil, func(s *server) {
			s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
				<-r.Context().Done()
				return true
			}
		})
		_, err := remote.Open(t.Context(), s.URL, remote.WithTimeout(50*time.Millisecond), remote.WithRetries(1), remote.WithBackoff(time.Millisecond))
		if err == nil || !strings.Contains(err.Error(), "no answer within") {
			t.Fatalf("Open of a stalled server: %v", err)
		}
		if got := s.requests.Load(); got != 2 {
			t.Errorf("%d requests, want 2 (one retry)", got)
		}
	})
}

// TestBadResponsesRefused answers with a range other than the one asked
// for, or a compressed body: both are refused, not retried.
func TestBadResponsesRefused(t *testing.T) {
	data := noise(1<<20, 7)
	for _, tc := range []struct {
		name string
		fix  func(w http.ResponseWriter, r *http.Request)
	}{
		{"wrong range", func(w http.ResponseWriter, r *http.Request) { r.Header.Set("Range", "bytes=100-1000") }},
		{"no content-range", func(w http.ResponseWriter, r *http.Request) { r.Header.Set("Range", "bytes=0-10,20-30") }},
		{"gzip encoding", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Content-Encoding", "gzip") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, data, func(s *server) {
				s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool { tc.fix(w, r); return false }
			})
			_, err := remote.Open(t.Context(), s.URL, fast...)
			if !errors.Is(err, remote.ErrBadResponse) {
				t.Fatalf("Open: %v, want ErrBadResponse", err)
			}
			if got := s.requests.Load(); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
		})
	}
}

// TestStreamReadsWholeObject downloads the object through Stream.
func TestStreamReadsWholeObject(t *testing.T) {
	data := noise(20<<20+3, 8)
	s := newServer(t, data)
	obj := open(t, s.URL)
	got, err := io.ReadAll(obj.Stream())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Stream: %d bytes, %v", len(got), err)
	}
	// The opening's probes of the start and the end (640 KiB) come on
	// top of the download.
	if r := obj.Stats().Ratio(); r < 1 || r > 1.01+float64(640<<10)/float64(len(data)) {
		t.Errorf("ratio after a download %.3f, want 1 plus the opening's probes", r)
	}
}

func TestOpenRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://host/x.img", "s3://bucket", "s3:///key", "http://[::1"} {
		if _, err := remote.Open(context.Background(), u); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
	_, err := remote.Open(context.Background(), "http://127.0.0.1:1/x.img?sig=SECRET", remote.WithRetries(0))
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Open of a closed port: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@host/a/b.img?X-Amz-Signature=abc#frag": "https://user@host/a/b.img?…",
		"s3://bucket/key.qcow2":                                 "s3://bucket/key.qcow2",
		"http://host/x":                                         "http://host/x",
	} {
		if got := remote.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFetchWhole downloads an object with one plain GET from a server
// that ignores ranges, and gives up on a server that stops sending.
func TestFetchWhole(t *testing.T) {
	data := noise(3<<20, 12)
	s := newServer(t, data, func(s *server) {
		s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			r.Header.Del("Range")
			return false
		}
	})
	body, size, err := remote.Fetch(t.Context(), s.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil || size != int64(len(data)) || !bytes.Equal(got, data) {
		t.Fatalf("Fetch: %d bytes of %d, %v", len(got), size, err)
	}

	stall := newServer(t, nil, func(s *server) {
		s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			w.Header().Set("Content-Length", "1000000")
			w.Write(make([]byte, 1000))
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
			return true
		}
	})
	body, _, err = remote.Fetch(t.Context(), stall.URL, remote.WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := io.ReadAll(body); err == nil || !strings.Contains(err.Error(), "no data for") {
		t.Errorf("Fetch of a stalled body: %v", err)
	}
	gone := newServer(t, nil, func(s *server) {
		s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			w.WriteHeader(http.StatusNotFound)
			return true
		}
	})
	if _, _, err := remote.Fetch(t.Context(), gone.URL+"/x?sig=SECRET"); err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "404") {
		t.Errorf("Fetch of a missing object: %v", err)
	}
}

// TestFailedFetchNotCached fails every request after the opening one, then
// recovers: readers waiting on the failed fetch get its error, and a
// later read of the same blocks fetches them again.
func TestFailedFetchNotCached(t *testing.T) {
	data := noise(2<<20, 13)
	var failing atomic.Bool
	s := newServer(t, data, func(s *server) {
		s.hold = 5 * time.Millisecond
		s.before = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			if failing.Load() {
				w.WriteHeader(http.StatusBadGateway)
				return true
			}
			return false
		}
	})
	obj := open(t, s.URL, remote.WithRetries(1))
	failing.Store(true)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 4 {
		wg.Go(func() {
			if _, err := obj.ReadAt(make([]byte, 100), 1<<20); err != nil {
				failed.Add(1)
				if e, ok := errors.AsType[*remote.Error](err); !ok || e.Status != http.StatusBadGateway {
					t.Errorf("ReadAt: %v, want a 502 *Error", err)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() != 4 {
		t.Errorf("%d of 4 readers failed, want all", failed.Load())
	}
	failing.Store(false)
	p := make([]byte, 100)
	if _, err := obj.ReadAt(p, 1<<20); err != nil || !bytes.Equal(p, data[1<<20:1<<20+100]) {
		t.Errorf("ReadAt after recovery: %v", err)
	}
}

// TestOpenReadsTail checks that Open asks for the object's last bytes
// beside its first ones, at once, and that reads there are then served
// without another request.
func TestOpenReadsTail(t *testing.T) {
	data := noise(3<<20+4321, 14)
	s := newServer(t, data)
	obj := open(t, s.URL)
	if s.tails.Load() != 1 {
		t.Fatalf("%d tail requests at open, want 1", s.tails.Load())
	}
	before := s.requests.Load()
	p := make([]byte, 64<<10)
	off := int64(len(data) - len(p))
	if _, err := obj.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:]) {
		t.Fatalf("ReadAt(%d): %v, or content differs", off, err)
	}
	if got := s.requests.Load() - before; got != 0 {
		t.Errorf("reading the last 64 KiB took %d requests, want 0", got)
	}
}

// TestFetchBackground fetches six scattered blocks in the background from
// a slow server, then reads one more block and the six: though eight
// requests may run at once, no more than two background ones do, the read
// does not queue behind the other four, the six are read from the cache, and a closed Object
// fetches nothing.
func TestFetchBackground(t *testing.T) {
	data := noise(8<<20, 9)
	var mu sync.Mutex
	order := map[string]int64{} // the Range of each request, and its number
	s := newServer(t, data, func(s *server) {
		s.hold = 200 * time.Millisecond // long enough that no third background fetch starts before the read, however loaded the machine
		s.before = func(w http.ResponseWriter, r *http.Request, n int64) bool {
			mu.Lock()
			order[r.Header.Get("Range")] = n
			mu.Unlock()
			return false
		}
	})
	obj := open(t, s.URL)
	opened := obj.Stats().Requests // the opening request and the tail probe
	for i := range int64(6) {
		obj.FetchBackground(1<<20+i*(1<<20), 1000)
	}
	p := make([]byte, 10)
	if _, err := obj.ReadAt(p, 7<<20+5); err != nil || !bytes.Equal(p, data[7<<20+5:7<<20+15]) {
		t.Fatalf("ReadAt: %v, or wrong data", err)
	}
	mu.Lock()
	n := order[fmt.Sprintf("bytes=%d-%d", 7<<20, 7<<20+64<<10-1)]
	mu.Unlock()
	if n == 0 || n > 4 {
		t.Errorf("the read was request %d, want at most the 4th (the opening one, two background ones, then it)", n)
	}
	for deadline := time.Now().Add(10 * time.Second); obj.Stats().Requests < opened+1+6; {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests: the background fetches did not all run", obj.Stats().Requests)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p := s.peak.Load(); p > 3 {
		t.Errorf("server saw %d requests at once, want at most 3 (two in the background)", p)
	}
	before := obj.Stats().Requests
	for i := range int64(6) {
		off := 1<<20 + i*(1<<20)
		if _, err := obj.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+10]) {
			t.Fatalf("ReadAt(%d): %v, or wrong data", off, err)
		}
	}
	if got := obj.Stats().Requests - before; got != 0 {
		t.Errorf("reading the blocks fetched in the background took %d requests", got)
	}
	obj.Close()
	obj.FetchBackground(5<<20+100<<10, 1000)
	time.Sleep(100 * time.Millisecond)
	if got := obj.Stats().Requests - before; got != 0 {
		t.Errorf("a closed Object fetched in the background: %d requests", got)
	}
}
