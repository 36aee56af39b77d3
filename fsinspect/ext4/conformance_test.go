package ext4_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestFS runs the io/fs conformance suite over fixture trees without
// symlinks (TestFS opens every entry, and would follow them).
func TestFS(t *testing.T) {
	t.Parallel()
	tree := standardTree(treeOptions{})
	delete(tree, `names/back\slash:colon`) // TestFS rejects backslashes in names
	// TestFS reads every file a byte at a time: keep the files small.
	delete(tree, "data/size-200000")
	delete(tree, "data/size-1300000")
	for _, o := range []fixtures.Ext4Options{{BlockSize: 4096}, {BlockSize: 4096, Features: "inline_data"}, {Type: "ext3", BlockSize: 1024}} {
		t.Run(fmt.Sprintf("%s-%d-%s", o.Type, o.BlockSize, o.Features), func(t *testing.T) {
			t.Parallel()
			fsys := openFS(t, fixtures.MustExt4(t, tree, o))
			if err := fstest.TestFS(fsys, "etc/passwd", "usr/bin/sudo", "data/size-4097", "deep/a/b/c/d/e/f/g/h/file", "lost+found"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConcurrent reads different files from 16 goroutines at once, each
// through its own and a shared open file, and checks every byte.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{}
	for i := range 16 {
		tree[fmt.Sprintf("f%02d", i)] = fixtures.File(pattern(300000+i*4099, byte(i)), 0o644)
	}
	for _, o := range []fixtures.Ext4Options{{BlockSize: 4096}, {Type: "ext3", BlockSize: 1024}} {
		fsys := openFS(t, fixtures.MustExt4(t, tree, o))
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				name := fmt.Sprintf("f%02d", i)
				want := tree[name].Data
				for round := range 5 {
					var got []byte
					var err error
					if round%2 == 0 {
						got, err = fsys.ReadFile(name)
					} else {
						got, err = fs.ReadFile(fsys, name) // through Open and Read
					}
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s round %d: %d bytes, %v; content equal: %v", name, round, len(got), err, bytes.Equal(got, want))
						return
					}
				}
			})
		}
		wg.Wait()
	}
}
