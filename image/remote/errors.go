package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
)

// Sentinel errors for errors.Is.
var (
	// ErrRangeIgnored reports a server that answers a range request with
	// the whole object.
	ErrRangeIgnored = errors.New("remote: server ignores range requests")
	// ErrChanged reports an object replaced or resized since it was opened.
	ErrChanged = errors.New("remote: object changed since it was opened")
	// ErrBadResponse reports a response that does not match its request.
	ErrBadResponse = errors.New("remote: response does not match the request")
)

// An Error is a failed request for part of an object.
type Error struct {
	Op     string // "GET", "GetObject"
	Name   string // the object, redacted
	Offset int64  // first byte asked for, -1 for the whole object
	Status int    // HTTP status when the server answered, else 0
	Err    error
}

// Error says what was asked, of which object, and what went wrong.
func (e *Error) Error() string {
	at := ""
	if e.Offset >= 0 {
		at = fmt.Sprintf(" at 0x%x", e.Offset)
	}
	return fmt.Sprintf("%s %s%s: %v", e.Op, e.Name, at, e.Err)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// A transientError is a failure worth retrying: a 5xx or 429 status, a
// timeout, a broken connection or a body cut short.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// transient marks err as worth retrying.
func transient(err error) error { return &transientError{err} }

// retryable reports whether err is worth another attempt: marked
// transient, a timeout of the attempt itself, or a network error. A
// cancelled parent context is never retried (the caller checks it).
func retryable(err error) bool {
	if _, ok := errors.AsType[*transientError](err); ok {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	_, ok := errors.AsType[net.Error](err)
	return ok
}
