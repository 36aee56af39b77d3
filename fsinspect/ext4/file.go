package ext4

import "github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"

// An open file fetches ahead through fileData (see inodefs.Prefetcher).
var _ inodefs.Prefetcher = (*fileData)(nil)

// fileData is the contents of a regular file as one open file reads
// them: through the file's own run cache, so that reads in order map each
// run once.
type fileData struct {
	fsys *FS
	in   *inode
	runs runCache
}

// ReadAt reads the file's contents at off, as io.ReaderAt does.
func (d *fileData) ReadAt(p []byte, off int64) (int, error) {
	return d.fsys.readData(d.in, &d.runs, p, off)
}

// Prefetch fetches the file's data blocks from off up to end (see
// FS.prefetch).
func (d *fileData) Prefetch(off, end int64) {
	d.fsys.prefetch(d.in, &d.runs, off, end)
}
