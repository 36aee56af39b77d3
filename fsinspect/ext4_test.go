package fsinspect

import (
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// openExt4 opens a bare ext4 fixture image as a Backend.
func openExt4(t *testing.T, path string) *ext4.FS {
	t.Helper()
	fsys, err := ext4.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// TestGuestTestFSExt4 runs the conformance suite and the resolver table's
// host-path cases on the Guest over ext4 images, for several mkfs feature
// sets.
func TestGuestTestFSExt4(t *testing.T) {
	for name, o := range map[string]fixtures.Ext4Options{
		"default":     {},
		"ext3":        {Type: "ext3"},
		"inline_data": {Features: "inline_data"},
		"1k-128":      {BlockSize: 1024, InodeSize: 128},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := NewGuest(openExt4(t, fixtures.MustExt4(t, guestTree(), o)))
			if err := fstest.TestFS(g, "etc/passwd", "etc/ssh/sshd_config", "home/alice/.ssh/authorized_keys"); err != nil {
				t.Fatal(err)
			}
			data, err := g.ReadFile("root/.ssh/shadow")
			if err != nil || string(data) != "root:GUEST-SHADOW:19000::::::\n" {
				t.Errorf("ReadFile(root/.ssh/shadow) = %q, %v", data, err)
			}
			fi, err := g.Stat("home/alice/.ssh/authorized_keys")
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*Stat)
			if st.Uid != 1000 || st.Gid != 1000 || st.Ino == 0 || st.Nlink != 1 || !st.Mtime.Equal(fixtures.Epoch) || fi.Mode() != 0o600 {
				t.Errorf("Stat = %v %+v", fi, st)
			}
			if !fi.ModTime().Equal(fixtures.Epoch) || st.Mtime.Location() == nil || st.Atime.Before(time.Unix(0, 0)) {
				t.Errorf("times = %v, %+v", fi.ModTime(), st)
			}
		})
	}
}

// TestResolveExt4 runs the resolver table on an ext4 image of the same
// tree, so that every backend resolves alike.
func TestResolveExt4(t *testing.T) {
	g := NewGuest(openExt4(t, fixtures.MustExt4(t, badLinks(guestTree()), fixtures.Ext4Options{})))
	ref := NewGuest(badLinks(guestTree()))
	for _, name := range []string{"root/.ssh", "root/.ssh/shadow", "home/alice/up", "home/alice/hostname", "lib/systemd",
		"etc/systemd/system/multi-user.target.wants/ssh.service", "loop/a", "loop/self", "dangling", "etc/passwd/x", "notdir"} {
		want, wantErr := ref.Resolve(name)
		got, err := g.Resolve(name)
		if got != want || (err == nil) != (wantErr == nil) || IsFact(err) != IsFact(wantErr) {
			t.Errorf("ext4 Resolve(%q) = %q, %v; mapfs gives %q, %v", name, got, err, want, wantErr)
		}
	}
	if _, err := g.Lstat("etc"); err != nil {
		t.Fatal(err)
	}
	if fi, err := g.Lstat("loop/a"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Lstat(loop/a) = %v, %v", fi, err)
	}
}
