package ext4

import (
	"io/fs"
	"strings"
	"syscall"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// pathDir is a directory a lookup reached, with the directories on its
// path: cached by path, it lets the next lookup below it start there and
// still detect a directory that contains one of its ancestors.
type pathDir struct {
	ino   uint32
	depth int
	up    *pathDir // the parent on the path; nil for the root
}

// cost is the memory a cached pathDir may keep alive besides its
// key: its own node and the chain of ancestors, which it may be the last
// to hold.
func (p *pathDir) cost() int { return 64 + 32*p.depth }

// descends reports whether ino is p or one of p's ancestors.
func (p *pathDir) descends(ino uint32) bool {
	for a := p; a != nil; a = a.up {
		if a.ino == ino {
			return true
		}
	}
	return false
}

// lookup returns the inode called name, a valid fs path, without
// following symlinks in any component. It starts at the deepest of name
// and its parent that an earlier lookup cached as a directory, else at
// the root, and reads only the directories on the rest of the path and
// the inode of each component: walking a path one component at a time
// costs one step per component, not one walk from the root.
func (fsys *FS) lookup(name string) (*inode, error) {
	// Names are bytes (a Latin-1 name is legal): the shape is checked,
	// not the encoding.
	if !fs.ValidPath(strings.ToValidUTF8(name, "?")) {
		return nil, fs.ErrInvalid
	}
	if name == "." {
		return fsys.root()
	}
	if p, ok := fsys.paths.Get(name); ok {
		return fsys.inode(p.ino)
	}
	at := &pathDir{ino: rootIno}
	rest := name
	cur, err := fsys.root()
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		if p, ok := fsys.paths.Get(name[:i]); ok {
			if cur, err = fsys.inode(p.ino); err == nil && !cur.mode.IsDir() {
				err = corruptf("inode %d: cached directory is not a directory", p.ino)
			}
			at, rest = p, name[i+1:]
		}
	}
	if err != nil {
		return nil, err
	}
	end := len(name) - len(rest) // where the current component starts
	for elem := range strings.SplitSeq(rest, "/") {
		end += len(elem)
		if !cur.mode.IsDir() {
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
		next, err := fsys.inode(uint32(e.Ino))
		if err != nil {
			return nil, err
		}
		if err := inodefs.CheckType(tree{fsys}, next, e); err != nil {
			return nil, err
		}
		if next.mode.IsDir() {
			if at.descends(next.ino) {
				return nil, corruptf("inode %d: directory %q refers back to its ancestor", cur.ino, elem)
			}
			at = &pathDir{ino: next.ino, depth: at.depth + 1, up: at}
			key := strings.Clone(name[:end])
			fsys.paths.Add(key, at, len(key)+at.cost())
		}
		cur = next
		end++ // the slash
	}
	return cur, nil
}

// root returns the root directory's inode.
func (fsys *FS) root() (*inode, error) {
	in, err := fsys.inode(rootIno)
	if err != nil {
		return nil, err
	}
	if !in.mode.IsDir() {
		return nil, corruptf("inode %d: root is not a directory (mode 0%o)", rootIno, in.mode)
	}
	return in, nil
}

// find looks up the entry called name in directory in: in the cached
// parsed directory, else through the htree index, else by parsing the
// whole directory (and caching it).
func (fsys *FS) find(in *inode, name string) (inodefs.Entry, bool, error) {
	if d, ok := fsys.dirs.Get(in.ino); ok {
		e, ok := d.Find(name)
		return e, ok, nil
	}
	if e, err := fsys.htreeFind(in, name); err == nil {
		return e, true, nil
	}
	d, err := fsys.dir(in)
	if err != nil {
		return inodefs.Entry{}, false, err
	}
	e, ok := d.Find(name)
	return e, ok, nil
}
