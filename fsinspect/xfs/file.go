package xfs

// fileData is the contents of a regular file, as an open file reads them.
type fileData struct {
	fsys *FS
	in   *inode
}

// ReadAt reads the file's contents at off, as io.ReaderAt does.
func (d fileData) ReadAt(p []byte, off int64) (int, error) {
	return d.fsys.readData(d.in, p, off)
}
