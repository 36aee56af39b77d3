package fsinspect

// fsKind tells a filesystem a snapshot of the disk keeps (diskFS) from one
// that exists only while the system runs (runtimeFS: /proc, /sys, /run).
type fsKind int

const (
	diskFS fsKind = iota
	runtimeFS
)
