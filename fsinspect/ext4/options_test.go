package ext4_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestWithMaxDirEntries reads a directory of 20 entries with the limit
// below, at and (0) at the default: below it, listing the directory and
// looking a name up in it both fail with ErrUnsupported, never with a
// partial listing.
func TestWithMaxDirEntries(t *testing.T) {
	tree := fstest.MapFS{"d": fixtures.Dir(0o755)}
	for i := range 20 {
		tree[fmt.Sprintf("d/f%02d", i)] = fixtures.File("x", 0o644)
	}
	p := fixtures.MustExt4(t, tree, fixtures.Ext4Options{})
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		max  int
		fail bool
	}{
		{10, true},
		{19, true},
		{20, false},
		{0, false},
	} {
		fsys, err := ext4.New(f, st.Size(), ext4.WithMaxDirEntries(tt.max))
		if err != nil {
			t.Fatal(err)
		}
		ents, rerr := fsys.ReadDir("d")
		_, serr := fsys.Stat("d/f07")
		if !tt.fail {
			if rerr != nil || len(ents) != 20 || serr != nil {
				t.Errorf("max %d: ReadDir = %d entries, %v; Stat: %v; want 20 entries, no error", tt.max, len(ents), rerr, serr)
			}
			continue
		}
		for _, err := range []error{rerr, serr} {
			want := fmt.Sprintf("more than %d entries (the dir-entries limit)", tt.max)
			if !errors.Is(err, ext4.ErrUnsupported) || errors.Is(err, fs.ErrNotExist) || !strings.Contains(fmt.Sprint(err), want) {
				t.Errorf("max %d: error %v; want ErrUnsupported with %q", tt.max, err, want)
			}
		}
		if ents != nil {
			t.Errorf("max %d: ReadDir returned %d entries beside its error", tt.max, len(ents))
		}
	}
}
