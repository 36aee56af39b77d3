package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// demoSize is the virtual size of the demo disk of `make demo`.
const demoSize = 25 << 30

// demoDisk builds (or reuses) the demo disk: a 25 GiB sparse GPT disk
// with a BIOS boot partition and an ext4 root filling the rest.
func demoDisk(tb testing.TB) string {
	tb.Helper()
	root := fixtures.MustExt4(tb, fixtures.DemoTree(), fixtures.Ext4Options{Size: demoSize - 3<<20, Label: fixtures.DemoRootLabel, UUID: fixtures.DemoRootUUID})
	return fixtures.MustDisk(tb, fixtures.Layout{DiskSize: demoSize, Parts: []fixtures.Part{
		{Type: "bios-boot", Size: 1 << 20, Name: "bios"},
		{Type: "linux", Image: root, Size: fixtures.Rest, Name: "root"},
	}})
}

// byteServer serves path with http.ServeContent and counts the body
// bytes and the requests.
type byteServer struct {
	*httptest.Server
	bytes, requests atomic.Int64
}

func newByteServer(tb testing.TB, path string) *byteServer {
	tb.Helper()
	s := &byteServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, "gone", http.StatusNotFound)
			return
		}
		defer f.Close()
		st, _ := f.Stat()
		w.Header().Set("ETag", `"demo"`)
		http.ServeContent(countBody{w, &s.bytes}, r, "demo", st.ModTime(), f)
	}))
	tb.Cleanup(s.Close)
	return s
}

type countBody struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countBody) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

// TestScanURLDemoTransfer scans the 25 GiB demo disk, raw and as qcow2,
// over loopback HTTP: each scan must agree with the local one and move
// under 32 MiB.
func TestScanURLDemoTransfer(t *testing.T) {
	raw := demoDisk(t)
	for name, path := range map[string]string{"raw": raw, "qcow2": fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})} {
		t.Run(name, func(t *testing.T) {
			s := newByteServer(t, path)
			url := s.URL + "/demo"
			lout, _, lcode := runCmd(t, "scan", "--color", "never", path)
			rout, rerr, rcode := runCmd(t, "scan", "--color", "never", url)
			if rcode != lcode || normalize(rout, map[string]string{url: "IMAGE"}) != normalize(lout, map[string]string{path: "IMAGE"}) {
				t.Errorf("scan over HTTP: exit %d (local %d), stderr %q, %s", rcode, lcode, rerr, firstDiff(rout, lout))
			}
			if n := s.bytes.Load(); n >= 32<<20 {
				t.Errorf("scan of the 25 GiB disk transferred %d bytes in %d requests, want under 32 MiB", n, s.requests.Load())
			}
			t.Logf("transferred %d bytes in %d requests", s.bytes.Load(), s.requests.Load())
		})
	}
}

// BenchmarkScanDemo scans the 25 GiB demo disk, raw and as qcow2, locally
// and over loopback HTTP, reporting the bytes and requests that crossed
// the network; the target is under 32 MiB, in at most three times
// the local time.
func BenchmarkScanDemo(b *testing.B) {
	raw := demoDisk(b)
	for _, kind := range []string{"raw", "qcow2"} {
		path := raw
		if kind == "qcow2" {
			path = fixtures.MustQCOW2(b, raw, fixtures.QCOW2Options{})
		}
		b.Run(kind+"/local", func(b *testing.B) {
			for b.Loop() {
				if code := run([]string{"scan", path}, io.Discard, io.Discard); code > 1 {
					b.Fatalf("exit %d", code)
				}
			}
		})
		b.Run(kind+"/http", func(b *testing.B) {
			s := newByteServer(b, path)
			for b.Loop() {
				if code := run([]string{"scan", s.URL + "/demo"}, io.Discard, io.Discard); code > 1 {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(s.bytes.Load())/float64(b.N)/(1<<20), "MiB-transferred/op")
			b.ReportMetric(float64(s.requests.Load())/float64(b.N), "requests/op")
		})
	}
}
