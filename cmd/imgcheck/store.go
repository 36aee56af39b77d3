package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/image/remote"
)

// maxResultObject caps a result file or object read back (--resume,
// report inputs).
const maxResultObject = 256 << 20

// A resultStore is where --output-dir puts reports: a local directory or
// an S3 prefix. Names are plain file names ("disk.qcow2.jsonl").
type resultStore interface {
	put(ctx context.Context, name string, data []byte) error
	// get returns the named result, or an error wrapping fs.ErrNotExist.
	get(ctx context.Context, name string) ([]byte, error)
	// list returns the names of the results at the top of the store.
	list(ctx context.Context) ([]string, error)
	String() string
}

// openStore opens --output-dir DIR or s3://bucket/prefix; a directory is
// created.
func openStore(ctx context.Context, dir string, ro imgcheck.RemoteOptions, create bool) (resultStore, error) {
	if strings.HasPrefix(strings.ToLower(dir), "s3://") {
		return openS3Store(ctx, dir, ro)
	}
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return dirStore(dir), nil
}

// dirStore is a local directory.
type dirStore string

func (d dirStore) String() string { return string(d) }

// put writes the file under a temporary name and renames it, so a
// reader (or a resumed run) never sees half a report.
func (d dirStore) put(_ context.Context, name string, data []byte) error {
	tmp, err := os.CreateTemp(string(d), "."+name+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(string(d), name))
}

func (d dirStore) get(_ context.Context, name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(string(d), name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCappedFrom(f, filepath.Join(string(d), name))
}

func (d dirStore) list(context.Context) ([]string, error) {
	ents, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// s3Store is a prefix of an S3 bucket, through image/remote's client.
type s3Store struct {
	client         *s3.Client
	bucket, prefix string // prefix is "" or ends in "/"
}

func openS3Store(ctx context.Context, dir string, ro imgcheck.RemoteOptions) (*s3Store, error) {
	bucket, prefix, ok := strings.Cut(strings.TrimPrefix(dir[len("s3://"):], "/"), "/")
	if bucket == "" || !ok && strings.Contains(dir[len("s3://"):], "/") {
		return nil, usagef("%s: want s3://bucket/prefix", dir)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	client, err := remote.S3Client(ctx, remote.WithS3Endpoint(ro.S3Endpoint), remote.WithS3Region(ro.S3Region))
	if err != nil {
		return nil, err
	}
	return &s3Store{client: client, bucket: bucket, prefix: prefix}, nil
}

func (s *s3Store) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// putAttempts is how often a result object is sent before the error
// counts: the client's own retries are off.
const putAttempts = 4

// put writes one object; PutObject replaces it whole, so a reader never
// sees half a report. A failed attempt is retried after 0.5 s, 1 s, 2 s.
func (s *s3Store) put(ctx context.Context, name string, data []byte) error {
	var err error
	for attempt := range putAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s%s: %w", s, name, ctx.Err())
			case <-time.After(250 * time.Millisecond << attempt):
			}
		}
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + name), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String(contentType(name))})
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("%s%s: %w", s, name, err)
}

func (s *s3Store) get(ctx context.Context, name string) ([]byte, error) {
	return getS3Object(ctx, s.client, s.bucket, s.prefix+name)
}

func (s *s3Store) list(ctx context.Context) ([]string, error) {
	var names []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &s.prefix, Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		for _, o := range page.Contents {
			names = append(names, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	return names, nil
}

// getS3Object reads a whole object, at most maxResultObject bytes; a
// missing one is an error wrapping os.ErrNotExist.
func getS3Object(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, os.ErrNotExist)
		}
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	return readCappedFrom(out.Body, "s3://"+bucket+"/"+key)
}

// readCappedFrom reads r whole, refusing more than maxResultObject bytes.
func readCappedFrom(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResultObject+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxResultObject {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxResultObject)
	}
	return data, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".json", ".sarif":
		return "application/json"
	case ".jsonl":
		return "application/jsonl"
	case ".xml":
		return "application/xml"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}
