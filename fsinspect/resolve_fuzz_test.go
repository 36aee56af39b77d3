package fsinspect

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// FuzzResolve builds a guest from "name>target" link lines over a fixed
// tree and checks the resolver's invariants: no panic, and a resolved
// name is a valid, link-free path that exists.
func FuzzResolve(f *testing.F) {
	f.Add("a>b\nb>/a")
	f.Add("x>../../../../etc/passwd\ny>/x/../etc")
	f.Add("etc/l>..\nm>etc/l/etc/l/etc/l/usr")
	f.Add("d>usr/\ne>etc/passwd/")
	f.Add("a>" + strings.Repeat("usr/bin/../../", 300) + "etc/passwd\nb>a\nc>b\nd>c") // 1,200 components a hop
	f.Fuzz(func(t *testing.T, spec string) {
		tree := fstest.MapFS{
			"etc/passwd": fixtures.File("p", 0o644),
			"usr/bin/sh": fixtures.File("s", 0o755),
		}
		var names []string
		for line := range strings.SplitSeq(spec, "\n") {
			name, target, ok := strings.Cut(line, ">")
			if !ok || !fs.ValidPath(name) || name == "." || tree[name] != nil || len(names) > 20 {
				continue
			}
			tree[name] = fixtures.Symlink(target)
			names = append(names, name)
		}
		g := NewGuest(tree)
		for _, name := range append(names, "etc/passwd", "usr/bin/sh") {
			p, err := g.Resolve(name)
			if err != nil {
				continue
			}
			if !fs.ValidPath(p) {
				t.Fatalf("Resolve(%q) = %q: not a valid path", name, p)
			}
			fi, err := tree.Lstat(p)
			if p != "." && (err != nil || fi.Mode()&fs.ModeSymlink != 0) {
				t.Fatalf("Resolve(%q) = %q, which is %v, %v", name, p, fi, err)
			}
		}
	})
}
