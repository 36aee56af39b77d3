package fsinspect

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// mounted is a root with /var and /home on other backends, and a /srv
// whose filesystem is missing.
func mounted() *Guest {
	root := fstest.MapFS{
		"etc/os-release": fixtures.File("ID=debian\n", 0o644),
		"var/hidden":     fixtures.File("shadowed by the mount", 0o644),
		"var":            fixtures.Dir(0o755),
		"home":           fixtures.Dir(0o755),
		"srv":            fixtures.Dir(0o755),
		"etc/log":        fixtures.Symlink("/var/log"),
		"etc/back":       fixtures.Symlink("../var/log/../../etc/os-release"),
	}
	varFS := fstest.MapFS{
		"log/syslog":      fixtures.File("var syslog", 0o640),
		"log/up":          fixtures.Symlink("../../etc/os-release"),
		"log/abs":         fixtures.Symlink("/home/bob/.profile"),
		"lib/dpkg/status": fixtures.File("Package: bash\n", 0o644),
	}
	homeFS := fstest.MapFS{
		"bob/.profile": fixtures.Owned("profile", 0o644, 1001, 1001),
		"bob/var":      fixtures.Symlink("/var"),
	}
	missing := FaultBackend(&MountError{Point: "/srv", Spec: "UUID=0000", Err: fs.ErrNotExist})
	return NewGuest(root, WithMounts(Mount{"/var", varFS}, Mount{"home/", homeFS}, Mount{"srv", missing}))
}

func TestMounts(t *testing.T) {
	g := mounted()
	read := map[string]string{
		"var/log/syslog":               "var syslog",
		"etc/log/syslog":               "var syslog",
		"var/log/up":                   "ID=debian\n",
		"etc/back":                     "ID=debian\n",
		"var/log/abs":                  "profile",
		"home/bob/var/lib/dpkg/status": "Package: bash\n",
	}
	for name, want := range read {
		if got, err := g.ReadFile(name); err != nil || string(got) != want {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if got, err := g.Resolve("home/bob/var/log/up"); err != nil || got != "etc/os-release" {
		t.Errorf("Resolve through two mounts = %q, %v", got, err)
	}
	if _, err := g.ReadFile("var/hidden"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file under the mount point leaked through: %v", err)
	}
	fi, err := g.Stat("home/bob/.profile")
	if err != nil || fi.Sys().(*Stat).Uid != 1001 {
		t.Errorf("Stat on a mount = %v, %v", fi, err)
	}
}

func TestMountPointEntries(t *testing.T) {
	g := mounted()
	ents, err := g.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "var" {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.IsDir() {
			t.Fatalf("var entry: %v, %v", fi, err)
		}
	}
	names, err := fs.Glob(g, "var/*")
	if err != nil || len(names) != 2 || names[0] != "var/lib" || names[1] != "var/log" {
		t.Errorf("Glob(var/*) = %v, %v; want the mounted filesystem's entries", names, err)
	}
}

// TestFaultingMount: everything below a missing filesystem is a fault, so
// a rule reading it reports ERROR, never PASS.
func TestFaultingMount(t *testing.T) {
	g := mounted()
	for _, name := range []string{"srv", "srv/data", "srv/a/b"} {
		_, err := g.Stat(name)
		var me *MountError
		if err == nil || IsFact(err) || !errors.As(err, &me) || me.Point != "/srv" {
			t.Errorf("Stat(%q) = %v; want a MountError fault", name, err)
		}
	}
	if _, err := g.ReadDir("srv"); err == nil || IsFact(err) {
		t.Errorf("ReadDir(srv) = %v; want a fault", err)
	}
	if err := fstest.TestFS(g, "var/log/syslog", "home/bob/.profile"); err == nil {
		t.Error("TestFS passed over a faulting mount")
	}
}

func TestGuestTestFSMounted(t *testing.T) {
	root := fstest.MapFS{"etc/os-release": fixtures.File("ID=debian\n", 0o644), "var": fixtures.Dir(0o755)}
	varFS := fstest.MapFS{"log/syslog": fixtures.File("x", 0o640), "log/os": fixtures.Symlink("/etc/os-release")}
	if err := fstest.TestFS(NewGuest(root, WithMounts(Mount{"var", varFS})), "var/log/syslog", "etc/os-release"); err != nil {
		t.Fatal(err)
	}
}

func TestMountInvalid(t *testing.T) {
	g := NewGuest(fstest.MapFS{}, WithMounts(Mount{"", fstest.MapFS{}}))
	if _, err := g.Stat("."); err == nil {
		t.Error("a Guest with an invalid mount answered")
	}
	if err := NewGuest(fstest.MapFS{}).Mount("var", nil); err == nil {
		t.Error("Mount of a nil backend succeeded")
	}
	if _, err := NewGuest(nil).Stat("."); err == nil {
		t.Error("a Guest with a nil root answered")
	}
}

// TestMountOrder: points that sort before "." and nested points pick the
// deepest mount; a mount at "/" replaces the root.
func TestMountOrder(t *testing.T) {
	root := fstest.MapFS{"-x": fixtures.Dir(0o755), "a/b": fixtures.Dir(0o755), "f": fixtures.File("root", 0o644)}
	g := NewGuest(root,
		WithMounts(Mount{"a/b", fstest.MapFS{"f": fixtures.File("ab", 0o644)}}),
		WithMounts(Mount{"-x", fstest.MapFS{"f": fixtures.File("-x", 0o644)}}),
		WithMounts(Mount{"a", fstest.MapFS{"b": fixtures.Dir(0o755), "f": fixtures.File("a", 0o644)}}))
	for name, want := range map[string]string{"f": "root", "-x/f": "-x", "a/f": "a", "a/b/f": "ab"} {
		if got, err := g.ReadFile(name); err != nil || string(got) != want {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if err := g.Mount("/", fstest.MapFS{"f": fixtures.File("new root", 0o644)}); err != nil {
		t.Fatal(err)
	}
	if got, err := g.ReadFile("f"); err != nil || string(got) != "new root" {
		t.Errorf("after mounting on /: %q, %v", got, err)
	}
	if n := len(g.Mounts()); n != 3 {
		t.Errorf("Mounts() has %d entries, want 3", n)
	}
}
