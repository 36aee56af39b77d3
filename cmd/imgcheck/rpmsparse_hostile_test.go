package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// sparseRPMImage is centosLegacyTree with its rpm database padded with a
// hole to size bytes: the rpmdb.sqlite, or with bdb the database as a
// Berkeley DB Packages file whose metadata claims every page up to the
// end, so that a reader walks the hole page by page.
func sparseRPMImage(t *testing.T, size int64, bdb bool) string {
	tree := centosLegacyTree(t)
	if bdb {
		delete(tree, "var/lib/rpm/rpmdb.sqlite")
		b := bytes.Clone(fixtures.MustRPMBerkeleyDB(t, centosPackages...))
		binary.LittleEndian.PutUint32(b[32:], uint32(size/512-1)) // last_pgno, of 512-byte pages
		tree["var/lib/rpm/Packages"] = &fstest.MapFile{Data: b, Mode: 0o644, Sys: fixtures.Meta{SparseSize: size}}
	} else {
		db := tree["var/lib/rpm/rpmdb.sqlite"]
		db.Sys = fixtures.Meta{SparseSize: size}
	}
	return gptImage(t, tree)
}

// emptyDir fails t if dir holds anything.
func emptyDir(t *testing.T, what, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s: %s left behind", what, filepath.Join(dir, e.Name()))
	}
}

// TestRPMDatabaseSparse scans images whose rpm database is padded with a
// hole to 500 MiB: the packages are read in place within the memory
// bound, and nothing is written to --tmpdir or $TMPDIR; one that does not
// exist changes nothing.
func TestRPMDatabaseSparse(t *testing.T) {
	for _, c := range []struct {
		name string
		bdb  bool
	}{{"rpmdb.sqlite", false}, {"Packages claiming every page", true}} {
		t.Run(c.name, func(t *testing.T) {
			img := sparseRPMImage(t, 500<<20, c.bdb)
			tmp, env := t.TempDir(), t.TempDir()
			for _, dir := range []string{tmp, filepath.Join(tmp, "missing")} {
				r := runChild(t, []string{"TMPDIR=" + env}, "scan", "--hash=false", "--tmpdir", dir, img)
				t.Logf("exit %d, peak RSS %d MiB", r.code, r.maxRSS>>20)
				if r.code != 1 || !strings.Contains(r.stdout, "cloud-init 0.7.5 is older than 0.7.6") || !strings.Contains(r.stdout, "FAIL: 1 FAIL, 0 ERROR,") {
					t.Errorf("--tmpdir %s: exit %d, want 1 (cloud-init too old, read from the database):\n%s%s", dir, r.code, r.stdout, r.stderr)
				}
				if r.maxRSS == 0 || r.maxRSS > memoryBound {
					t.Errorf("peak RSS %d MiB, bound %d MiB", r.maxRSS>>20, memoryBound>>20)
				}
				emptyDir(t, "--tmpdir", tmp)
				emptyDir(t, "$TMPDIR", env)
			}
		})
	}
}
