package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
)

// testGuest builds tree into a guest the rules can read.
//
// TODO(ext4): the ext4 backend has not landed yet, so the tree is written
// to a temporary host directory and read through fsinspect.OpenDir. Switch
// to fixtures.MustExt4 + ext4.New + fsinspect.NewGuest when it does.
func testGuest(t *testing.T, tree fstest.MapFS) *fsinspect.Guest {
	t.Helper()
	dir := t.TempDir()
	if err := fixtures.Materialize(dir, tree); err != nil {
		t.Fatal(err)
	}
	d, err := fsinspect.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return fsinspect.NewGuest(d)
}

// runRule runs the registered rule id alone on g with options o and
// returns its findings.
func runRule(t *testing.T, g *fsinspect.Guest, id string, o rules.Options) []rules.Finding {
	t.Helper()
	r, ok := rules.Lookup(id)
	if !ok {
		t.Fatalf("rule %q is not registered", id)
	}
	if o.Profile == "" {
		o.Profile = rules.Marketplace
	}
	res := rules.Run(t.Context(), g, []rules.Rule{r}, o, nil)
	if len(res) != 1 {
		t.Fatalf("rule %s: %d results, want 1", id, len(res))
	}
	return res[0].Findings
}
