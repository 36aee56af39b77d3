package xfs

import (
	"io/fs"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)

	_ inodefs.Tree[*inode] = tree{}
)

// Open opens the named file, directory, symlink or special file. The
// file of a symlink reports ModeSymlink and cannot be read; that of a
// directory implements fs.ReadDirFile.
func (fsys *FS) Open(name string) (fs.File, error) {
	return inodefs.Open(tree{fsys}, name)
}

// Stat returns the FileInfo of the named file. It does not follow a final
// symlink: Stat is Lstat.
func (fsys *FS) Stat(name string) (fs.FileInfo, error) {
	return inodefs.Stat(tree{fsys}, "stat", name)
}

// Lstat returns the FileInfo of the named file without following a
// final symlink.
func (fsys *FS) Lstat(name string) (fs.FileInfo, error) {
	return inodefs.Stat(tree{fsys}, "lstat", name)
}

// ReadLink returns the target of the named symlink.
func (fsys *FS) ReadLink(name string) (string, error) {
	return inodefs.ReadLink(tree{fsys}, name)
}

// ReadDir returns the entries of the named directory sorted by name,
// without "." and "..".
func (fsys *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	return inodefs.ReadDir(tree{fsys}, name)
}

// ReadFile returns the contents of the named regular file. Files larger
// than 1 GiB are refused; read them through Open.
func (fsys *FS) ReadFile(name string) ([]byte, error) {
	return inodefs.ReadFile(tree{fsys}, name)
}

// tree is the FS as the inodefs functions behind its fs.FS methods see
// it.
type tree struct{ *FS }

func (t tree) Lookup(name string) (*inode, error)        { return t.lookup(name) }
func (t tree) Inode(ino uint64) (*inode, error)          { return t.inode(ino) }
func (t tree) Dir(in *inode) (*inodefs.Dir, error)       { return t.dir(in) }
func (t tree) LinkTarget(in *inode) ([]byte, error)      { return t.linkTarget(in) }
func (t tree) Data(in *inode) (inodefs.Data, error)      { return fileData{t.FS, in}, nil }
func (t tree) Corruptf(format string, args ...any) error { return corruptf(format, args...) }
func (t tree) Unsupportedf(format string, args ...any) error {
	return unsupportedf(format, args...)
}
