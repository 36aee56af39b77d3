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
		e, ok, err := fsys.find(cur, elem)
		if err != nil {
			return nil, err
		}
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

// find looks up the entry called name in directory in: in the cached
// parsed directory, else through the htree index, else by parsing the
// whole directory (and caching it).
func (fsys *FS) find(in *inode, name string) (dirent, bool, error) {
	if d, ok := fsys.dirs.get(in.ino); ok {
		e, ok := d.find(name)
		return e, ok, nil
	}
	if e, err := fsys.htreeFind(in, name); err == nil {
		return e, true, nil
	}
	d, err := fsys.dir(in)
	if err != nil {
		return dirent{}, false, err
	}
	e, ok := d.find(name)
	return e, ok, nil
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
