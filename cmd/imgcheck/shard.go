package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/image/remote"
)

// A shard is one part of a batch split over n processes (--shard i/n, or a
// Kubernetes Indexed Job's JOB_COMPLETION_INDEX with --shard-count n).
// The zero shard is the whole batch.
type shard struct{ i, n int }

// parseShard reads "i/n", 0 <= i < n, as Kubernetes numbers the pods of
// an Indexed Job.
func parseShard(s string) (shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return shard{}, usagef("--shard %q: want i/n with 0 <= i < n (e.g. 3/16)", s)
	}
	return shard{i, n}, nil
}

// shardFor decides this process's shard: --shard, else JOB_COMPLETION_INDEX
// with --shard-count (or IMGCHECK_SHARD_COUNT), else the whole batch.
func (o *scanOptions) shardFor() (shard, error) {
	count := o.shardCount
	if count == 0 {
		if env := os.Getenv("IMGCHECK_SHARD_COUNT"); env != "" {
			n, err := strconv.Atoi(env)
			if err != nil || n < 1 {
				return shard{}, usagef("IMGCHECK_SHARD_COUNT=%q: want a positive number", env)
			}
			count = n
		}
	}
	if o.shard != "" {
		if o.shardCount != 0 {
			return shard{}, usagef("give --shard i/n or --shard-count n, not both")
		}
		return parseShard(o.shard)
	}
	if count == 0 {
		return shard{}, nil
	}
	idx, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
	if !ok {
		return shard{}, usagef("--shard-count %d needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or --shard i/n", count)
	}
	return parseShard(idx + "/" + strconv.Itoa(count))
}

// owns reports whether the shard scans target: every target belongs to
// exactly one shard, by a hash of its name, whatever the order of the list.
func (s shard) owns(target string) bool {
	if s.n <= 1 {
		return true
	}
	h := sha256.Sum256([]byte(target))
	return binary.BigEndian.Uint64(h[:8])%uint64(s.n) == uint64(s.i)
}

// suffix names the shard in batch file names ("-3of16"), "" for a whole batch.
func (s shard) suffix() string {
	if s.n <= 1 {
		return ""
	}
	return fmt.Sprintf("-%dof%d", s.i, s.n)
}

// batchName is the name of a format's batch file in --output-dir; each
// shard writes its own.
func (p *scanPlan) batchName(format string) string {
	name := batchFile[format]
	dot := strings.IndexByte(name, '.')
	return name[:dot] + p.shard.suffix() + name[dot:]
}

// readList reads the --from list: a file, "-" for stdin, or an
// s3://bucket/key object.
func (o *scanOptions) readList(ctx context.Context) ([]byte, error) {
	switch {
	case o.from == "-":
		return readCappedFrom(o.stdin, "stdin")
	case strings.HasPrefix(strings.ToLower(o.from), "s3://"):
		u, err := url.Parse(o.from)
		if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return nil, usagef("--from %s: want s3://bucket/key", imgcheck.DisplayName(o.from))
		}
		c, err := remote.S3Client(ctx, remote.WithS3Endpoint(o.remote.S3Endpoint), remote.WithS3Region(o.remote.S3Region))
		if err != nil {
			return nil, err
		}
		return getS3Object(ctx, c, u.Host, strings.TrimPrefix(u.Path, "/"))
	}
	f, err := os.Open(o.from)
	if err != nil {
		return nil, &usageError{err}
	}
	defer f.Close()
	return readCappedFrom(f, o.from)
}

// parseList returns the image names of a list: one per line, blank lines
// and # comments skipped.
func parseList(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
