package remote

import (
	"net/http"
	"time"
)

// Defaults of an Object's options. Sixteen requests at once rather than
// eight: a scan's read-ahead (directories, files, inode tables) fills
// eight slots just as the reads the rules wait for start, and on a real
// Debian disk at 50 ms a request the scan took 11 round trips instead
// of 9.
const (
	DefaultParallel  = 16
	DefaultRetries   = 4
	DefaultTimeout   = 60 * time.Second
	DefaultBackoff   = 200 * time.Millisecond
	DefaultCacheSize = 16 << 20
)

// An Option changes how Open reaches and reads an object.
type Option func(*options)

type options struct {
	parallel   int
	retries    int
	timeout    time.Duration
	backoff    time.Duration
	cacheBytes int64
	client     *http.Client
	s3Endpoint string
	s3Region   string
}

// makeOptions applies opts over the defaults; out-of-range values keep
// the defaults.
func makeOptions(opts []Option) *options {
	o := &options{parallel: DefaultParallel, retries: DefaultRetries, timeout: DefaultTimeout, backoff: DefaultBackoff, cacheBytes: DefaultCacheSize}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithParallel bounds how many requests run at once (n >= 1).
func WithParallel(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.parallel = n
		}
	}
}

// WithRetries sets how many times a failed request is retried (n >= 0).
func WithRetries(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.retries = n
		}
	}
}

// WithTimeout bounds one attempt of one request, its body included (d > 0).
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithBackoff sets the wait before the first retry; it doubles for each
// further one (d > 0).
func WithBackoff(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.backoff = d
		}
	}
}

// WithCacheSize bounds the bytes the block cache holds (n > 0).
func WithCacheSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.cacheBytes = n
		}
	}
}

// WithHTTPClient sets the client for http:// and https:// URLs (and for
// the S3 API); nil keeps a client with proxies from the environment.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithS3Endpoint sets the S3 API endpoint for s3:// URLs, such as
// https://nyc3.digitaloceanspaces.com; "" means AWS.
func WithS3Endpoint(url string) Option { return func(o *options) { o.s3Endpoint = url } }

// WithS3Region sets the S3 region; "" takes it from the environment or
// the shared config, else "us-east-1".
func WithS3Region(region string) Option { return func(o *options) { o.s3Region = region } }
