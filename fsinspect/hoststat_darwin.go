package fsinspect

import (
	"syscall"
	"time"
)

// hostStat converts a host file's stat(2) result.
func hostStat(s *syscall.Stat_t) *Stat {
	return &Stat{
		Uid: s.Uid, Gid: s.Gid, Ino: s.Ino, Nlink: uint64(s.Nlink),
		Atime: time.Unix(s.Atimespec.Unix()), Ctime: time.Unix(s.Ctimespec.Unix()), Mtime: time.Unix(s.Mtimespec.Unix()),
		Btime: time.Unix(s.Birthtimespec.Unix()),
	}
}
