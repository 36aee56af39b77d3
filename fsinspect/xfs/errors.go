package xfs

import (
	"errors"
	"fmt"
)

var (
	// ErrCorrupt is wrapped by every error about a malformed structure:
	// a bad magic, a block outside the filesystem, a directory entry that
	// runs past its block, a block map that is too deep or out of order.
	ErrCorrupt = errors.New("xfs: corrupt filesystem")
	// ErrUnsupported is wrapped by errors about valid structures this
	// reader does not interpret, such as an unknown incompatible feature
	// or a realtime file.
	ErrUnsupported = errors.New("xfs: unsupported")
)

// corruptf returns an error wrapping ErrCorrupt with a formatted detail.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// unsupportedf returns an error wrapping ErrUnsupported with a formatted detail.
func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}
