package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/image/remote"
	"github.com/imgcheck/imgcheck/rules/report"
)

// remoteOptions are the flags for images given as URLs.
type remoteOptions struct {
	s3Endpoint string
	s3Region   string
	download   bool
	parallel   int
}

// addRemoteFlags registers the remote image flags on fs.
func addRemoteFlags(fs *pflag.FlagSet, o *remoteOptions) {
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "S3 API `URL` for s3:// images, e.g. https://nyc3.digitaloceanspaces.com")
	fs.StringVar(&o.s3Region, "s3-region", "", "S3 `REGION` for s3:// images (default from the AWS config, else us-east-1)")
	fs.BoolVar(&o.download, "download", false, "download an image given as a URL whole, to a temporary file, when it cannot be read in place (compressed, or the server ignores ranges)")
	fs.IntVar(&o.parallel, "remote-parallel", remote.DefaultParallel, "at most `N` requests at once per image given as a URL")
}

// isRemote reports whether an image argument is a URL to read in place.
func isRemote(path string) bool {
	p := strings.ToLower(path)
	return strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "s3://")
}

// displayPath is an image argument fit for reports: a URL without its
// password or query string (a presigned URL's signature).
func displayPath(path string) string {
	if isRemote(path) {
		return remote.Redact(path)
	}
	return path
}

// openImage opens the image argument path: a local file through
// image.Open, or a URL read in place over the network. The Object is
// returned for its traffic counters (nil for a local file); the Image
// closes it. A compressed image at a URL, or one on a server that ignores
// range requests, is refused unless --download asked to stream it whole
// into a temporary file. An object that cannot
// be reached, or is compressed without --download, is an *openError.
func openImage(ctx context.Context, path string, o openOptions, opts []image.Option) (*image.Image, *remote.Object, error) {
	if !isRemote(path) {
		img, err := image.Open(path, opts...)
		return img, nil, err
	}
	ro := []remote.Option{remote.WithParallel(o.remote.parallel), remote.WithS3Endpoint(o.remote.s3Endpoint), remote.WithS3Region(o.remote.s3Region)}
	obj, err := remote.Open(ctx, path, ro...)
	if errors.Is(err, remote.ErrRangeIgnored) && o.remote.download {
		img, err := fetchWhole(ctx, path, ro, opts)
		return img, nil, err
	}
	if err != nil {
		return nil, nil, &openError{displayPath(path), err}
	}
	img, err := image.OpenReader(obj, obj.Size(), obj.Name(), opts...)
	switch {
	case errors.Is(err, image.ErrStreamOnly) && o.remote.download:
		img, err = image.OpenStream(obj.Stream(), obj.Size(), obj.Name(), opts...)
		obj.Close()
	case errors.Is(err, image.ErrStreamOnly):
		err = &openError{displayPath(path), err}
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
		return nil, &openError{displayPath(path), err}
	}
	defer body.Close()
	return image.OpenStream(body, size, displayPath(path), opts...)
}

// addRemoteStats adds the traffic of a remote image to s.
func addRemoteStats(s *report.Stats, obj *remote.Object) {
	if obj == nil {
		return
	}
	rs := obj.Stats()
	s.Requests, s.Transferred, s.ObjectSize = rs.Requests, rs.Bytes, rs.Size
}

// remoteStatsLine is the --stats text for a remote image's traffic, ""
// for a local one.
func remoteStatsLine(s report.Stats) string {
	if s.Requests == 0 {
		return ""
	}
	ratio := 0.0
	if s.ObjectSize > 0 {
		ratio = float64(s.Transferred) / float64(s.ObjectSize)
	}
	return fmt.Sprintf(", %d requests, %d bytes transferred (%.4f%% of the %d-byte object)", s.Requests, s.Transferred, 100*ratio, s.ObjectSize)
}
