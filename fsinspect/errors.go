package fsinspect

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/imgcheck/imgcheck/image"
)

// IsFact reports whether err is a fact about the guest rather than a fault
// of the image: the file does not exist (a dangling symlink included), a
// path component is not a directory (syscall.ENOTDIR), or a lookup loops
// (ErrLoop). Anything else (corrupt or unsupported data, I/O errors,
// ErrTooLarge, ErrTooManyComponents, an unavailable mount, an unknown error) is a fault, and
// IsFact fails closed on it. IsFact(nil) is false.
func IsFact(err error) bool {
	if err == nil || isFault(err) {
		return false
	}
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, ErrLoop)
}

// isFault reports whether err carries a known fault anywhere in its chain,
// which outweighs any fact it also wraps.
func isFault(err error) bool {
	var (
		me *MountError
		fe *image.FormatError
	)
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTooManyComponents) || errors.As(err, &me) || errors.As(err, &fe) {
		return true
	}
	for _, t := range fsTypes {
		for _, f := range t.faults {
			if errors.Is(err, f) {
				return true
			}
		}
	}
	return false
}
