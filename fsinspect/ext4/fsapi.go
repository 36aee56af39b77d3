package ext4

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

// Symlink targets longer than this are corrupt (PATH_MAX less its NUL).
const maxSymlink = 4095

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
func (t tree) Dir(in *inode) (*inodefs.Dir, error)       { return t.dir(in) }
func (t tree) LinkTarget(in *inode) ([]byte, error)      { return t.linkTarget(in) }
func (t tree) Corruptf(format string, args ...any) error { return corruptf(format, args...) }
func (t tree) Unsupportedf(format string, args ...any) error {
	return unsupportedf(format, args...)
}

// Inode returns inode ino; ino comes from a directory entry, which
// parseDirBlock checked against the inode count.
func (t tree) Inode(ino uint64) (*inode, error) { return t.inode(uint32(ino)) }

// Data returns the contents of the regular file in; those of an encrypted
// file cannot be read.
func (t tree) Data(in *inode) (inodefs.Data, error) {
	d := &fileData{fsys: t.FS, in: in}
	if in.flags&flagEncrypt != 0 {
		return d, unsupportedf("inode %d: encrypted file", in.ino)
	}
	return d, nil
}

// linkTarget reads the target of a symlink inode: inline data, a fast
// symlink in i_block, or a slow one in a data block. As in the kernel, a
// symlink is fast when it owns no blocks; an extent root in i_block also
// makes it slow.
func (fsys *FS) linkTarget(in *inode) ([]byte, error) {
	switch {
	case !in.mode.IsSymlink():
		return nil, fs.ErrInvalid
	case in.flags&flagEncrypt != 0:
		return nil, unsupportedf("inode %d: encrypted symlink", in.ino)
	case in.size == 0 || in.size > maxSymlink:
		return nil, corruptf("inode %d: symlink of %d bytes", in.ino, in.size)
	case in.flags&flagInlineData != 0:
		return inlineBytes(in), nil
	case !in.blocks && !(in.flags&flagExtents != 0 && hasExtentMagic(in.block[:])):
		if in.size >= int64(len(in.block)) {
			return nil, corruptf("inode %d: fast symlink of %d bytes", in.ino, in.size)
		}
		return append([]byte(nil), in.block[:in.size]...), nil
	}
	t := make([]byte, in.size)
	if _, err := fsys.readData(in, nil, t, 0); err != nil {
		return nil, err
	}
	return t, nil
}
