package rules_test

import (
	"testing"
	"testing/fstest"

	_ "github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/rules/rulestest"
)

// testGuest, runRule and noSecret are rulestest's.
var (
	testGuest = rulestest.Guest
	runRule   = rulestest.Run
	noSecret  = rulestest.NoSecret
)

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
