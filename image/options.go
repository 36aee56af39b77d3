package image

import "context"

// An Option changes how Open reads an image.
type Option func(*options)

type options struct {
	ctx          context.Context
	allowBacking bool
	tmpDir       string
	maxExpand    int64
	progress     func(done, total int64)
	limits       Limits
}

// makeOptions applies opts over the defaults: no deadline, no backing
// files, the system temporary directory, the opener's own expansion cap,
// no progress, DefaultLimits.
func makeOptions(opts []Option) *options {
	o := &options{ctx: context.Background(), limits: DefaultLimits()}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithContext bounds the slow part of opening, expanding a compressed
// upload or a download into a temporary file: once ctx is done the copy
// stops and Open fails with ctx's error. Reads of the opened Image do not
// watch ctx.
func WithContext(ctx context.Context) Option { return func(o *options) { o.ctx = ctx } }

// WithBacking allows (true) or refuses (false, the default) a qcow2 image
// that names a backing file.
func WithBacking(allow bool) Option { return func(o *options) { o.allowBacking = allow } }

// WithTempDir sets where a compressed upload is expanded; "" means
// os.TempDir.
func WithTempDir(dir string) Option { return func(o *options) { o.tmpDir = dir } }

// WithMaxExpand caps how many bytes a compressed upload may expand to;
// n <= 0 keeps the opener's default.
func WithMaxExpand(n int64) Option { return func(o *options) { o.maxExpand = n } }

// WithProgress sets a function called as a slow opener (decompression)
// advances; total is -1 when unknown.
func WithProgress(fn func(done, total int64)) Option { return func(o *options) { o.progress = fn } }
