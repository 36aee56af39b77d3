package fsinspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// guestTree is a small guest whose links all resolve, absolute and
// relative, through directories and at the end of names.
func guestTree() fstest.MapFS {
	return fstest.MapFS{
		"etc/os-release":      fixtures.File("ID=debian\nVERSION_ID=12\n", 0o644),
		"etc/shadow":          fixtures.Owned("root:GUEST-SHADOW:19000::::::\n", 0o640, 0, 42),
		"etc/passwd":          fixtures.File("root:x:0:0:root:/root:/bin/bash\n", 0o644),
		"etc/ssh/sshd_config": fixtures.File("PermitRootLogin no\n", 0o644),
		"etc/alt":             fixtures.Symlink("/etc/ssh"),
		"etc/systemd/system/multi-user.target.wants/ssh.service": fixtures.Symlink("/lib/systemd/system/ssh.service"),
		"usr/lib/systemd/system/ssh.service":                     fixtures.File("[Unit]\n", 0o644),
		"lib":                                                    fixtures.Symlink("usr/lib"),
		"root":                                                   fixtures.Dir(0o700),
		"root/.ssh":                                              fixtures.Symlink("/etc"),
		"home/alice/.ssh/authorized_keys":                        fixtures.Owned("ssh-ed25519 AAAA alice\n", 0o600, 1000, 1000),
		"home/alice/up":                                          fixtures.Symlink("../../../../../etc/passwd"),
		"home/alice/shadow":                                      fixtures.Symlink("/etc/shadow"),
		"home/alice/hostname":                                    fixtures.Symlink("../../../etc/hostname-guest"),
		"etc/hostname-guest":                                     fixtures.File("guest\n", 0o644),
		"tmp":                                                    fixtures.Dir(0o1777),
		"var/log/syslog":                                         fixtures.File("log line\n", 0o640),
	}
}

// badLinks adds links that do not resolve, for TestResolve only.
func badLinks(tree fstest.MapFS) fstest.MapFS {
	tree["loop/a"] = fixtures.Symlink("b")
	tree["loop/b"] = fixtures.Symlink("/loop/a")
	tree["loop/self"] = fixtures.Symlink("self")
	tree["dangling"] = fixtures.Symlink("/nowhere/file")
	tree["notdir"] = fixtures.Symlink("etc/passwd/")
	return tree
}

// backends returns the same tree as an in-memory MapFS and as a Dir over
// a materialized copy in a temporary directory.
func backends(t *testing.T, tree fstest.MapFS) map[string]Backend {
	t.Helper()
	dir := t.TempDir()
	if err := fixtures.Materialize(dir, tree); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return map[string]Backend{"mapfs": tree, "dir": d}
}

