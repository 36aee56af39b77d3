package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// A statusError is an HTTP status other than 206 Partial Content.
type statusError struct {
	code int
	text string
}

func (e *statusError) Error() string {
	if e.text != "" {
		return fmt.Sprintf("%d %s: %s", e.code, http.StatusText(e.code), e.text)
	}
	return fmt.Sprintf("%d %s", e.code, http.StatusText(e.code))
}

// statusErr classifies an unexpected status: 5xx, 408 and 429 are worth a
// retry, 412 means the object changed, anything else is final.
func statusErr(code int, text string) error {
	e := &statusError{code, text}
	switch {
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("%w (%v)", ErrChanged, e)
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return transient(e)
	}
	return e
}

// An httpSource reads an object with HTTP range requests.
type httpSource struct {
	url    string // the full URL, presigned query and all: never printed
	client *http.Client

	mu           sync.Mutex // guards the version below: open sends two requests at once
	pinned       bool
	etag         string
	lastModified string
}

func newHTTPSource(u *url.URL, o *options) *httpSource {
	c := o.client
	if c == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = o.parallel
		// A redirect keeps the Range header; Go's client carries it over.
		c = &http.Client{Transport: t}
	}
	return &httpSource{url: u.String(), client: c}
}

func (h *httpSource) op() string { return "GET" }

func (h *httpSource) get(ctx context.Context, off, n int64) (io.ReadCloser, contentRange, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return nil, contentRange{}, errors.New("cannot make a request for this URL")
	}
	req.Header.Set("Range", rangeHeader(off, n))
	// Ranges count stored bytes: no transparent compression.
	req.Header.Set("Accept-Encoding", "identity")
	h.mu.Lock()
	pinned := h.pinned
	if pinned {
		if h.etag != "" && !strings.HasPrefix(h.etag, "W/") {
			req.Header.Set("If-Match", h.etag)
		} else if h.lastModified != "" {
			req.Header.Set("If-Unmodified-Since", h.lastModified)
		}
	}
	h.mu.Unlock()
	resp, err := h.client.Do(req)
	if err != nil {
		// A *url.Error prints the URL, signature and all: keep its cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, contentRange{}, transient(err)
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		// Close at once: reading on would download the whole object.
		resp.Body.Close()
		size := "an unknown number of"
		if resp.ContentLength >= 0 {
			size = fmt.Sprint(resp.ContentLength)
		}
		return nil, contentRange{}, fmt.Errorf("%w: it answered 200 OK with the whole object (%s bytes) to a request for bytes %d-%d; refusing to download it by accident (pass --download to fetch it whole on purpose)", ErrRangeIgnored, size, off, off+n-1)
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		if !pinned {
			return nil, contentRange{}, statusErr(resp.StatusCode, "the object is empty")
		}
		return nil, contentRange{}, fmt.Errorf("%w: %d %s (the object shrank?)", ErrChanged, resp.StatusCode, http.StatusText(resp.StatusCode))
	default:
		resp.Body.Close()
		return nil, contentRange{}, statusErr(resp.StatusCode, "")
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		resp.Body.Close()
		return nil, contentRange{}, fmt.Errorf("%w: body sent with Content-Encoding %q, whose ranges are not the object's", ErrBadResponse, enc)
	}
	cr, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		resp.Body.Close()
		return nil, contentRange{}, err
	}
	if err := h.check(resp.Header); err != nil {
		resp.Body.Close()
		return nil, contentRange{}, err
	}
	return resp.Body, cr, nil
}

// check pins the version at the first response and compares later ones
// with it, for servers that ignore the preconditions.
func (h *httpSource) check(hdr http.Header) error {
	etag, lm := hdr.Get("ETag"), hdr.Get("Last-Modified")
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.pinned {
		h.pinned, h.etag, h.lastModified = true, etag, lm
		return nil
	}
	switch {
	case h.etag != "" && etag != h.etag:
		return fmt.Errorf("%w: ETag was %s at open, is %s now", ErrChanged, h.etag, orNone(etag))
	case h.etag == "" && h.lastModified != "" && lm != h.lastModified:
		return fmt.Errorf("%w: Last-Modified was %s at open, is %s now", ErrChanged, h.lastModified, orNone(lm))
	}
	return nil
}

// rangeHeader is the Range of a request for the n bytes at off, or for
// the last n bytes of the object when off is negative.
func rangeHeader(off, n int64) string {
	if off < 0 {
		return fmt.Sprintf("bytes=-%d", n)
	}
	return fmt.Sprintf("bytes=%d-%d", off, off+n-1)
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}
