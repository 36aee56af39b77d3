package ext4

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// Cache bounds, in bytes of memory: parsed inodes, parsed directories
// (one of the largest readable fits, see MaxDirIndexBytes), group
// descriptor blocks, directories by path.
const (
	inodeCacheSize = 4 << 20
	dirCacheSize   = MaxDirIndexBytes
	descCacheSize  = 1 << 20
	pathCacheSize  = 2 << 20
)

// FS is a read-only ext2/3/4 filesystem. It implements fs.FS,
// fs.ReadDirFS, fs.StatFS, fs.ReadFileFS and fs.ReadLinkFS, and is safe
// for concurrent use. Names are fs.ValidPath names ("etc/passwd", "."
// for the root); no method follows a symlink in any component. Errors
// are *fs.PathError values; faults in the image wrap ErrCorrupt.
type FS struct {
	r     io.ReaderAt
	super Superblock
	g     geometry
	// descs caches group descriptor blocks, read on demand: the group
	// count is the superblock's claim, so nothing is sized by it.
	descs  *inodefs.LRU[uint64, []byte]
	inodes *inodefs.LRU[uint32, *inode]
	dirs   *inodefs.LRU[uint32, *inodefs.Dir]
	paths  *inodefs.LRU[string, *pathDir] // directories by path, see lookup
	// maxDirEntries bounds the entries of one directory.
	maxDirEntries int
	closer        io.Closer // the file Open opened; nil after New
}

// Open opens the filesystem image file at path read-only and reads it with
// New. The caller must Close the FS.
func Open(path string, opts ...Option) (*FS, error) {
	return inodefs.OpenFile(path, func(f *os.File, size int64) (*FS, error) {
		fsys, err := New(f, size, opts...)
		if err == nil {
			fsys.closer = f
		}
		return fsys, err
	})
}

// Close closes the file Open opened; it does nothing for an FS from New.
func (fsys *FS) Close() error {
	if fsys.closer == nil {
		return nil
	}
	return fsys.closer.Close()
}

// New reads the filesystem held in the first size bytes of r. It checks
// the superblock and the first and last group descriptors; everything
// else is read on demand. The options apply in order.
func New(r io.ReaderAt, size int64, opts ...Option) (*FS, error) {
	if size < 0 {
		return nil, fmt.Errorf("ext4: negative size %d", size)
	}
	if size < superOffset+superSize {
		return nil, corruptf("device of %d bytes is too small for a superblock", size)
	}
	b := make([]byte, superSize)
	if err := readFull(r, b, superOffset); err != nil {
		return nil, err
	}
	s, g, err := parseSuper(b, size)
	if err != nil {
		return nil, err
	}
	fsys := &FS{
		r:      r,
		super:  s,
		g:      g,
		descs:  inodefs.NewLRU[uint64, []byte](descCacheSize),
		inodes: inodefs.NewLRU[uint32, *inode](inodeCacheSize),
		dirs:   inodefs.NewLRU[uint32, *inodefs.Dir](dirCacheSize),
		paths:  inodefs.NewLRU[string, *pathDir](pathCacheSize),

		maxDirEntries: DefaultMaxDirEntries,
	}
	for _, o := range opts {
		o(fsys)
	}
	if err := fsys.checkGroups(); err != nil {
		return nil, err
	}
	return fsys, nil
}

// Super returns the decoded superblock.
func (fsys *FS) Super() Superblock {
	s := fsys.super
	s.Unsupported = slices.Clone(s.Unsupported)
	return s
}

// readBlock reads block blk into b (one block long), checking that it
// lies inside the filesystem.
func (fsys *FS) readBlock(b []byte, blk uint64) error {
	if blk >= fsys.g.blocks {
		return corruptf("block %d outside the filesystem (%d blocks)", blk, fsys.g.blocks)
	}
	return readFull(fsys.r, b, int64(blk)*fsys.g.blockSize)
}

// readFull reads len(b) bytes at off (see inodefs.ReadFull).
func readFull(r io.ReaderAt, b []byte, off int64) error {
	return inodefs.ReadFull(r, b, off, "ext4", ErrCorrupt)
}
