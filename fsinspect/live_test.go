package fsinspect

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestLiveGuestRuntimeDirs: on a running system's root, /proc, /sys, /dev
// and /run read as the empty directories an image holds, so links into
// them dangle; the rest reads as through NewGuest, and a runtime
// directory the root lacks is not invented.
func TestLiveGuestRuntimeDirs(t *testing.T) {
	dir := t.TempDir()
	if err := fixtures.Materialize(dir, fstest.MapFS{
		"etc/passwd":       fixtures.File("root:x:0:0:root:/root:/bin/bash\n", 0o644),
		"etc/mtab":         fixtures.Symlink("../proc/self/mounts"),
		"proc/self/mounts": fixtures.File("host mounts\n", 0o444),
		"dev/zero":         fixtures.File("endless\n", 0o666),
		"run/lock/x":       fixtures.File("held\n", 0o644),
		"var/run":          fixtures.Symlink("/run"),
	}); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, err := NewGuest(d).ReadFile("etc/mtab"); err != nil || string(got) != "host mounts\n" {
		t.Fatalf("plain guest ReadFile(etc/mtab) = %q, %v; the fixture is wrong", got, err)
	}
	g := NewLiveGuest(d)
	for _, name := range []string{"proc", "dev", "run", "var/run"} {
		ents, err := g.ReadDir(name)
		fi, serr := g.Stat(name)
		if err != nil || len(ents) != 0 || serr != nil || !fi.IsDir() || fi.Sys().(*Stat).Ino == 0 {
			t.Errorf("%s: ReadDir = %v, %v; Stat = %v, %v; want an empty directory with the host's metadata", name, ents, err, fi, serr)
		}
	}
	for _, name := range []string{"etc/mtab", "proc/self/mounts", "dev/zero", "var/run/lock/x", "sys"} {
		if _, err := g.ReadFile(name); !errors.Is(err, fs.ErrNotExist) || !IsFact(err) {
			t.Errorf("ReadFile(%s) = %v; want a not-exist fact", name, err)
		}
	}
	if got, err := g.ReadFile("etc/passwd"); err != nil || len(got) == 0 {
		t.Errorf("ReadFile(etc/passwd) = %q, %v", got, err)
	}
	for _, name := range []string{"proc", "run"} {
		sub, err := fs.Sub(g, name)
		if err == nil {
			err = fstest.TestFS(sub)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestLiveGuestHostRoot reads this machine's own "/": the runtime
// directories are empty, /etc is not.
func TestLiveGuestHostRoot(t *testing.T) {
	d, err := OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g := NewLiveGuest(d)
	for _, name := range []string{"proc", "sys", "dev"} {
		if ents, err := g.ReadDir(name); err != nil || len(ents) != 0 {
			t.Errorf("ReadDir(%s) = %d entries, %v; want empty", name, len(ents), err)
		}
	}
	if _, err := g.ReadFileLimit("proc/kmsg", 1<<20); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(proc/kmsg) = %v; want not-exist", err)
	}
	if ents, err := g.ReadDir("etc"); err != nil || len(ents) == 0 {
		t.Errorf("ReadDir(etc) = %d entries, %v", len(ents), err)
	}
}
