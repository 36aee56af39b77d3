package ext4

import (
	"io/fs"
	"strings"
	"syscall"
)

// lookup returns the inode called name, a valid fs path, without
// following symlinks in any component. It reads only the directories on
// the path, and the inode of each component.
func (fsys *FS) lookup(name string) (*inode, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrInvalid
	}
	cur, err := fsys.inode(rootIno)
	if err != nil {
		return nil, err
	}
	if !cur.isDir() {
		return nil, corruptf("inode %d: root is not a directory (mode 0%o)", rootIno, cur.mode)
	}
	if name == "." {
		return cur, nil
	}
	// seen holds the directories on the path so far: a directory that
	// contains one of its ancestors is a loop.
	seen := []uint32{cur.ino}
	for elem := range strings.SplitSeq(name, "/") {
		if !cur.isDir() {
			return nil, syscall.ENOTDIR
		}
		d, err := fsys.dir(cur)
		if err != nil {
			return nil, err
		}
		e, ok := d.find(elem)
		if !ok {
			if cur.flags&flagCasefold != 0 {
				return nil, unsupportedf("inode %d: %q not found in a casefolded directory (case-insensitive lookup is not implemented)", cur.ino, elem)
			}
			return nil, fs.ErrNotExist
		}
		next, err := fsys.inode(e.ino)
		if err != nil {
			return nil, err
		}
		if err := checkType(next, e); err != nil {
			return nil, err
		}
		if next.isDir() {
			for _, a := range seen {
				if a == next.ino {
					return nil, corruptf("inode %d: directory %q refers back to its ancestor", cur.ino, elem)
				}
			}
			seen = append(seen, next.ino)
		}
		cur = next
	}
	return cur, nil
}

// checkType reports an error if the directory entry e records a type
// other than that of its inode in.
func checkType(in *inode, e dirent) error {
	if e.typ == 0 {
		return nil
	}
	t, ok := direntType(e.typ)
	if !ok || t != modeType(in.mode) {
		return corruptf("directory entry %q has type %d, inode %d has mode 0%o", e.name, e.typ, in.ino, in.mode)
	}
	return nil
}
