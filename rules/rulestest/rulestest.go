// Package rulestest runs rules over guests held in memory, for the tests
// of the rules and of the img_check emulation: rules see only the guest
// view, so most rule tests need no filesystem image.
package rulestest

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
)

// Guest returns a guest over tree held in memory, with modes as fixtures
// writes them to an image: Unix setuid, setgid and sticky bits (0o4000,
// 0o2000, 0o1000) become Go's mode bits, a directory without permissions
// is 0755 and a file without a time has fixtures.Epoch.
func Guest(t testing.TB, tree fstest.MapFS) *fsinspect.Guest {
	t.Helper()
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
	return fsinspect.NewGuest(out)
}

// Run runs the rule id of profile o.Profile (the marketplace profile when
// unset) alone on g with options o and returns its findings.
func Run(t testing.TB, g *fsinspect.Guest, id string, o rules.Options) []rules.Finding {
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
	res := rules.Run(t.Context(), g, sel[i:i+1], o, nil)
	if len(res) != 1 {
		t.Fatalf("rule %s: %d results, want 1", id, len(res))
	}
	return res[0].Findings
}

// NoSecret fails t when any text of fs (message, subject, fix, skip
// reason, evidence) holds one of secrets.
func NoSecret(t testing.TB, fs []rules.Finding, secrets ...string) {
	t.Helper()
	for _, f := range fs {
		texts := []string{f.Message, f.Subject, f.Fix, f.SkipReason}
		for _, kv := range f.Evidence {
			texts = append(texts, kv.Key, kv.Value)
		}
		for _, s := range secrets {
			for _, text := range texts {
				if strings.Contains(text, s) {
					t.Errorf("secret %.12q… leaked in finding %+v", s, f)
				}
			}
		}
	}
}
