package fsinspect

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestFSFactsExt: the ext entry describes each of ext2, ext3 and ext4 in
// neutral terms, sizes in bytes from the superblock, and converts its
// reader's Stat for the Guest.
func TestFSFactsExt(t *testing.T) {
	tree := fstest.MapFS{
		"etc/os-release": fixtures.File("ID=debian\n", 0o644),
		"home/u/f":       fixtures.Owned("x", 0o600, 1000, 1001),
	}
	for _, typ := range []string{"ext2", "ext3", "ext4"} {
		t.Run(typ, func(t *testing.T) {
			const size = 8 << 20
			fsImg := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Type: typ, BlockSize: 1024, Size: size, Label: "root-" + typ})
			disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsImg}}})
			g, l, err := openDisk(t, disk)
			if err != nil {
				t.Fatal(err)
			}
			fi := l.Filesystems[0]
			f := fi.Facts
			if f == nil || fi.Type != typ || f.Type != typ || f.Label != "root-"+typ || fi.Label != f.Label || fi.UUID != f.UUID {
				t.Fatalf("FSInfo = %+v, facts %+v", fi, f)
			}
			if f.Size != size || f.Free <= 0 || f.Free >= f.Size || f.Reserved <= 0 || f.Reserved > f.Free || f.Size > fi.Size {
				t.Errorf("sizes: fs %d free %d reserved %d, partition %d", f.Size, f.Free, f.Reserved, fi.Size)
			}
			if !f.Clean || f.NeedsRecovery || f.ErrorsDetected || f.LastWrite.IsZero() {
				t.Errorf("state: %+v", f)
			}
			if len(f.Detail) != 2 || f.Detail[0] != (Detail{"state", "0x0001"}) || f.Detail[1].Key != "incompat" {
				t.Errorf("Detail = %v", f.Detail)
			}
			st, err := g.Stat("home/u/f")
			if err != nil || st.Sys().(*Stat).Uid != 1000 || st.Sys().(*Stat).Gid != 1001 || st.Sys().(*Stat).Ino == 0 {
				t.Errorf("Stat(home/u/f) = %v, %v", st, err)
			}
		})
	}
}

// TestFSTypesTable: every entry opens something and converts its Stat;
// types it does not read, and unknown Sys values, fall through.
func TestFSTypesTable(t *testing.T) {
	for _, ft := range fsTypes {
		if len(ft.names) == 0 || ft.open == nil || ft.stat == nil {
			t.Errorf("incomplete entry %+v", ft.names)
		}
		if _, ok := ft.stat(struct{}{}); ok {
			t.Errorf("%v: stat claims a foreign Sys value", ft.names)
		}
	}
	for _, name := range []string{"btrfs", "swap", "LVM2_member", "jbd", ""} {
		if lookupType(name) != nil {
			t.Errorf("lookupType(%q) found a reader", name)
		}
	}
	for _, name := range []string{"ext3", "xfs"} {
		if lookupType(name) == nil {
			t.Errorf("no reader for %s", name)
		}
	}
	tree := fstest.MapFS{"f": fixtures.Owned("x", 0o644, 7, 8), "g": &fstest.MapFile{Sys: "not metadata"}}
	for name, want := range map[string]uint32{"f": 7, "g": 0} {
		fi, err := NewGuest(tree).Stat(name)
		if err != nil || fi.Sys().(*Stat).Uid != want {
			t.Errorf("Stat(%s) = %v, %v; want uid %d", name, fi, err, want)
		}
	}
}

// TestFSFactsXFS: an XFS root is read like an ext4 one: its facts in the
// same neutral terms (no reserved blocks, no last-write time: XFS records
// neither; the log's state from its last record), and its Stat converted.
func TestFSFactsXFS(t *testing.T) {
	const size = 64 << 20
	tree := fstest.MapFS{
		"etc/os-release": fixtures.File("ID=rocky\n", 0o644),
		"home/u/f":       fixtures.Owned("x", 0o600, 1000, 1001),
	}
	fsImg := fixtures.MustXFS(t, tree, fixtures.XFSOptions{Size: size, Label: "root-xfs", UUID: rootUUID})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsImg}}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	fi := l.Filesystems[0]
	f := fi.Facts
	if l.Root != 0 || f == nil || fi.Type != "xfs" || f.Type != "xfs" || f.Label != "root-xfs" || f.UUID != rootUUID || fi.UUID != rootUUID {
		t.Fatalf("FSInfo = %+v, facts %+v", fi, f)
	}
	if f.Size != size || f.Free <= 0 || f.Free >= f.Size || f.Reserved != 0 || f.Size > fi.Size {
		t.Errorf("sizes: fs %d free %d reserved %d, partition %d", f.Size, f.Free, f.Reserved, fi.Size)
	}
	if !f.Clean || f.NeedsRecovery || f.ErrorsDetected || !f.LastWrite.IsZero() {
		t.Errorf("state: %+v", f)
	}
	if len(f.Detail) != 4 || f.Detail[0] != (Detail{"log", "clean"}) || f.Detail[1] != (Detail{"version", "5"}) || !strings.Contains(f.Detail[2].Value, "crc,ftype") {
		t.Errorf("Detail = %v", f.Detail)
	}
	st, err := g.Stat("home/u/f")
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Sys().(*Stat); s.Uid != 1000 || s.Gid != 1001 || s.Ino == 0 || s.Btime.IsZero() {
		t.Errorf("Stat(home/u/f) = %+v", s)
	}
}

// TestOpenImageXFSVar: /etc/fstab attaches an XFS /var to an ext4 root,
// by UUID, and reads below /var go to it.
func TestOpenImageXFSVar(t *testing.T) {
	fstab := "UUID=" + rootUUID + " / ext4 defaults 0 1\nUUID=" + varUUID + " /var xfs defaults 0 2\n"
	root := fixtures.MustExt4(t, rootTree(fstab), fixtures.Ext4Options{UUID: rootUUID})
	v := fixtures.MustXFS(t, fstest.MapFS{"log/syslog": fixtures.Owned("boot ok\n", 0o640, 0, 4), "keys": fixtures.File("ssh-ed25519 AAAA\n", 0o600)}, fixtures.XFSOptions{UUID: varUUID})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: root}, {Type: "linux", Image: v}}})
	g, l, err := openDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mounts) != 1 || l.Mounts[0].Point != "/var" || l.Mounts[0].FS != 1 || l.Filesystems[1].Type != "xfs" {
		t.Fatalf("layout = %+v", l)
	}
	if b, err := g.ReadFile("var/log/syslog"); err != nil || string(b) != "boot ok\n" {
		t.Errorf("var/log/syslog = %q, %v", b, err)
	}
	// root/.ssh links to /var/keys: resolved across the mount.
	if b, err := g.ReadFile("root/.ssh"); err != nil || string(b) != "ssh-ed25519 AAAA\n" {
		t.Errorf("root/.ssh = %q, %v", b, err)
	}
	if _, err := g.Stat("var/hidden"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("var/hidden under the mount = %v; want ErrNotExist", err)
	}
}
