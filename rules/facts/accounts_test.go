package facts_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules/facts"
)

func TestHomes(t *testing.T) {
	tree := fstest.MapFS{
		"etc/passwd": passwd(
			"root:x:0:0:root:/root:/bin/bash",
			"daemon:x:1:1::/usr/sbin:/usr/sbin/nologin",
			"alice:x:1000:1000::/home/alice:/bin/bash",
			"alias:x:1001:1001::/home/link-to-alice/:/bin/bash",
			"app:x:999:999::/srv/./app/../app:/bin/sh",
			"file:x:998:998::/etc/hostname:/bin/sh",
			"gone:x:997:997::/nonexistent:/bin/sh",
			"rel:x:996:996::relative/home:/bin/sh",
		),
		"etc/hostname":       fixtures.File("h\n", 0o644),
		"usr/sbin":           fixtures.Dir(0o755),
		"root":               fixtures.Dir(0o700),
		"home/alice":         fixtures.Dir(0o755),
		"home/link-to-alice": fixtures.Symlink("alice"),
		"home/orphan":        &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 1000}},
		"home/stray.txt":     fixtures.File("x", 0o644),
		"srv/app":            fixtures.Dir(0o755),
	}
	fc := facts.New(testGuest(t, tree), facts.Options{})
	homes, err := fc.Homes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range homes {
		got = append(got, h.Display()+"="+h.User+"["+strings.Join(h.Users, ",")+"]")
		if h.Orphan {
			got[len(got)-1] += "orphan"
		}
	}
	want := "/root=root[root] /usr/sbin=daemon[daemon] /home/alice=alice[alice,alias] /srv/app=app[app] /home/orphan=alice[]orphan"
	if strings.Join(got, " ") != want {
		t.Errorf("homes\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestAccountsFact(t *testing.T) {
	tree := fstest.MapFS{
		"etc/passwd":     passwd("# comment", "root:x:0:0:root:/root:/bin/bash", "short:x:1", "bob:x:1000:1000:Bob,,,:/home/bob:/bin/bash"),
		"etc/shadow":     shadow("root:*:1::::::", "orphan:"+sha512Hash+":1::::::"),
		"etc/group":      fixtures.File("root:x:0:\nsudo:x:27:bob,alice\n", 0o644),
		"etc/login.defs": fixtures.File("#UID_MIN 5\nUID_MIN 2000\n", 0o644),
	}
	a, err := facts.New(testGuest(t, tree), facts.Options{}).Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Users) != 2 || a.Users[1].Name != "bob" || a.Users[1].UID != 1000 || a.Users[1].Line != 4 || a.UIDMin != 2000 {
		t.Errorf("accounts %+v", a)
	}
	if len(a.Groups) != 2 || strings.Join(a.Groups[1].Members, ",") != "bob,alice" || !a.ShadowPresent {
		t.Errorf("groups %+v", a.Groups)
	}
	var creds []string
	for _, c := range a.Credentials() {
		creds = append(creds, c.User+"@"+c.Source)
	}
	// bob has "x" and no shadow line: no credential; orphan is a shadow-only line.
	if strings.Join(creds, " ") != "root@/etc/shadow orphan@/etc/shadow" {
		t.Errorf("credentials %v", creds)
	}
}
