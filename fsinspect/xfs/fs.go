package xfs

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// Cache bounds, in bytes of memory: parsed inodes, parsed directories
// (one of the largest readable fits, see MaxDirIndexBytes) and the block
// maps of btree-format files.
const (
	inodeCacheSize = 4 << 20
	dirCacheSize   = MaxDirIndexBytes
	mapCacheSize   = 8 << 20
)

// FS is a read-only XFS filesystem. It implements fs.FS, fs.ReadDirFS,
// fs.StatFS, fs.ReadFileFS and fs.ReadLinkFS, and is safe for concurrent
// use. Names are fs.ValidPath names ("etc/passwd", "." for the root); no
// method follows a symlink in any component. Errors are *fs.PathError
// values; faults in the image wrap ErrCorrupt.
type FS struct {
	r      io.ReaderAt
	super  Superblock
	g      geometry
	inodes *inodefs.LRU[uint64, *inode]
	dirs   *inodefs.LRU[uint64, *inodefs.Dir]
	maps   *inodefs.LRU[uint64, []extent] // block maps of btree-format inodes
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
// the primary superblock, the root inode and the state of the log;
// everything else is read on demand. The options apply in order.
func New(r io.ReaderAt, size int64, opts ...Option) (*FS, error) {
	if size < 0 {
		return nil, fmt.Errorf("xfs: negative size %d", size)
	}
	if size < superSize {
		return nil, corruptf("device of %d bytes is too small for a superblock", size)
	}
	b := make([]byte, superSize)
	if err := readFull(r, b, 0); err != nil {
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
		inodes: inodefs.NewLRU[uint64, *inode](inodeCacheSize),
		dirs:   inodefs.NewLRU[uint64, *inodefs.Dir](dirCacheSize),
		maps:   inodefs.NewLRU[uint64, []extent](mapCacheSize),

		maxDirEntries: DefaultMaxDirEntries,
	}
	for _, o := range opts {
		o(fsys)
	}
	if _, err := fsys.root(); err != nil {
		return nil, err
	}
	fsys.super.Log = fsys.logState()
	return fsys, nil
}

// Super returns the decoded superblock.
func (fsys *FS) Super() Superblock {
	s := fsys.super
	s.Features = slices.Clone(s.Features)
	return s
}

// daddr converts a filesystem block number (AG number in the high bits,
// block within the AG in the low agblklog bits) to a linear block number,
// checking that n blocks from there lie inside one AG and the filesystem.
func (fsys *FS) daddr(fsb, n uint64) (uint64, error) {
	g := &fsys.g
	ag, agbno := fsb>>g.agBlockLog, fsb&(1<<g.agBlockLog-1)
	if ag >= g.agCount || agbno >= g.agBlocks || n > g.agBlocks-agbno {
		return 0, corruptf("blocks %d+%d outside the filesystem (%d groups of %d blocks)", fsb, n, g.agCount, g.agBlocks)
	}
	lin := ag*g.agBlocks + agbno
	if lin+n > g.blocks {
		return 0, corruptf("blocks %d+%d past the end of the filesystem (%d blocks)", fsb, n, g.blocks)
	}
	return lin, nil
}

// readBlocks reads len(b) bytes from linear block blk on.
func (fsys *FS) readBlocks(b []byte, blk uint64) error {
	return readFull(fsys.r, b, int64(blk)*fsys.g.blockSize)
}

// readFull reads len(b) bytes at off (see inodefs.ReadFull).
func readFull(r io.ReaderAt, b []byte, off int64) error {
	return inodefs.ReadFull(r, b, off, "xfs", ErrCorrupt)
}
