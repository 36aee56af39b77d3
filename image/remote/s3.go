package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// defaultS3Region is the region used when none is configured; S3
// compatible stores such as DigitalOcean Spaces accept it.
const defaultS3Region = "us-east-1"

// An s3Source reads an object with S3 GetObject range requests.
type s3Source struct {
	client      *s3.Client
	bucket, key string

	mu     sync.Mutex // guards the version below: open sends two requests at once
	pinned bool
	etag   string
}

// newS3Source makes a client for s3://bucket/key.
func newS3Source(ctx context.Context, u *url.URL, o *options) (*s3Source, error) {
	bucket, key := u.Host, strings.TrimPrefix(u.Path, "/")
	if bucket == "" || key == "" {
		return nil, fmt.Errorf("remote: %s: want s3://bucket/key", Redact(u.String()))
	}
	client, err := s3Client(ctx, o)
	if err != nil {
		return nil, err
	}
	return &s3Source{client: client, bucket: bucket, key: key}, nil
}

// S3Client returns the S3 client s3:// images are read with, for callers
// that list, read or write other objects (result sets): the same
// credentials, endpoint and region (WithS3Endpoint, WithS3Region,
// WithHTTPClient).
func S3Client(ctx context.Context, opts ...Option) (*s3.Client, error) {
	return s3Client(ctx, makeOptions(opts))
}

// s3Client makes a client. Credentials come from SPACES_KEY and
// SPACES_SECRET (or SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY)
// when set, else from the AWS chain: AWS_* variables, ~/.aws, instance
// roles. The SDK's own retries are off (the Object retries) and so is its
// logging.
func s3Client(ctx context.Context, o *options) (*s3.Client, error) {
	load := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if o.s3Region != "" {
		load = append(load, config.WithRegion(o.s3Region))
	}
	if id, secret := spacesKeys(); id != "" {
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
	}
	if o.client != nil {
		load = append(load, config.WithHTTPClient(o.client))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("remote: S3 configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultS3Region
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.Retryer = aws.NopRetryer{}
		so.Logger = logging.Nop{}
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		so.DisableLogOutputChecksumValidationSkipped = true
		if o.s3Endpoint != "" {
			so.BaseEndpoint = aws.String(o.s3Endpoint)
			so.UsePathStyle = true
		}
	}), nil
}

// spacesKeys returns the DigitalOcean Spaces key pair from the
// environment, or "" when neither pair is complete.
func spacesKeys() (id, secret string) {
	for _, pair := range [][2]string{{"SPACES_KEY", "SPACES_SECRET"}, {"SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY"}} {
		if id, secret := os.Getenv(pair[0]), os.Getenv(pair[1]); id != "" && secret != "" {
			return id, secret
		}
	}
	return "", ""
}

func (s *s3Source) op() string { return "GetObject" }

// input is a GetObject request for rng ("" for the whole object).
func (s *s3Source) input(rng string) *s3.GetObjectInput {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &s.key}
	if rng != "" {
		in.Range = &rng
	}
	return in
}

func (s *s3Source) get(ctx context.Context, off, n int64) (io.ReadCloser, contentRange, error) {
	in := s.input(rangeHeader(off, n))
	s.mu.Lock()
	if s.pinned && s.etag != "" {
		in.IfMatch = aws.String(s.etag)
	}
	s.mu.Unlock()
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, contentRange{}, s3Err(err)
	}
	if out.ContentRange == nil {
		out.Body.Close()
		return nil, contentRange{}, fmt.Errorf("%w: it answered with the whole object (no Content-Range) to a request for bytes %d-%d; refusing to download it by accident", ErrRangeIgnored, off, off+n-1)
	}
	cr, err := parseContentRange(*out.ContentRange)
	if err != nil {
		out.Body.Close()
		return nil, contentRange{}, err
	}
	etag := aws.ToString(out.ETag)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pinned {
		s.pinned, s.etag = true, etag
	} else if s.etag != "" && etag != s.etag {
		out.Body.Close()
		return nil, contentRange{}, fmt.Errorf("%w: ETag was %s at open, is %s now", ErrChanged, s.etag, orNone(etag))
	}
	return out.Body, cr, nil
}

// s3Err keeps what an SDK error says, classified like an HTTP status;
// without a status (no answer), retryable decides from the cause.
func s3Err(err error) error {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		code := re.HTTPStatusCode()
		var text string
		var ae interface{ ErrorCode() string }
		if errors.As(err, &ae) {
			text = ae.ErrorCode()
		}
		if code == http.StatusRequestedRangeNotSatisfiable {
			text = "the object is empty or shrank"
		}
		return statusErr(code, text)
	}
	return err
}
