package imgcheck

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/image/remote"
)

// Options say how Open reads a target.
type Options struct {
	// Root opens the target as a guest root directory (--root) instead of
	// an image.
	Root bool
	// AllowBacking follows qcow2 backing files beside the image.
	AllowBacking bool
	// TempDir is where compressed uploads are expanded; "" for the
	// system's temporary directory.
	TempDir string
	// MaxExpand caps what a compressed upload may expand to; 0 for the
	// image package's default.
	MaxExpand int64
	// Progress, when set, hears how far the expansion of a compressed
	// upload has got (compressed bytes done of total, -1 if unknown).
	Progress func(done, total int64)
	// Remote are the settings for images given as URLs.
	Remote RemoteOptions
	// Limits bound the work of reading the containers and partition table.
	Limits image.Limits
	// Guest are the options of the guest view (symlink hops, directory
	// entries, block cache).
	Guest []fsinspect.Option
}

// RemoteOptions are the settings for images given as http(s):// or s3://
// URLs.
type RemoteOptions struct {
	S3Endpoint string // S3 API URL for s3:// images
	S3Region   string // S3 region; "" for the AWS config's, else us-east-1
	// Download fetches the object whole into a temporary file when it
	// cannot be read in place (compressed, or ranges are ignored).
	Download bool
	Parallel int // requests at once per object; 0 for the default
	// RequestTimeout bounds one attempt of one request (a download: the
	// wait for its next bytes); 0 for the default. Retries is how many
	// times a failed request is retried: 0 for the default, negative for
	// none. The whole scan of the image stays under its own deadline (the
	// ctx).
	RequestTimeout time.Duration
	Retries        int
}

// An OpenError is a target the operating system or the network would not
// open at all: missing, unreadable, a directory, an unreachable URL.
type OpenError struct {
	Path string // the target as displayed (URLs redacted)
	Err  error
}

func (e *OpenError) Error() string { return e.Err.Error() }
func (e *OpenError) Unwrap() error { return e.Err }

// A Target is an opened image or guest root directory.
type Target struct {
	path   string
	isRoot bool
	img    *image.Image      // nil for a directory
	obj    *remote.Object    // the object of an image given as a URL, else nil
	layout *fsinspect.Layout // nil for a directory
	dir    *fsinspect.Dir    // the directory backend
	guest  *fsinspect.Guest  // nil when no root filesystem could be read
	// noGuest says why guest is nil.
	noGuest error
}

// Open opens path read-only: an image file, an http(s):// or s3:// URL,
// or with o.Root a guest root directory. A target that cannot be opened at
// all is an *OpenError; one whose container or partition table cannot be
// read is another error. A readable disk without a readable root
// filesystem opens: GuestErr says why, and only the disk rules decide.
func Open(ctx context.Context, path string, o Options) (*Target, error) {
	if o.Root {
		d, err := fsinspect.OpenDir(path)
		if err != nil {
			return nil, &OpenError{path, err}
		}
		return &Target{path: path, isRoot: true, dir: d, guest: fsinspect.NewLiveGuest(d, o.guestOptions(ctx)...)}, nil
	}
	opts := []image.Option{image.WithContext(ctx), image.WithBacking(o.AllowBacking), image.WithLimits(o.Limits)}
	if o.TempDir != "" {
		opts = append(opts, image.WithTempDir(o.TempDir))
	}
	if o.MaxExpand > 0 {
		opts = append(opts, image.WithMaxExpand(o.MaxExpand))
	}
	if o.Progress != nil {
		opts = append(opts, image.WithProgress(o.Progress))
	}
	img, obj, err := openImage(ctx, path, o.Remote, opts)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok && (pe.Op == "open" || pe.Op == "stat") {
			return nil, &OpenError{path, pe.Err}
		}
		return nil, err
	}
	t := &Target{path: path, img: img, obj: obj}
	gopts := o.guestOptions(ctx)
	if obj != nil {
		// Over the network every lookup is a round trip: start the
		// ones every scan makes at once, side by side.
		gopts = append(gopts, fsinspect.WithWarm(fsinspect.WarmDirs...), fsinspect.WithWarmFiles(fsinspect.WarmFiles...), fsinspect.WithReadAhead())
	}
	t.guest, t.layout, t.noGuest = fsinspect.OpenImage(img, gopts...)
	if t.layout == nil || t.layout.Table == nil {
		img.Close()
		if t.noGuest == nil {
			t.noGuest = errors.New("no partition table")
		}
		return nil, t.noGuest
	}
	return t, nil
}

