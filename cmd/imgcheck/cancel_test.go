package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTimeoutCancelsRemoteRequests: when --timeout gives up on an image at
// a URL, its pending HTTP request is cancelled, not left to run on.
func TestTimeoutCancelsRemoteRequests(t *testing.T) {
	cancelled := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- struct{}{}
		case <-time.After(30 * time.Second):
		}
	}))
	defer srv.Close()
	url := srv.URL + "/slow.raw"
	_, stderr, code := runCmd(t, "scan", "--timeout", "1s", url)
	if code != 3 || !strings.Contains(stderr, "timed out after 1s") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the request outlived the image's timeout")
	}
}
