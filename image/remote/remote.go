package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// openProbe is how many bytes the request that opens an object asks for;
// the answer also fills the first cache blocks. 512 KiB hold a partition
// table, and the header, tables and first L2 table and data clusters of
// a qcow2 image as qemu-img convert lays it out, so that the next reads
// start at the partitions.
const openProbe = 8 * blockSize

// A source fetches byte ranges of one object.
type source interface {
	// get asks for the n bytes at off and returns the body with the range
	// the server says it holds. The first call pins the object's version;
	// later calls send it as a precondition and fail with ErrChanged when
	// the object is no longer that version.
	get(ctx context.Context, off, n int64) (io.ReadCloser, contentRange, error)
	op() string
}

// Stats counts an Object's traffic.
type Stats struct {
	Requests int64 // requests sent, retries and the opening one included
	Retries  int64 // requests that repeated a failed one
	Bytes    int64 // body bytes received
	Size     int64 // the object's size
}

// Ratio returns the bytes received per byte of the object, 0 for an
// empty object.
func (s Stats) Ratio() float64 {
	if s.Size <= 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.Size)
}

// An Object is a remote object read in place: an io.ReaderAt whose ReadAt
// is safe for concurrent use.
type Object struct {
	name   string
	size   int64
	src    source
	o      *options
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	bg     chan struct{} // the background fetches holding or awaiting a request slot
	cache  *blockCache

	requests, retries, bytes atomic.Int64
	closed                   atomic.Bool
}

// errClosed is what reads of a closed Object return.
var errClosed = errors.New("remote: read of a closed object")

// Open opens the object at rawURL, an http://, https:// or s3://bucket/key
// URL, with one range request that learns its size and pins its version.
// ctx bounds every request the Object makes, and Close cancels them.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Object, error) {
	o := makeOptions(opts)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("remote: bad URL %q", Redact(rawURL))
	}
	var src source
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		src = newHTTPSource(u, o)
	case "s3":
		if src, err = newS3Source(ctx, u, o); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("remote: unsupported URL scheme %q (want http, https or s3)", u.Scheme)
	}
	ctx, cancel := context.WithCancel(ctx)
	obj := &Object{name: Redact(rawURL), src: src, o: o, ctx: ctx, cancel: cancel, sem: make(chan struct{}, o.parallel), bg: make(chan struct{}, backgroundFetches)}
	tail := make(chan tailData, 1)
	go func() { tail <- obj.probeTail() }()
	first, total, err := obj.probe()
	if err != nil {
		cancel()
		<-tail
		return nil, err
	}
	obj.size = total
	obj.cache = newBlockCache(total, o.cacheBytes, obj.fetch)
	obj.cache.seed(first)
	if t := <-tail; t.total == total {
		obj.cache.seedTail(t.data, t.start)
	}
	return obj, nil
}

// tailProbe is how many bytes at the object's end the opening asks for
// beside its start, in a request of its own sent at the same time: where
// a GPT keeps its backup and a VHD its footer.
const tailProbe = 2 * blockSize

// tailData is the answer to the tail probe: data from start on, in an
// object of total bytes (-1 when there is no usable answer).
type tailData struct {
	data         []byte
	start, total int64
}

// probeTail asks once for the last tailProbe bytes of the object. It is a
// guess made to save a round trip: any failure is ignored, and a read
// that needs those bytes fetches them.
func (obj *Object) probeTail() tailData {
	ctx, cancel := context.WithTimeout(obj.ctx, obj.o.timeout)
	defer cancel()
	obj.requests.Add(1)
	body, cr, err := obj.src.get(ctx, -1, tailProbe)
	if err != nil {
		return tailData{total: -1}
	}
	defer body.Close()
	if cr.end != cr.total-1 || cr.end-cr.start+1 != min(tailProbe, cr.total) {
		return tailData{total: -1}
	}
	buf := make([]byte, cr.end-cr.start+1)
	if err := obj.readBody(ctx, body, buf); err != nil {
		return tailData{total: -1}
	}
	return tailData{buf, cr.start, cr.total}
}

// probe makes the opening request: the first openProbe bytes, or fewer
// in a smaller object. It returns them and the object's size.
func (obj *Object) probe() ([]byte, int64, error) {
	var data []byte
	var total int64
	err := obj.retry(-1, func(ctx context.Context) error {
		body, cr, err := obj.src.get(ctx, 0, openProbe)
		if err != nil {
			return err
		}
		defer body.Close()
		if cr.start != 0 || cr.total < 0 || cr.end >= cr.total || cr.end-cr.start+1 != min(openProbe, cr.total) {
			return fmt.Errorf("%w: asked for bytes 0-%d, got %s", ErrBadResponse, openProbe-1, cr)
		}
		buf := make([]byte, cr.end+1)
		if err := obj.readBody(ctx, body, buf); err != nil {
			return err
		}
		data, total = buf, cr.total
		return nil
	})
	return data, total, err
}

