package inodefs

import (
	"io/fs"
	"time"
)

// fileInfo describes one inode under one name; Sys returns a *S, the
// reader's Stat. It copies what it needs rather than keep the inode: a
// caller may hold many FileInfos, and an inode can carry kilobytes of
// data.
type fileInfo[S any] struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	stat  S
}

// NewFileInfo returns the FileInfo of a file called name, of size bytes,
// with mode m, modified at mtime, whose Sys is a pointer to a copy of
// stat.
func NewFileInfo[S any](name string, size int64, m Mode, mtime time.Time, stat S) fs.FileInfo {
	return &fileInfo[S]{name: name, size: size, mode: m.FileMode(), mtime: mtime, stat: stat}
}

func (fi *fileInfo[S]) Name() string       { return fi.name }
func (fi *fileInfo[S]) Size() int64        { return fi.size }
func (fi *fileInfo[S]) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo[S]) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo[S]) IsDir() bool        { return fi.mode.IsDir() }

// Sys returns a *S.
func (fi *fileInfo[S]) Sys() any       { return &fi.stat }
func (fi *fileInfo[S]) String() string { return fs.FormatFileInfo(fi) }
