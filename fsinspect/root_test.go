package fsinspect

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

const otherUUID = "12121212-3434-4565-8787-909090909090"

// legacyRoot is a root without os-release: accounts, an fstab and the
// distribution markers given as name → content.
func legacyRoot(fstab string, markers map[string]string) fstest.MapFS {
	t := fstest.MapFS{
		"etc/passwd": fixtures.File("root:x:0:0:root:/root:/bin/bash\n", 0o644),
		"root":       fixtures.Dir(0o700),
	}
	if fstab != "" {
		t["etc/fstab"] = fixtures.File(fstab, 0o644)
	}
	for name, data := range markers {
		t[name] = fixtures.File(data, 0o644)
	}
	return t
}

// TestFindRootWithoutOSRelease follows the root-finding order: without
// os-release, /etc with fstab or passwd plus a distribution marker or an
// init makes a root; /etc/passwd alone does not.
func TestFindRootWithoutOSRelease(t *testing.T) {
	usrMerged := legacyRoot("", nil)
	usrMerged["sbin"] = fixtures.Symlink("usr/sbin")
	usrMerged["usr/sbin/init"] = fixtures.Symlink("../lib/systemd/systemd")
	usrMerged["usr/lib/systemd/systemd"] = fixtures.File("\x7fELF", 0o755)
	fstabOnly := fstest.MapFS{
		"etc/fstab":          fixtures.File("UUID="+rootUUID+" / ext4 defaults 0 1\n", 0o644),
		"etc/system-release": fixtures.File("Amazon Linux release 2\n", 0o644),
	}
	for _, tc := range []struct {
		name string
		tree fstest.MapFS
		root bool
	}{
		{"debian_version", legacyRoot("", map[string]string{"etc/debian_version": "12.5\n"}), true},
		{"lsb-release", legacyRoot("", map[string]string{"etc/lsb-release": "DISTRIB_ID=Ubuntu\n"}), true},
		{"redhat-release", legacyRoot("", map[string]string{"etc/redhat-release": "CentOS release 6.10 (Final)\n"}), true},
		{"fstab and system-release", fstabOnly, true},
		{"init through usr-merge links", usrMerged, true},
		{"passwd only", legacyRoot("", nil), false},
		{"markers without accounts", fstest.MapFS{"etc/debian_version": fixtures.File("12.5\n", 0o644), "sbin/init": fixtures.File("x", 0o755)}, false},
		{"etc is a file", fstest.MapFS{"etc": fixtures.File("x", 0o644), "sbin/init": fixtures.File("x", 0o755)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := fixtures.MustExt4(t, tc.tree, fixtures.Ext4Options{UUID: rootUUID})
			disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: img}}})
			g, l, err := openDisk(t, disk)
			if !tc.root {
				if err == nil || !strings.Contains(err.Error(), "no Linux root filesystem found (partition 1: ext4, no os-release)") || l.Root != -1 {
					t.Errorf("OpenImage = %v, root %d; want no root", err, l.Root)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Root != 0 || !l.Filesystems[0].Root || l.Filesystems[0].MountPoint != "/" {
				t.Errorf("layout = %+v", l)
			}
			if !strings.Contains(strings.Join(l.Notes, "\n"), "no os-release; partition 1 is the root") {
				t.Errorf("notes = %q", l.Notes)
			}
			if _, err := g.Lstat("etc"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFindRootChoice: os-release wins over the fallback evidence; among
// several fallback candidates the one fstab mounts at / wins, else the
// first, and either way a note says so.
func TestFindRootChoice(t *testing.T) {
	marker := map[string]string{"etc/debian_version": "11.9\n"}
	plain := fixtures.MustExt4(t, legacyRoot("", marker), fixtures.Ext4Options{UUID: otherUUID})
	mounted := fixtures.MustExt4(t, legacyRoot("UUID="+rootUUID+" / ext4 defaults 0 1\n", marker), fixtures.Ext4Options{UUID: rootUUID})
	withRelease := fixtures.MustExt4(t, rootTree(""), fixtures.Ext4Options{UUID: rootUUID})
	for _, tc := range []struct {
		name  string
		parts []string
		root  int
		note  string
	}{
		{"os-release wins", []string{plain, withRelease}, 1, ""},
		{"fstab mounts it at /", []string{plain, mounted}, 1, "partitions 1, 2 look like Linux roots; partition 2 is the root (its /etc/fstab mounts it at /)"},
		{"the first", []string{plain, plain}, 0, "partitions 1, 2 look like Linux roots; partition 1 is the root (the first)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parts []fixtures.Part
			for _, p := range tc.parts {
				parts = append(parts, fixtures.Part{Type: "linux", Image: p})
			}
			_, l, err := openDisk(t, fixtures.MustDisk(t, fixtures.Layout{Parts: parts}))
			if err != nil {
				t.Fatal(err)
			}
			notes := strings.Join(l.Notes, "\n")
			if l.Root != tc.root || !strings.Contains(notes, tc.note) || (tc.note == "" && strings.Contains(notes, "no os-release")) {
				t.Errorf("root %d, notes %q; want root %d, note %q", l.Root, l.Notes, tc.root, tc.note)
			}
		})
	}
}
