// Package ext4 reads ext2, ext3 and ext4 filesystems without mounting them.
//
// An FS is a read-only io/fs view over an io.ReaderAt holding a bare
// filesystem (a partition window, a qcow2 image, a plain file). It never
// writes, never replays the journal and never follows a symlink: names
// that contain a symlink in a directory component fail with ENOTDIR, and
// the caller (fsinspect's Guest) resolves links inside the guest. All
// reads go through ReadAt, so one FS is safe for concurrent use.
//
// It supports 32- and 64-bit group descriptors (meta_bg too), 128- and
// 256-byte inodes with high uid/gid and extra time fields, extent trees,
// ext2/3 indirect blocks, uninitialised extents and holes (read as zeros),
// linear and htree directories, inline_data files, directories and
// symlinks, fast and slow symlinks, huge files and bigalloc. Encrypted directories, files and symlinks fail with
// ErrUnsupported; a name missing from a casefolded directory fails with
// ErrUnsupported rather than claiming it does not exist; FS.Super reports
// such features in Superblock.Unsupported. Checksums are not verified;
// every structure is bounds-checked instead, and faults wrap ErrCorrupt.
//
// A lookup walks the path one component at a time. In an htree directory
// it hashes the name (legacy, half-MD4 or TEA) and reads the index blocks
// and one leaf; otherwise, and whenever that probe does not find the
// name, it reads the whole directory once and caches its sorted entries
// (an LRU bounded by entry count, beside an LRU of inodes). It never
// reads the inodes of siblings. A directory of more than 1,000,000
// entries (see WithMaxDirEntries) fails with ErrUnsupported.
//
// The project owns this reader because github.com/masahiro331/go-ext4-filesystem
// has no uid/gid, mishandles inline_data, panics on ext3 slow symlinks of 60
// bytes or more, cannot Open symlinks or directories, shares one Seek offset
// between callers and reads every inode of every directory on a path; the
// ext4 of github.com/diskfs/go-diskfs is weaker still on untrusted images.
package ext4
