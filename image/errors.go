package image

import (
	"errors"
	"strings"
)

// Sentinel errors that a *FormatError wraps, for errors.Is.
var (
	// ErrTruncated reports a structure or a read that runs past the end of
	// the image.
	ErrTruncated = errors.New("image: truncated")
	// ErrUnsupported reports a container or feature imgcheck refuses to
	// read rather than half-read.
	ErrUnsupported = errors.New("image: unsupported")
	// ErrChecksum reports a CRC or checksum mismatch.
	ErrChecksum = errors.New("image: checksum mismatch")
	// ErrFormat reports a malformed structure.
	ErrFormat = errors.New("image: malformed")
)

// A FormatError says what is wrong with an image and where. It prints as
// "qcow2: L1 table at 0x30000 runs past end of file (size 0x2000)".
type FormatError struct {
	Format string // container or table: "raw", "qcow2", "gpt", "mbr", ...
	Offset int64  // byte offset of the fault, -1 when it has none
	Reason string // what is wrong, naming the offset in human terms
	Err    error  // a sentinel such as ErrTruncated, or the underlying error
}

// Error returns Format and Reason joined by ": ", or Reason alone when it
// already starts with the format's name ("GPT header CRC mismatch ...").
func (e *FormatError) Error() string {
	if e.Format == "" || strings.HasPrefix(strings.ToLower(e.Reason), strings.ToLower(e.Format)+" ") {
		return e.Reason
	}
	return e.Format + ": " + e.Reason
}

// Unwrap returns Err.
func (e *FormatError) Unwrap() error { return e.Err }
