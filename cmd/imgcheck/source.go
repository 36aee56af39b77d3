package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/image/remote"
	"github.com/imgcheck/imgcheck/rules/report"
)

// sourceIdentifier tells what an image file or object is right now (its
// size and ETag, or size and modification time), so that --resume can
// tell a result that is still current from a stale one.
type sourceIdentifier struct {
	remote imgcheck.RemoteOptions
	http   *http.Client

	once  sync.Once
	s3    *s3.Client
	s3Err error
}

func newSourceIdentifier(ro imgcheck.RemoteOptions) *sourceIdentifier {
	return &sourceIdentifier{remote: ro, http: &http.Client{Timeout: 30 * time.Second}}
}

// identify returns the identity of target, or nil when it cannot be
// had (the scan then says why the target cannot be read).
func (si *sourceIdentifier) identify(ctx context.Context, target string) *report.Source {
	switch {
	case strings.HasPrefix(strings.ToLower(target), "s3://"):
		return si.identifyS3(ctx, target)
	case imgcheck.IsRemote(target):
		return si.identifyHTTP(ctx, target)
	}
	st, err := os.Stat(target)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	return &report.Source{Size: st.Size(), ModTime: st.ModTime().UTC().Format(time.RFC3339Nano)}
}

func (si *sourceIdentifier) identifyHTTP(ctx context.Context, target string) *report.Source {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, target, nil)
	if err != nil {
		return nil
	}
	resp, err := si.http.Do(req)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength < 0 {
		return nil
	}
	src := &report.Source{Size: resp.ContentLength, ETag: resp.Header.Get("ETag")}
	if src.ETag == "" {
		src.ModTime = resp.Header.Get("Last-Modified")
		if t, err := http.ParseTime(src.ModTime); err == nil {
			src.ModTime = t.UTC().Format(time.RFC3339Nano)
		} else {
			src.ModTime = ""
		}
	}
	return src
}

func (si *sourceIdentifier) identifyS3(ctx context.Context, target string) *report.Source {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil
	}
	si.once.Do(func() {
		si.s3, si.s3Err = remote.S3Client(ctx, remote.WithS3Endpoint(si.remote.S3Endpoint), remote.WithS3Region(si.remote.S3Region))
	})
	if si.s3Err != nil {
		return nil
	}
	out, err := si.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.Host), Key: aws.String(strings.TrimPrefix(u.Path, "/"))})
	if err != nil || out.ContentLength == nil {
		return nil
	}
	return &report.Source{Size: *out.ContentLength, ETag: aws.ToString(out.ETag)}
}

// resumeFrom returns the --resume check of a plan: target pos is done
// when its JSONL result in the store names the same image and the same
// source (size and ETag or modification time).
func resumeFrom(store resultStore, p *scanPlan) func(ctx context.Context, pos int, src *report.Source) (report.Line, bool) {
	return func(ctx context.Context, pos int, src *report.Source) (report.Line, bool) {
		data, err := store.get(ctx, p.names[pos]+formatExt["jsonl"])
		if err != nil {
			return report.Line{}, false
		}
		var lines []report.Line
		if err := report.ReadResults(bytes.NewReader(data), func(l report.Line) error {
			lines = append(lines, l)
			return nil
		}); err != nil || len(lines) != 1 {
			return report.Line{}, false
		}
		l := lines[0]
		if l.Source == nil || *l.Source != *src || l.Image.Path != imgcheck.DisplayName(p.targets[pos]) {
			return report.Line{}, false
		}
		return l, true
	}
}
