package ext4_test

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// A dumpedGroup is what dumpe2fs says of a block group: where its inode
// table starts (in blocks), whether it is uninitialised, how many
// directories it holds and how many inodes at its end were never used.
type dumpedGroup struct {
	table          int64
	uninit         bool
	dirs, unused   int64
	sawTable, sawN bool
}

var (
	groupLine  = regexp.MustCompile(`^Group (\d+): .*?(\[.*\])?$`)
	tableLine  = regexp.MustCompile(`^\s+Inode table at (\d+)-`)
	countsLine = regexp.MustCompile(`(\d+) directories(?:, (\d+) unused inodes)?`)
)

// dumpGroups runs dumpe2fs on img and returns its groups.
func dumpGroups(t *testing.T, img string) []dumpedGroup {
	t.Helper()
	var gs []dumpedGroup
	for _, line := range strings.Split(runTool(t, "dumpe2fs", img), "\n") {
		if m := groupLine.FindStringSubmatch(line); m != nil {
			gs = append(gs, dumpedGroup{uninit: strings.Contains(m[2], "INODE_UNINIT")})
			continue
		}
		if len(gs) == 0 {
			continue
		}
		g := &gs[len(gs)-1]
		if m := tableLine.FindStringSubmatch(line); m != nil {
			g.table, _ = strconv.ParseInt(m[1], 10, 64)
			g.sawTable = true
		}
		if m := countsLine.FindStringSubmatch(line); m != nil {
			g.dirs, _ = strconv.ParseInt(m[1], 10, 64)
			g.unused, _ = strconv.ParseInt(m[2], 10, 64)
			g.sawN = true
		}
	}
	for i, g := range gs {
		if !g.sawTable || !g.sawN {
			t.Fatalf("dumpe2fs output for group %d not understood", i)
		}
	}
	return gs
}

// TestInodeTablesInUse builds a filesystem of 1 KiB blocks whose 64
// inodes a group its tree spreads over several groups, leaving the last
// ones uninitialised, and asks where its inode tables in use lie: every
// live inode is inside, no uninitialised table is, the ranges are sorted
// and merged, and a smaller budget is kept, filled with the groups that
// hold directories first.
func TestInodeTablesInUse(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{}
	for d := range 6 {
		for f := range 30 {
			tree[fmt.Sprintf("d%d/f%d", d, f)] = fixtures.File("x", 0o644)
		}
	}
	img := fixtures.MustExt4(t, tree, fixtures.Ext4Options{BlockSize: 1024, Size: 64 << 20, Extra: []string{"-N", "512"}})
	fsys, _ := openPrefetchLog(t, img)
	groups := dumpGroups(t, img)
	const inodeSize = 256
	perGroup := int64(512 / len(groups))
	if len(groups) < 4 || perGroup*int64(len(groups)) != 512 || !groups[len(groups)-1].uninit {
		t.Fatalf("fixture has %d groups (last uninitialised: %v), want several of %d inodes and an uninitialised last", len(groups), groups[len(groups)-1].uninit, perGroup)
	}

	rs := fsys.InodeTablesInUse(1 << 30)
	inside := func(off int64) bool {
		for _, r := range rs {
			if off >= r.Off && off < r.Off+r.N {
				return true
			}
		}
		return false
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Off <= rs[i-1].Off+rs[i-1].N {
			t.Errorf("ranges %v: not sorted, or adjacent ones not merged", rs)
		}
	}
	live := 0
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		ino := int64(fi.Sys().(*ext4.Stat).Ino)
		g := groups[(ino-1)/perGroup]
		if off := g.table*1024 + (ino-1)%perGroup*inodeSize; !inside(off) {
			t.Errorf("%s: inode %d at byte %d is outside the tables in use %v", name, ino, off, rs)
		}
		live++
		return nil
	})
	if err != nil || live < 180 {
		t.Fatalf("walk: %v, %d inodes", err, live)
	}
	for i, g := range groups {
		if g.uninit && inside(g.table*1024) {
			t.Errorf("group %d: its uninitialised inode table is in %v", i, rs)
		}
	}

	// The budget of one group's used table goes to a group with
	// directories.
	for i, g := range groups {
		if g.uninit || g.dirs == 0 {
			continue
		}
		n := ((perGroup-g.unused)*inodeSize + 1023) / 1024 * 1024
		got := fsys.InodeTablesInUse(n)
		var sum int64
		for _, r := range got {
			sum += r.N
		}
		if sum == 0 || sum > n {
			t.Errorf("a budget of %d bytes (group %d's table in use) got %v", n, i, got)
		}
		break
	}
	if got := fsys.InodeTablesInUse(100); len(got) != 0 {
		t.Errorf("a budget of 100 bytes got %v", got)
	}
}
