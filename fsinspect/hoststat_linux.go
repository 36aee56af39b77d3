package fsinspect

import (
	"syscall"
	"time"
)

// hostStat converts a host file's stat(2) result.
func hostStat(s *syscall.Stat_t) *Stat {
	return &Stat{
		Uid: s.Uid, Gid: s.Gid, Ino: s.Ino, Nlink: uint64(s.Nlink),
		Atime: time.Unix(s.Atim.Unix()), Ctime: time.Unix(s.Ctim.Unix()), Mtime: time.Unix(s.Mtim.Unix()),
	}
}
