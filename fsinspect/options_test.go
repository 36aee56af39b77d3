package fsinspect

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/image"
)

// TestWithMaxHops resolves a link three hops from its file with the hop
// limit below, at and (0) at the default; below it the lookup is the
// ErrLoop fact.
func TestWithMaxHops(t *testing.T) {
	tree := fstest.MapFS{
		"file": fixtures.File("x", 0o644),
		"l3":   fixtures.Symlink("file"),
		"l2":   fixtures.Symlink("l3"),
		"l1":   fixtures.Symlink("l2"),
	}
	for _, tt := range []struct {
		hops int
		loop bool
	}{
		{1, true},
		{2, true},
		{3, false},
		{0, false},
	} {
		_, err := NewGuest(tree, WithMaxHops(tt.hops)).Stat("l1")
		if loop := errors.Is(err, ErrLoop) && IsFact(err); loop != tt.loop || (!tt.loop && err != nil) {
			t.Errorf("hops %d: Stat(l1) = %v; want loop %v", tt.hops, err, tt.loop)
		}
	}
}

// optionsDisk is a GPT disk whose root filesystem has a directory of 20
// entries ("many"), a link three hops from /etc/passwd ("l1") and a file
// of 512 KiB ("data"), the root directory itself holding 12 entries.
func optionsDisk(t *testing.T) (string, []byte) {
	tree := rootTree("")
	for i := range 20 {
		tree[fmt.Sprintf("many/f%02d", i)] = fixtures.File("x", 0o644)
	}
	tree["l3"] = fixtures.Symlink("etc/passwd")
	tree["l2"] = fixtures.Symlink("l3")
	tree["l1"] = fixtures.Symlink("/l2")
	data := bytes.Repeat([]byte("0123456789abcdef"), 512<<10/16)
	tree["data"] = fixtures.File(string(data), 0o644)
	root := fixtures.MustExt4(t, tree, fixtures.Ext4Options{})
	return fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}}}), data
}

func openDiskWith(t *testing.T, path string, opts ...Option) (*Guest, *Layout, error) {
	t.Helper()
	img, err := image.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return OpenImage(img, opts...)
}

// TestOpenImageLimits opens one disk with each bounding option lowered
// and checks that exceeding it is the same error as at the default.
func TestOpenImageLimits(t *testing.T) {
	path, data := optionsDisk(t)

	g, _, err := openDiskWith(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if ents, err := g.ReadDir("many"); err != nil || len(ents) != 20 {
		t.Errorf("default: ReadDir(many) = %d entries, %v; want 20", len(ents), err)
	}
	if _, err := g.Stat("l1"); err != nil {
		t.Errorf("default: Stat(l1): %v", err)
	}

	t.Run("dir entries", func(t *testing.T) {
		g, _, err := openDiskWith(t, path, WithDirEntries(15))
		if err != nil {
			t.Fatal(err)
		}
		ents, err := g.ReadDir("many")
		if !errors.Is(err, ext4.ErrUnsupported) || IsFact(err) || ents != nil {
			t.Errorf("ReadDir(many) = %d entries, %v; want a fault wrapping ext4.ErrUnsupported", len(ents), err)
		}
		if _, err := g.Stat("etc/passwd"); err != nil {
			t.Errorf("Stat(etc/passwd) in directories under the limit: %v", err)
		}
	})
	t.Run("hops", func(t *testing.T) {
		g, _, err := openDiskWith(t, path, WithMaxHops(2))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.Stat("l1"); !errors.Is(err, ErrLoop) || !IsFact(err) {
			t.Errorf("Stat(l1) with 2 hops: %v; want the ErrLoop fact", err)
		}
	})
	t.Run("table", func(t *testing.T) {
		g, l, err := openDiskWith(t, path, WithTableLimits(image.Limits{GPTEntries: 64}))
		if g != nil || l.Table != nil || !errors.Is(err, image.ErrUnsupported) {
			t.Errorf("OpenImage with 64 GPT entries over 128 = %v, table %v, %v; want the GPT refused", g, l.Table, err)
		}
	})
	t.Run("cache", func(t *testing.T) {
		// Two reads of data: the second is all cache hits by default,
		// and misses again with a cache of one block.
		for _, tt := range []struct {
			opts   []Option
			misses bool
		}{
			{nil, false},
			{[]Option{WithCacheSize(CacheBlockSize)}, true},
		} {
			g, _, err := openDiskWith(t, path, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := g.ReadFile("data"); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("ReadFile(data): %d bytes, %v", len(got), err)
			}
			before := g.Stats()
			if got, err := g.ReadFile("data"); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("ReadFile(data) again: %d bytes, %v", len(got), err)
			}
			if missed := g.Stats().CacheMisses - before.CacheMisses; (missed > 0) != tt.misses {
				t.Errorf("options %d: second read missed the cache %d times; want misses %v", len(tt.opts), missed, tt.misses)
			}
		}
	})
}
