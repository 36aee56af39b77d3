package xfs

import (
	"io/fs"
	"slices"
	"strings"
	"syscall"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// lookup returns the inode called name, a valid fs path, without
// following symlinks in any component. It walks from the root through
// the cached parsed directories, reading the inode of each component.
func (fsys *FS) lookup(name string) (*inode, error) {
	// Names are bytes (a Latin-1 name is legal): the shape is checked,
	// not the encoding.
	if !fs.ValidPath(strings.ToValidUTF8(name, "?")) {
		return nil, fs.ErrInvalid
	}
	cur, err := fsys.root()
	if err != nil || name == "." {
		return cur, err
	}
	up := []uint64{cur.ino} // the directories on the path so far
	for elem := range strings.SplitSeq(name, "/") {
		if !cur.mode.IsDir() {
			return nil, syscall.ENOTDIR
		}
		d, err := fsys.dir(cur)
		if err != nil {
			return nil, err
		}
		e, ok := d.Find(elem)
		if !ok {
			if fsys.g.asciiCI {
				return nil, unsupportedf("inode %d: %q not found in an ascii-ci filesystem (case-insensitive lookup is not implemented)", cur.ino, elem)
			}
			return nil, fs.ErrNotExist
		}
		next, err := fsys.inode(e.Ino)
		if err != nil {
			return nil, err
		}
		if err := inodefs.CheckType(tree{fsys}, next, e); err != nil {
			return nil, err
		}
		if next.mode.IsDir() {
			if slices.Contains(up, next.ino) {
				return nil, corruptf("inode %d: directory %q refers back to its ancestor", cur.ino, elem)
			}
			up = append(up, next.ino)
		}
		cur = next
	}
	return cur, nil
}

// root returns the root directory's inode.
func (fsys *FS) root() (*inode, error) {
	in, err := fsys.inode(fsys.g.rootIno)
	if err != nil {
		return nil, err
	}
	if !in.mode.IsDir() {
		return nil, corruptf("inode %d: root is not a directory (mode 0%o)", in.ino, in.mode)
	}
	return in, nil
}