func TestGuestTestFS(t *testing.T) {
	for name, b := range backends(t, guestTree()) {
		t.Run(name, func(t *testing.T) {
			g := NewGuest(b)
			if err := fstest.TestFS(g, "etc/passwd", "etc/ssh/sshd_config", "home/alice/.ssh/authorized_keys"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		want    string // resolved path, or
		wantErr error  // the error it wraps
	}{
		{name: ".", want: "."},
		{name: "etc/passwd", want: "etc/passwd"},
		{name: "root/.ssh", want: "etc"},
		{name: "root/.ssh/shadow", want: "etc/shadow"},
		{name: "etc/alt/sshd_config", want: "etc/ssh/sshd_config"},
		{name: "home/alice/up", want: "etc/passwd"},
		{name: "home/alice/shadow", want: "etc/shadow"},
		{name: "home/alice/hostname", want: "etc/hostname-guest"},
		{name: "etc/systemd/system/multi-user.target.wants/ssh.service", want: "usr/lib/systemd/system/ssh.service"},
		{name: "lib/systemd", want: "usr/lib/systemd"},
		{name: "loop/a", wantErr: ErrLoop},
		{name: "loop/self", wantErr: ErrLoop},
		{name: "loop/a/x", wantErr: ErrLoop},
		{name: "dangling", wantErr: fs.ErrNotExist},
		{name: "missing", wantErr: fs.ErrNotExist},
		{name: "etc/passwd/x", wantErr: syscall.ENOTDIR},
		{name: "notdir", wantErr: syscall.ENOTDIR},
		{name: "/etc", wantErr: fs.ErrInvalid},
		{name: "etc/../etc", wantErr: fs.ErrInvalid},
	}
	for bname, b := range backends(t, badLinks(guestTree())) {
		g := NewGuest(b)
		for _, tt := range tests {
			got, err := g.Resolve(tt.name)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("%s: Resolve(%q) = %q, %v; want %v", bname, tt.name, got, err, tt.wantErr)
				}
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != tt.name {
					t.Errorf("%s: Resolve(%q) error %#v is not a PathError for the caller's name", bname, tt.name, err)
				}
				if wantFact := tt.wantErr != fs.ErrInvalid; IsFact(err) != wantFact {
					t.Errorf("%s: IsFact(%v) = %v, want %v", bname, err, !wantFact, wantFact)
				}
				continue
			}
			if err != nil || got != tt.want {
				t.Errorf("%s: Resolve(%q) = %q, %v; want %q", bname, tt.name, got, err, tt.want)
			}
		}
	}
}

// TestGuestNeverReadsHost plants links whose targets name host files and
// checks that the guest's own files are read instead.
// TestResolveEmptyLink: Linux gives ENOENT for an empty target, which
// only an image (not the host) can hold.
func TestResolveEmptyLink(t *testing.T) {
	g := NewGuest(fstest.MapFS{"empty": fixtures.Symlink("")})
	if _, err := g.Stat("empty"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(empty link) = %v; want not-exist", err)
	}
}

func TestGuestNeverReadsHost(t *testing.T) {
	for bname, b := range backends(t, guestTree()) {
		g := NewGuest(b)
		for _, name := range []string{"home/alice/shadow", "root/.ssh/shadow", "etc/shadow"} {
			data, err := g.ReadFile(name)
			if err != nil || string(data) != "root:GUEST-SHADOW:19000::::::\n" {
				t.Errorf("%s: ReadFile(%q) = %q, %v; want the guest's shadow", bname, name, data, err)
			}
		}
		host, _ := os.ReadFile("/etc/passwd")
		data, err := g.ReadFile("home/alice/up")
		if err != nil || string(data) == string(host) || string(data) != "root:x:0:0:root:/root:/bin/bash\n" {
			t.Errorf("%s: ReadFile(home/alice/up) = %q, %v; want the guest's passwd", bname, data, err)
		}
		if _, err := g.ReadFile("home/alice/hostname"); err != nil {
			t.Errorf("%s: link climbing past the root: %v", bname, err)
		}
	}
}

func TestGuestStat(t *testing.T) {
	for bname, b := range backends(t, guestTree()) {
		g := NewGuest(b)
		fi, err := g.Stat("root/.ssh/shadow")
		if err != nil {
			t.Fatal(err)
		}
		st, ok := fi.Sys().(*Stat)
		if !ok || st.Uid != 0 || st.Gid != 42 || fi.Name() != "shadow" || fi.Mode() != 0o640 {
			t.Errorf("%s: Stat(root/.ssh/shadow) = %v %+v", bname, fi, fi.Sys())
		}
		fi, err = g.Lstat("root/.ssh")
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Name() != ".ssh" {
			t.Errorf("%s: Lstat(root/.ssh) = %v, %v; want a symlink", bname, fi, err)
		}
		if target, err := g.ReadLink("root/.ssh"); err != nil || target != "/etc" {
			t.Errorf("%s: ReadLink(root/.ssh) = %q, %v", bname, target, err)
		}
		ents, err := g.ReadDir("home/alice/.ssh")
		if err != nil || len(ents) != 1 {
			t.Fatalf("%s: ReadDir = %v, %v", bname, ents, err)
		}
		fi, err = ents[0].Info()
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := fi.Sys().(*Stat); !ok || st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("%s: entry Info Sys = %#v; want uid/gid 1000", bname, fi.Sys())
		}
		if bname == "dir" && (st.Ino == 0 || st.Nlink == 0) {
			t.Errorf("dir: Stat lacks inode and link count: %+v", st)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	g := NewGuest(guestTree())
	if data, err := g.ReadFileLimit("etc/passwd", 32); err != nil || len(data) != 32 {
		t.Errorf("ReadFileLimit at exactly the size = %d bytes, %v", len(data), err)
	}
	data, err := g.ReadFileLimit("etc/passwd", 31)
	if !errors.Is(err, ErrTooLarge) || data != nil || IsFact(err) {
		t.Errorf("ReadFileLimit over the cap = %q, %v; want ErrTooLarge, a fault", data, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "etc/passwd" {
		t.Errorf("error %v is not a PathError for etc/passwd", err)
	}
	if _, err := g.ReadFileLimit("etc", 1<<20); err == nil {
		t.Error("ReadFileLimit on a directory succeeded")
	}
}

func TestIsFact(t *testing.T) {
	facts := []error{
		&fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist},
		&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOENT},
		&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOTDIR},
		&fs.PathError{Op: "open", Path: "x", Err: ErrLoop},
	}
	faults := []error{
		nil,
		errors.New("unknown"),
		&fs.PathError{Op: "open", Path: "x", Err: syscall.EIO},
		&fs.PathError{Op: "open", Path: "x", Err: ErrTooLarge},
		&fs.PathError{Op: "open", Path: "x", Err: fs.ErrInvalid},
		&fs.PathError{Op: "open", Path: "var/x", Err: &MountError{Point: "/var", Spec: "UUID=1", Err: fs.ErrNotExist}},
	}
	for _, err := range facts {
		if !IsFact(err) {
			t.Errorf("IsFact(%v) = false", err)
		}
	}
	for _, err := range faults {
		if IsFact(err) {
			t.Errorf("IsFact(%v) = true", err)
		}
	}
}

// TestDirConfined checks the directory backend alone: links that point
// out of the directory are reported, never followed to the host.
func TestDirConfined(t *testing.T) {
	dir := t.TempDir()
	tree := fstest.MapFS{
		"abs":      fixtures.Symlink("/etc/passwd"),
		"up":       fixtures.Symlink("../../../../../../etc/passwd"),
		"rootlink": fixtures.Symlink("/"),
		"plain":    fixtures.File("x", 0o644),
	}
	if err := fixtures.Materialize(filepath.Join(dir, "guest"), tree); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(filepath.Join(dir, "guest"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"abs", "up", "rootlink/etc/passwd", "up/x"} {
		if f, err := d.Open(name); err == nil {
			f.Close()
			t.Errorf("Dir.Open(%q) followed a link out of the directory", name)
		}
	}
	if fi, err := d.Lstat("abs"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Dir.Lstat(abs) = %v, %v", fi, err)
	}
	g := NewGuest(d)
	if _, err := g.ReadFile("abs"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("guest ReadFile(abs) = %v; want not-exist (the guest has no /etc/passwd)", err)
	}
	if _, err := g.ReadFile("rootlink/etc/passwd"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("guest ReadFile(rootlink/etc/passwd) = %v; want not-exist", err)
	}
	if got, err := g.Resolve("rootlink"); err != nil || got != "." {
		t.Errorf("Resolve(rootlink) = %q, %v; want the guest root", got, err)
	}
}

func TestDirRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g := NewGuest(d)
	if _, err := g.ReadFileLimit("fifo", 1<<20); err == nil || IsFact(err) {
		t.Errorf("reading a FIFO = %v; want a fault, not a hang", err)
	}
}

// TestResolveHopLimit: 40 links are followed, the 41st gives ErrLoop, as
// Linux's MAXSYMLINKS.
func TestResolveHopLimit(t *testing.T) {
	tree := fstest.MapFS{"file": fixtures.File("x", 0o644)}
	for i := 1; i <= 41; i++ {
		target := fmt.Sprintf("/l%d", i+1)
		if i == 41 {
			target = "file"
		}
		tree[fmt.Sprintf("l%d", i)] = fixtures.Symlink(target)
	}
	g := NewGuest(tree)
	if got, err := g.Resolve("l2"); err != nil || got != "file" {
		t.Errorf("Resolve through 40 links = %q, %v", got, err)
	}
	if _, err := g.Resolve("l1"); !errors.Is(err, ErrLoop) {
		t.Errorf("Resolve through 41 links = %v; want ErrLoop", err)
	}
}