// Name returns the object's URL, redacted.
func (obj *Object) Name() string { return obj.name }

// Size returns the object's size in bytes, as seen at open.
func (obj *Object) Size() int64 { return obj.size }

// Stats returns the traffic so far.
func (obj *Object) Stats() Stats {
	return Stats{Requests: obj.requests.Load(), Retries: obj.retries.Load(), Bytes: obj.bytes.Load(), Size: obj.size}
}

// Close cancels the Object's requests; reads after Close fail.
func (obj *Object) Close() error {
	obj.closed.Store(true)
	obj.cancel()
	return nil
}

// ReadAt reads len(p) bytes at off through the block cache.
func (obj *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("remote: %s: read at negative offset %d", obj.name, off)
	}
	if obj.closed.Load() {
		return 0, errClosed
	}
	if off >= obj.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := p[:min(int64(len(p)), obj.size-off)]
	if err := obj.cache.read(want, off); err != nil {
		return 0, err
	}
	if len(want) < len(p) {
		return len(want), io.EOF
	}
	return len(p), nil
}

// backgroundFetches bounds the background fetches that hold or await a
// request slot at once, so that the reads that wait for data always find
// most of the slots theirs.
const backgroundFetches = 2

// FetchBackground fetches the n bytes at off into the cache in the
// background, behind the reads: at most two such fetches hold or await a
// request slot at once, the others wait their turn without taking one.
// It returns at once. Errors are dropped: a read that needs the bytes
// fetches them itself. A reader that knows where it will read next (the
// tables of a container format) calls it to save a round trip later.
func (obj *Object) FetchBackground(off, n int64) {
	off, end := max(off, 0), min(off+n, obj.size)
	if end <= off || obj.closed.Load() {
		return
	}
	go func() {
		select {
		case obj.bg <- struct{}{}:
		case <-obj.ctx.Done():
			return
		}
		defer func() { <-obj.bg }()
		obj.cache.load(off, end-off)
	}()
}

// fetch reads the n bytes at off with one request (retried), waiting for
// a free request slot first.
func (obj *Object) fetch(off, n int64) ([]byte, error) {
	select {
	case obj.sem <- struct{}{}:
	case <-obj.ctx.Done():
		return nil, &Error{Op: obj.src.op(), Name: obj.name, Offset: off, Err: obj.ctx.Err()}
	}
	defer func() { <-obj.sem }()
	buf := make([]byte, n)
	if err := obj.fetchInto(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}

// fetchInto fills buf from off with one request, retried.
func (obj *Object) fetchInto(buf []byte, off int64) error {
	n := int64(len(buf))
	return obj.retry(off, func(ctx context.Context) error {
		body, cr, err := obj.src.get(ctx, off, n)
		if err != nil {
			return err
		}
		defer body.Close()
		switch {
		case cr.total != obj.size:
			return fmt.Errorf("%w: size was %d at open, is %d now", ErrChanged, obj.size, cr.total)
		case cr.start != off || cr.end != off+n-1:
			return fmt.Errorf("%w: asked for bytes %d-%d, got %s", ErrBadResponse, off, off+n-1, cr)
		}
		return obj.readBody(ctx, body, buf)
	})
}

// readBody fills buf from body, counting the bytes received. A body cut
// short is worth a retry.
func (obj *Object) readBody(ctx context.Context, body io.Reader, buf []byte) error {
	n, err := io.ReadFull(body, buf)
	obj.bytes.Add(int64(n))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return transient(fmt.Errorf("body ends after %d of %d bytes: %w", n, len(buf), err))
	}
	return nil
}

// retry runs attempt, each time under its own timeout, until it succeeds,
// fails for good, or has been retried o.retries times; it waits
// o.backoff, doubled each time and jittered, between attempts. The error
// is an *Error naming the object and off.
func (obj *Object) retry(off int64, attempt func(ctx context.Context) error) error {
	wait := obj.o.backoff
	for i := 0; ; i++ {
		obj.requests.Add(1)
		ctx, cancel := context.WithTimeout(obj.ctx, obj.o.timeout)
		err := attempt(ctx)
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			return nil
		}
		if timedOut && obj.ctx.Err() == nil {
			err = transient(fmt.Errorf("no answer within %v", obj.o.timeout))
		}
		if obj.ctx.Err() != nil || !retryable(err) || i >= obj.o.retries {
			if i > 0 && retryable(err) {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, i+1)
			}
			e := &Error{Op: obj.src.op(), Name: obj.name, Offset: off, Err: err}
			if se, ok := errors.AsType[*statusError](err); ok {
				e.Status = se.code
			}
			return e
		}
		obj.retries.Add(1)
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-t.C:
		case <-obj.ctx.Done():
			t.Stop()
		}
		wait *= 2
	}
}

// Redact returns rawURL fit to print: without a password, a query string
// (a presigned URL's signature) or a fragment.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.RawQuery != "" || u.ForceQuery
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	s := u.String()
	if q {
		s += "?…"
	}
	return s
}
