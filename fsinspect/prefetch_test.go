package fsinspect

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// warmDisk is a disk whose root holds a 300 KB package database, apt
// Release files and a package index.
func warmDisk(t *testing.T) (string, fstest.MapFS) {
	t.Helper()
	var status strings.Builder
	for i := 0; status.Len() < 300<<10; i++ {
		status.WriteString("Package: pkg" + strings.Repeat("x", i%50) + "\nStatus: install ok installed\nVersion: 1.0\n\n")
	}
	tree := rootTree("")
	lists := "var/lib/apt/lists/"
	tree["var/lib/dpkg/status"] = fixtures.File(status.String(), 0o644)
	tree[lists+"deb.debian.org_debian_dists_bookworm_InRelease"] = fixtures.File(strings.Repeat("main ", 20000), 0o644)
	tree[lists+"deb.debian.org_debian_dists_bookworm-updates_InRelease"] = fixtures.File(strings.Repeat("upd ", 20000), 0o644)
	tree[lists+"deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"] = fixtures.File(strings.Repeat("Package: x\n", 20000), 0o644)
	mods := "usr/lib/modules/6.1.0-9-amd64/"
	tree[mods+"modules.dep"] = fixtures.File(strings.Repeat("kernel/drivers/block/virtio_blk.ko:\n", 3000), 0o644)
	tree[mods+"modules.builtin"] = fixtures.File(strings.Repeat("kernel/fs/ext4/ext4.ko\n", 3000), 0o644)
	tree[mods+"modules.alias"] = fixtures.File(strings.Repeat("alias pci:v* virtio_pci\n", 12000), 0o644)
	root := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Size: 64 << 20, UUID: rootUUID})
	return fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}}}), tree
}

// misses reads name whole from g and returns how many cache blocks the
// read missed.
func misses(t *testing.T, g *Guest, tree fstest.MapFS, name string) int64 {
	t.Helper()
	before := g.Stats().CacheMisses
	if got, err := g.ReadFile(name); err != nil || !bytes.Equal(got, tree[name].Data) {
		t.Fatalf("ReadFile(%s): %d bytes, %v", name, len(got), err)
	}
	return g.Stats().CacheMisses - before
}

// TestWithWarmFiles: once the read-ahead has settled, the files WarmFiles
// names (through a pattern in the last element or in one before it too)
// are cached, and a file it does not name is not; without the option
// nothing is.
func TestWithWarmFiles(t *testing.T) {
	path, tree := warmDisk(t)
	lists := "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm"
	mods := "usr/lib/modules/6.1.0-9-amd64/"
	warmed := []string{"var/lib/dpkg/status", lists + "_InRelease", lists + "-updates_InRelease", mods + "modules.dep", mods + "modules.builtin"}
	for _, warm := range []bool{true, false} {
		var opts []Option
		if warm {
			opts = append(opts, WithWarmFiles(WarmFiles...), WithReadAhead())
		}
		g, _, err := openDiskWith(t, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		g.Settle()
		var all int64
		for _, name := range warmed {
			n := misses(t, g, tree, name)
			if warm && n != 0 {
				t.Errorf("reading %s missed the cache %d times after it was read ahead", name, n)
			}
			all += n
		}
		if !warm && all == 0 {
			t.Error("without read-ahead, reading the files missed the cache never")
		}
		for _, name := range []string{lists + "_main_binary-amd64_Packages", mods + "modules.alias"} {
			if n := misses(t, g, tree, name); n == 0 {
				t.Errorf("warm %v: %s, which WarmFiles does not name, was read ahead", warm, name)
			}
		}
	}
}

// TestWithReadAhead streams the 300 KB package database 4 KiB at a time:
// with read-ahead, the first read fetches its first block (unless it is
// cached) and the second the rest, in at most two reads of the image;
// without, a read a block. The data is the same.
func TestWithReadAhead(t *testing.T) {
	path, tree := warmDisk(t)
	for _, tt := range []struct {
		opts  []Option
		reads func(int64) bool
	}{
		{[]Option{WithReadAhead()}, func(n int64) bool { return n >= 1 && n <= 2 }},
		{nil, func(n int64) bool { return n >= 4 }},
	} {
		g, _, err := openDiskWith(t, path, tt.opts...)
		if err != nil {
			t.Fatal(err)
		}
		f, err := g.Open("var/lib/dpkg/status")
		if err != nil {
			t.Fatal(err)
		}
		before := g.Stats().ReadCalls
		var got bytes.Buffer
		if _, err := io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{f}, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if !bytes.Equal(got.Bytes(), tree["var/lib/dpkg/status"].Data) {
			t.Errorf("options %d: streamed data differs from the file", len(tt.opts))
		}
		if n := g.Stats().ReadCalls - before; !tt.reads(n) {
			t.Errorf("options %d: streaming took %d reads of the image", len(tt.opts), n)
		}
	}
}
