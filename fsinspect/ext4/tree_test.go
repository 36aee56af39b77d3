package ext4_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
)

// treeOptions vary the standard tree with what a filesystem can hold.
type treeOptions struct {
	// maxLink is the longest symlink target to declare (the block size
	// bounds it).
	maxLink int
	// links adds symlinks; fstest.TestFS needs a tree without them.
	links bool
}

// linkTarget returns an absolute symlink target of exactly n bytes.
func linkTarget(n int) string {
	s := "/" + strings.Repeat("0123456789abcdef/", n/17+1)
	return s[:n-1] + "z"
}

// standardTree is a small guest: system files with owners and special
// modes, files of sizes around block and inline boundaries, links of
// every kind, a deep path, odd names and a directory of several blocks.
func standardTree(o treeOptions) fstest.MapFS {
	dir := fixtures.Dir
	file := fixtures.File
	tree := fstest.MapFS{
		"etc":                               dir(0o755),
		"etc/passwd":                        file("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n", 0o644),
		"etc/shadow":                        at(fixtures.Owned("root:*:19000:0:99999:7:::\n", 0o640, 0, 42), time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)),
		"etc/motd":                          file("", 0o644),
		"etc/ssh":                           dir(0o755),
		"etc/ssh/sshd_config":               file(pattern(3000, 1), 0o644),
		"root":                              dir(0o700),
		"root/.ssh":                         dir(0o700),
		"root/.ssh/authorized_keys":         file("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests test@example\n", 0o600),
		"home":                              dir(0o755),
		"home/alice":                        {Mode: fs.ModeDir | 0o750, Sys: fixtures.Meta{Uid: 1000, Gid: 1000}},
		"home/alice/notes.txt":              fixtures.Owned("hello\n", 0o644, 1000, 1000),
		"home/alice/high-ids":               fixtures.Owned("uid and gid above 65535\n", 0o640, 70000, 131072),
		"tmp":                               dir(0o1777),
		"usr":                               dir(0o755),
		"usr/bin":                           dir(0o755),
		"usr/bin/sudo":                      file(pattern(10000, 2), 0o4755),
		"usr/bin/wall":                      file(pattern(700, 3), 0o2755),
		"usr/bin/sudoedit":                  {Mode: 0o4755, Sys: fixtures.Meta{HardLink: "usr/bin/sudo"}},
		"old":                               at(file("before 1970\n", 0o444), time.Date(1965, 3, 1, 8, 30, 0, 0, time.UTC)),
		"deep/a/b/c/d/e/f/g/h/file":         file("deep\n", 0o644),
		"names":                             dir(0o755),
		"names/" + strings.Repeat("n", 255): file("long name\n", 0o644),
		"names/with space":                  file("space\n", 0o644),
		"names/ünïcödé":                     file("utf-8\n", 0o644),
		`names/back\slash:colon`:            file("odd\n", 0o644),
		"many":                              dir(0o755),
		"data":                              dir(0o755),
	}
	for _, d := range []string{"deep", "deep/a", "deep/a/b", "deep/a/b/c", "deep/a/b/c/d", "deep/a/b/c/d/e", "deep/a/b/c/d/e/f", "deep/a/b/c/d/e/f/g", "deep/a/b/c/d/e/f/g/h"} {
		tree[d] = dir(0o755)
	}
	for i, n := range []int{1, 59, 60, 61, 100, 1023, 1024, 1025, 4095, 4096, 4097, 200000, 1300000} {
		tree[fmt.Sprintf("data/size-%d", n)] = file(pattern(n, byte(10+i)), 0o644)
	}
	for i := range 300 {
		tree[fmt.Sprintf("many/entry-%03d-%s", i, strings.Repeat("x", i%40))] = file(fmt.Sprint(i), 0o600)
	}
	if o.links {
		tree["links"] = dir(0o755)
		tree["links/rel"] = fixtures.Symlink("../etc/passwd")
		tree["links/abs"] = fixtures.Symlink("/etc/ssh/sshd_config")
		tree["links/dangling"] = fixtures.Symlink("/nonexistent/target")
		tree["links/dir"] = fixtures.Symlink("../usr/bin")
		for _, n := range []int{1, 59, 60, 61, 200, 1000, 4000} {
			if n <= o.maxLink {
				tree[fmt.Sprintf("links/len-%d", n)] = fixtures.Symlink(linkTarget(n))
			}
		}
	}
	return tree
}
