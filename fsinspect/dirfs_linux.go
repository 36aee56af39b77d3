package fsinspect

import (
	"os"

	"golang.org/x/sys/unix"
)

// runtimeMagic are the statfs(2) types of the kernel and memory
// filesystems: nothing on them is part of a disk image.
var runtimeMagic = map[int64]bool{
	unix.PROC_SUPER_MAGIC:    true,
	unix.SYSFS_MAGIC:         true,
	unix.TMPFS_MAGIC:         true, // /run, /dev/shm, devtmpfs
	unix.RAMFS_MAGIC:         true,
	unix.DEVPTS_SUPER_MAGIC:  true,
	unix.CGROUP_SUPER_MAGIC:  true,
	unix.CGROUP2_SUPER_MAGIC: true,
	unix.DEBUGFS_MAGIC:       true,
	unix.TRACEFS_MAGIC:       true,
	unix.SECURITYFS_MAGIC:    true,
	unix.BPF_FS_MAGIC:        true,
	unix.PSTOREFS_MAGIC:      true,
	unix.EFIVARFS_MAGIC:      true,
	0x19800202:               true, // mqueue
	unix.HUGETLBFS_MAGIC:     true,
	unix.BINFMTFS_MAGIC:      true,
	unix.AUTOFS_SUPER_MAGIC:  true,
	unix.NSFS_MAGIC:          true,
	0x62656570:               true, // configfs
	0x65735543:               true, // fusectl
}

// kindOf reports the kind of filesystem the open file f is on; a file
// whose filesystem cannot be told is taken as on disk.
func kindOf(f *os.File) fsKind {
	rc, err := f.SyscallConn() // not f.Fd(), which would make f blocking
	if err != nil {
		return diskFS
	}
	var st unix.Statfs_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstatfs(int(fd), &st) }); err != nil || serr != nil {
		return diskFS
	}
	if runtimeMagic[int64(st.Type)] {
		return runtimeFS
	}
	return diskFS
}
