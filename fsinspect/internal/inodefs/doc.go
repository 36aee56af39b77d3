// Package inodefs is the io/fs face that fsinspect's filesystem readers
// (ext4, xfs) share: Unix file modes, FileInfo and DirEntry values, open
// files and directories, and the fs.FS methods over a Tree, the small
// interface through which a reader hands over the inodes it decoded.
// It also holds the cost-bounded cache the readers keep parsed
// structures in. Everything about an on-disk format stays in its reader.
package inodefs
