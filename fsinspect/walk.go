package fsinspect

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// WalkDir walks the tree rooted at root as fs.WalkDir does: fn sees root
// (its symlinks followed) and every file and directory below it in
// lexical order, symlinks below root are not followed, and fn's
// fs.SkipDir and fs.SkipAll work the same. Unlike fs.WalkDir it reads
// each directory once per walk: a directory reached again through a
// hard link (the same inode of the same mounted filesystem) is passed to
// fn but not read, so a guest whose directories are linked twice per
// level cannot make a walk visit 2^depth paths. A directory whose
// backend reports no inode number is always read.
func (g *Guest) WalkDir(root string, fn fs.WalkDirFunc) error {
	w := walk{g: g, fn: fn, seen: map[dirKey]bool{}}
	fi, err := g.Stat(root)
	if err == nil {
		var real string
		if real, err = g.Resolve(root); err == nil {
			err = w.dir(root, real, fs.FileInfoToDirEntry(fi))
		}
	}
	if err != nil && fi == nil {
		err = fn(root, nil, err)
	}
	if errors.Is(err, fs.SkipDir) || errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// dirKey identifies a directory: the mount point of its filesystem and
// its inode number there.
type dirKey struct {
	mount string
	ino   uint64
}

// walk is the state of one WalkDir.
type walk struct {
	g    *Guest
	fn   fs.WalkDirFunc
	seen map[dirKey]bool
}

// dir walks name, whose link-free guest path is real and whose entry is d.
func (w *walk) dir(name, real string, d fs.DirEntry) error {
	if err := w.fn(name, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	if key, ok := w.key(real, d); ok {
		if w.seen[key] {
			return nil
		}
		w.seen[key] = true
	}
	ents, err := w.g.ReadDir(real) // fails once the Guest's context is done
	if err != nil {
		if err = w.fn(name, d, err); err != nil {
			if err == fs.SkipDir {
				err = nil
			}
			return err
		}
	}
	for _, e := range ents {
		childReal := path.Join(real, e.Name())
		if err := w.dir(path.Join(name, e.Name()), childReal, e); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	return nil
}

// key returns the identity of the directory at the link-free path real,
// or false when its backend reports no inode number.
func (w *walk) key(real string, d fs.DirEntry) (dirKey, bool) {
	fi, err := d.Info()
	if err != nil {
		return dirKey{}, false
	}
	st, ok := fi.Sys().(*Stat)
	if !ok || st == nil || st.Ino == 0 {
		return dirKey{}, false
	}
	return dirKey{mount: w.g.mountPoint(real), ino: st.Ino}, true
}

// mountPoint returns the mount point of the filesystem holding the
// link-free path p: the deepest mount that is p or one of its parents,
// "." for the root filesystem.
func (g *Guest) mountPoint(p string) string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for i := len(g.mounts) - 1; i >= 0; i-- {
		m := g.mounts[i].Point
		if p == m || strings.HasPrefix(p, m+"/") {
			return m
		}
	}
	return "."
}
