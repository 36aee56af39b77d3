package rules_test

import (
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	_ "github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/rules"
)

// testGuest returns a guest over tree held in memory: rules see only the
// guest view, so most rule tests need no filesystem image.
func testGuest(t *testing.T, tree fstest.MapFS) *fsinspect.Guest {
	t.Helper()
	return fsinspect.NewGuest(withUnixModes(tree))
}

// withUnixModes returns a copy of tree with modes as fixtures writes them
// to an image: Unix setuid, setgid and sticky bits (0o4000, 0o2000,
// 0o1000) become Go's mode bits, a directory without permissions is 0755
// and a file without a time has fixtures.Epoch.
func withUnixModes(tree fstest.MapFS) fstest.MapFS {
	out := make(fstest.MapFS, len(tree))
	for name, f := range tree {
		c := *f
		for unixBit, goBit := range map[fs.FileMode]fs.FileMode{0o1000: fs.ModeSticky, 0o2000: fs.ModeSetgid, 0o4000: fs.ModeSetuid} {
			if c.Mode&unixBit != 0 {
				c.Mode = c.Mode&^unixBit | goBit
			}
		}
		if c.Mode.IsDir() && c.Mode.Perm() == 0 {
			c.Mode |= 0o755
		}
		if c.ModTime.IsZero() {
			c.ModTime = fixtures.Epoch
		}
		out[name] = &c
	}
	return out
}

// ext4Guest builds tree into an ext4 image with mkfs.ext4 -d (cached by
// fixtures) and returns a guest reading it through our ext4 reader, for
// tests whose trees need what only a real filesystem has (sparse files).
func ext4Guest(t *testing.T, tree fstest.MapFS) *fsinspect.Guest {
	t.Helper()
	fsys, err := ext4.Open(fixtures.MustExt4(t, tree, fixtures.Ext4Options{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsinspect.NewGuest(fsys)
}

// runRule runs the rule id of profile o.Profile alone on g with options o and
// returns its findings.
func runRule(t *testing.T, g *fsinspect.Guest, id string, o rules.Options) []rules.Finding {
	t.Helper()
	if o.Profile == "" {
		o.Profile = rules.Marketplace
	}
	sel, err := rules.Select(o.Profile, []string{id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(sel, func(r rules.Rule) bool { return r.ID == id })
	if i < 0 {
		t.Fatalf("rule %q is not registered in profile %s", id, o.Profile)
	}
	r := sel[i]
	res := rules.Run(t.Context(), g, []rules.Rule{r}, o, nil)
	if len(res) != 1 {
		t.Fatalf("rule %s: %d results, want 1", id, len(res))
	}
	return res[0].Findings
}