// guestOptions are o.Guest with the table limits the guest's partition
// reading applies, and ctx: once it is done, guest reads fail, so a scan
// past its deadline stops reading.
func (o Options) guestOptions(ctx context.Context) []fsinspect.Option {
	return append([]fsinspect.Option{fsinspect.WithTableLimits(o.Limits), fsinspect.WithContext(ctx)}, o.Guest...)
}

// Guest returns the guest view, nil when no root filesystem could be read.
func (t *Target) Guest() *fsinspect.Guest { return t.guest }

// GuestErr says why Guest is nil.
func (t *Target) GuestErr() error { return t.noGuest }

// Image returns the disk image, nil for a directory.
func (t *Target) Image() *image.Image { return t.img }

// Layout returns how the guest was assembled from the disk, nil for a
// directory.
func (t *Target) Layout() *fsinspect.Layout { return t.layout }

// IsRoot reports whether the target is a guest root directory.
func (t *Target) IsRoot() bool { return t.isRoot }

// Name is the target as reports show it: the path, or a URL without its
// password and query string.
func (t *Target) Name() string { return DisplayName(t.path) }

// Close releases the image or directory.
func (t *Target) Close() error {
	if t.img != nil {
		return t.img.Close()
	}
	if t.dir != nil {
		return t.dir.Close()
	}
	return nil
}

// IsRemote reports whether a target names an object to read over the
// network: an http://, https:// or s3:// URL.
func IsRemote(path string) bool {
	p := strings.ToLower(path)
	return strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "s3://")
}

// DisplayName is a target fit for reports: a URL without its password or
// query string (a presigned URL's signature), a path as given.
func DisplayName(path string) string {
	if IsRemote(path) {
		return remote.Redact(path)
	}
	return path
}

// openImage opens a local file through image.Open, or a URL in place over
// the network. The Object is returned for its traffic counters (nil for a
// local file); the Image closes it. A compressed image at a URL, or one on
// a server that ignores range requests, is refused unless Download asked
// to stream it whole into a temporary file. An object that cannot be
// reached, or is compressed without Download, is an *OpenError.
func openImage(ctx context.Context, path string, o RemoteOptions, opts []image.Option) (*image.Image, *remote.Object, error) {
	if !IsRemote(path) {
		img, err := image.Open(path, opts...)
		return img, nil, err
	}
	ro := []remote.Option{remote.WithParallel(o.Parallel), remote.WithS3Endpoint(o.S3Endpoint), remote.WithS3Region(o.S3Region)}
	if o.Retries != 0 {
		ro = append(ro, remote.WithRetries(max(o.Retries, 0)))
	}
	if o.RequestTimeout > 0 {
		ro = append(ro, remote.WithTimeout(o.RequestTimeout))
	}
	obj, err := remote.Open(ctx, path, ro...)
	if errors.Is(err, remote.ErrRangeIgnored) && o.Download {
		img, err := fetchWhole(ctx, path, ro, opts)
		return img, nil, err
	}
	if err != nil {
		return nil, nil, &OpenError{DisplayName(path), err}
	}
	img, err := image.OpenReader(obj, obj.Size(), obj.Name(), opts...)
	switch {
	case errors.Is(err, image.ErrStreamOnly) && o.Download:
		img, err = image.OpenStream(obj.Stream(), obj.Size(), obj.Name(), opts...)
		obj.Close()
	case errors.Is(err, image.ErrStreamOnly):
		err = &OpenError{DisplayName(path), err}
	}
	if err != nil {
		obj.Close()
		return nil, nil, err
	}
	return img, obj, nil
}

// fetchWhole downloads the image at path with one plain GET, for a server
// that ignores range requests, and opens the copy.
func fetchWhole(ctx context.Context, path string, ro []remote.Option, opts []image.Option) (*image.Image, error) {
	body, size, err := remote.Fetch(ctx, path, ro...)
	if err != nil {
		return nil, &OpenError{DisplayName(path), err}
	}
	defer body.Close()
	return image.OpenStream(body, size, DisplayName(path), opts...)
}
