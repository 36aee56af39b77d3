// Package inodefs is what fsinspect's filesystem readers (ext4, xfs)
// share above their on-disk formats: the io/fs face of a tree of Unix
// inodes (file modes, FileInfo and DirEntry values, open files and
// directories, the fs.FS methods over a Tree, the small interface a
// reader implements), the cost-bounded cache they keep parsed structures
// in, and opening and reading an image file. Everything about an on-disk
// format stays in its reader.
package inodefs
