package remote_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/imgcheck/imgcheck/image/remote"
)

// fakeS3 is an in-process S3 server holding bucket "builds". It counts
// the GetObject requests and notes whether any was signed without the
// SPACES_KEY the test set.
type fakeS3 struct {
	url      string
	backend  *s3mem.Backend
	gets     atomic.Int64
	unsigned atomic.Bool
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	if err := f.backend.CreateBucket("builds"); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(f.backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !strings.HasPrefix(r.Header.Get("Range"), "bytes=-") {
			f.gets.Add(1) // but for Open's tail probe
		}
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=TESTKEY/") {
			f.unsigned.Store(true)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	// Credentials come from the Spaces variables, never from the host.
	t.Setenv("SPACES_KEY", "TESTKEY")
	t.Setenv("SPACES_SECRET", "TESTSECRET")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	return f
}

func (f *fakeS3) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if _, err := f.backend.PutObject("builds", key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

// TestS3ReadsRanges reads an object through s3:// against gofakes3 with
// an endpoint and region set, as for DigitalOcean Spaces.
func TestS3ReadsRanges(t *testing.T) {
	f := newFakeS3(t)
	data := noise(3<<20+99, 9)
	f.put(t, "app/disk.img", data)
	obj := open(t, "s3://builds/app/disk.img", remote.WithS3Endpoint(f.url), remote.WithS3Region("nyc3"))
	if obj.Size() != int64(len(data)) || obj.Name() != "s3://builds/app/disk.img" {
		t.Fatalf("Size %d, Name %q", obj.Size(), obj.Name())
	}
	for _, off := range []int64{0, 100, 1<<20 + 5, int64(len(data)) - 1000} {
		p := make([]byte, 1000)
		if _, err := obj.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+1000]) {
			t.Fatalf("ReadAt(%d): %v, or content differs", off, err)
		}
	}
	if got, want := obj.Stats().Requests, f.gets.Load()+1; got != want || got > 5 {
		t.Errorf("Stats.Requests = %d, server saw %d GETs and the tail probe; want at most 5", got, want)
	}
	if f.unsigned.Load() {
		t.Error("a request was not signed with SPACES_KEY")
	}
}

// TestS3ObjectReplaced overwrites the object after it is opened: the next
// read must fail with ErrChanged.
func TestS3ObjectReplaced(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "disk.img", noise(2<<20, 10))
	obj := open(t, "s3://builds/disk.img", remote.WithS3Endpoint(f.url))
	f.put(t, "disk.img", noise(2<<20, 11))
	_, err := obj.ReadAt(make([]byte, 10), 1<<20)
	if !errors.Is(err, remote.ErrChanged) {
		t.Fatalf("read after overwrite: %v, want ErrChanged", err)
	}
}

// TestS3Missing opens a key that does not exist: a 404 error, not
// retried, that prints neither key nor secret.
func TestS3Missing(t *testing.T) {
	f := newFakeS3(t)
	_, err := remote.Open(t.Context(), "s3://builds/nope.img", append(fast, remote.WithS3Endpoint(f.url))...)
	e, ok := errors.AsType[*remote.Error](err)
	if !ok || e.Status != http.StatusNotFound {
		t.Fatalf("Open: %v, want an *Error with status 404", err)
	}
	if f.gets.Load() != 1 {
		t.Errorf("%d GETs, want 1", f.gets.Load())
	}
	if strings.Contains(err.Error(), "TESTSECRET") {
		t.Errorf("error %q prints the secret", err)
	}
}
