package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/imgcheck/imgcheck"
)

// TestS3StoreRetriesPuts: a result object survives two failed PUTs (the
// store retries; the SDK's retries are off), reads back, lists under its
// prefix only, and a missing one is fs.ErrNotExist for --resume.
func TestS3StoreRetriesPuts(t *testing.T) {
	backend := s3mem.New()
	backend.CreateBucket("audits")
	h := gofakes3.New(backend).Server()
	var puts, failed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && puts.Add(1) <= 2 {
			failed.Add(1)
			http.Error(w, "slow down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("SPACES_KEY", "TESTKEY")
	t.Setenv("SPACES_SECRET", "TESTSECRET")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	st, err := openStore(t.Context(), "s3://audits/run-1", imgcheck.RemoteOptions{S3Endpoint: srv.URL}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.put(t.Context(), "disk.raw.jsonl", []byte("{}\n")); err != nil {
		t.Fatalf("put after two 503s: %v", err)
	}
	if failed.Load() != 2 {
		t.Errorf("%d failed attempts, want 2", failed.Load())
	}
	// A sibling prefix; the listing must not see it.
	if _, err := backend.PutObject("audits", "other/x.jsonl", map[string]string{}, strings.NewReader("{}"), 2, nil); err != nil {
		t.Fatal(err)
	}
	if data, err := st.get(t.Context(), "disk.raw.jsonl"); err != nil || string(data) != "{}\n" {
		t.Errorf("get: %q, %v", data, err)
	}
	if names, err := st.list(t.Context()); err != nil || len(names) != 1 || names[0] != "disk.raw.jsonl" {
		t.Errorf("list: %v, %v", names, err)
	}
	if _, err := st.get(t.Context(), "nope.jsonl"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing object: %v, want os.ErrNotExist", err)
	}
}
