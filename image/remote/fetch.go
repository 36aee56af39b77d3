package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Fetch downloads the object at rawURL whole, with one plain GET (or
// GetObject), for a server that ignores range requests and a download
// asked for on purpose. It returns the body and the object's size (-1
// when the server does not say). The body fails when no byte arrives for
// the WithTimeout duration; closing it ends the request.
func Fetch(ctx context.Context, rawURL string, opts ...Option) (io.ReadCloser, int64, error) {
	o := makeOptions(opts)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, 0, fmt.Errorf("remote: bad URL %q", Redact(rawURL))
	}
	ctx, cancel := context.WithCancel(ctx)
	var body io.ReadCloser
	size := int64(-1)
	fail := func(err error) (io.ReadCloser, int64, error) {
		cancel()
		return nil, 0, &Error{Op: "GET", Name: Redact(rawURL), Offset: -1, Err: err}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return fail(err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := newHTTPSource(u, o).client.Do(req)
		if err != nil {
			if ue, ok := err.(*url.Error); ok {
				err = ue.Err
			}
			return fail(err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fail(statusErr(resp.StatusCode, ""))
		}
		body, size = resp.Body, resp.ContentLength
	case "s3":
		src, err := newS3Source(ctx, u, o)
		if err != nil {
			cancel()
			return nil, 0, err
		}
		out, err := src.client.GetObject(ctx, src.input(""))
		if err != nil {
			return fail(s3Err(err))
		}
		body = out.Body
		if out.ContentLength != nil {
			size = *out.ContentLength
		}
	default:
		cancel()
		return nil, 0, fmt.Errorf("remote: unsupported URL scheme %q (want http, https or s3)", u.Scheme)
	}
	return newIdleReader(body, o.timeout, cancel), size, nil
}

// An idleReader cancels its request when no byte arrives for idle, and
// when it is closed.
type idleReader struct {
	r      io.ReadCloser
	idle   time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	once   sync.Once
}

func newIdleReader(r io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *idleReader {
	return &idleReader{r: r, idle: idle, timer: time.AfterFunc(idle, cancel), cancel: cancel}
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.idle)
	}
	if err != nil && err != io.EOF && !r.timer.Stop() {
		return n, fmt.Errorf("no data for %v: %w", r.idle, err)
	}
	return n, err
}

func (r *idleReader) Close() error {
	r.once.Do(func() {
		r.timer.Stop()
		r.cancel()
	})
	return r.r.Close()
}
