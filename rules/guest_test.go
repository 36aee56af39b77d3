package rules_test

import (
	"slices"
	"testing"
	"testing/fstest"

	_ "github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/rules"
)

// testGuest builds tree into an ext4 image with mkfs.ext4 -d (cached by
// fixtures) and returns a guest reading it through our ext4 reader.
func testGuest(t *testing.T, tree fstest.MapFS) *fsinspect.Guest {
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
