package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/image/remote"
	"github.com/imgcheck/imgcheck/rules/report"
)

// addRemoteFlags registers the remote image flags on fs.
func addRemoteFlags(fs *pflag.FlagSet, o *imgcheck.RemoteOptions) {
	fs.StringVar(&o.S3Endpoint, "s3-endpoint", "", "S3 API `URL` for s3:// images, e.g. https://nyc3.digitaloceanspaces.com")
	fs.StringVar(&o.S3Region, "s3-region", "", "S3 `REGION` for s3:// images (default from the AWS config, else us-east-1)")
	fs.BoolVar(&o.Download, "download", false, "download an image given as a URL whole, to a temporary file, when it cannot be read in place (compressed, or the server ignores ranges)")
	fs.IntVar(&o.Parallel, "remote-parallel", remote.DefaultParallel, "at most `N` requests at once per image given as a URL")
	fs.DurationVar(&o.RequestTimeout, "remote-timeout", remote.DefaultTimeout, "give up on one attempt of one request (a download: on its next bytes) after `DURATION`; the image's --timeout bounds the whole")
	fs.IntVar(&o.Retries, "remote-retries", remote.DefaultRetries, "retry a failed request `N` times")
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
