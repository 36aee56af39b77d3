package fsinspect

import (
	"io/fs"
	"strings"
)

// validName is fs.ValidPath for names that are bytes: an ext4 or host
// name need not be UTF-8 (a Latin-1 file name is legal), so only the
// shape is checked: unrooted, slash-separated, no empty, "." or ".."
// element, "." alone for the root.
func validName(name string) bool {
	return fs.ValidPath(strings.ToValidUTF8(name, "?"))
}
