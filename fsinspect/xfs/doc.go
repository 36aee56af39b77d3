// Package xfs reads XFS filesystems without mounting them.
//
// An FS is a read-only io/fs view over an io.ReaderAt holding a bare
// filesystem (a partition window, a qcow2 image, a plain file). It never
// writes, never replays the log and never follows a symlink: names that
// contain a symlink in a directory component fail with ENOTDIR, and the
// caller (fsinspect's Guest) resolves links inside the guest. All reads
// go through ReadAt, so one FS is safe for concurrent use.
//
// It reads v5 filesystems as mkfs.xfs makes them today (crc, ftype,
// sparse inodes, bigtime, nrext64, finobt, reflink, rmapbt) and v4 ones
// with version 2 directories: v1, v2 and v3 inodes, local, extent-list
// and btree data forks (unwritten extents and holes read as zeros),
// short-form, block, leaf, node and btree directories, and local and
// remote symlinks. A realtime section, an unknown incompatible feature or
// a filesystem marked as needing repair fail with ErrUnsupported; so does
// a name missing from an ascii-ci filesystem, rather than claiming it
// does not exist in another case. Checksums are not verified; every
// structure is bounds-checked instead, and faults wrap ErrCorrupt. New
// also finds the head of an internal log and reports whether the log
// ends in an unmount record (Superblock.Log).
//
// A directory is listed from its data blocks (those below the 32 GiB
// leaf offset), ignoring the hash index: it is read once and its sorted
// entries are cached (an LRU bounded by memory, beside an LRU of inodes
// and one of btree block maps). A directory of more than 1,000,000
// entries (see WithMaxDirEntries) fails with ErrUnsupported.
//
// The project owns this reader because github.com/masahiro331/go-xfs-filesystem
// reports no owner (FileInfo.Sys is nil), cannot Open or ReadLink a
// symlink, cannot open v4 filesystems, misreads every file of an nrext64
// one, and reads through one shared Seek offset, so it is not safe for
// concurrent use; it also sizes buffers from on-disk counts without
// bounds, reads every allocation group header at open, walks the path
// again for every file, and its ReadFile and Glob panic.
package xfs
