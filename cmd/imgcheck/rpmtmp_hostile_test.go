package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

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
// hole to 500 MiB: the packages are read within the memory bound, and
// nothing is left in --tmpdir or $TMPDIR. The SQLite database is copied
// under --tmpdir: one that does not exist is an ERROR naming it.
func TestRPMDatabaseSparse(t *testing.T) {
	for _, c := range []struct {
		name string
		bdb  bool
	}{{"rpmdb.sqlite", false}, {"Packages claiming every page", true}} {
		t.Run(c.name, func(t *testing.T) {
			img := sparseRPMImage(t, 500<<20, c.bdb)
			tmp, env := t.TempDir(), t.TempDir()
			r := runChild(t, []string{"TMPDIR=" + env}, "scan", "--hash=false", "--tmpdir", tmp, img)
			t.Logf("exit %d, peak RSS %d MiB", r.code, r.maxRSS>>20)
			if r.code != 1 || !strings.Contains(r.stdout, "cloud-init 0.7.5 is older than 0.7.6") || !strings.Contains(r.stdout, "FAIL: 1 FAIL, 0 ERROR,") {
				t.Errorf("exit %d, want 1 (cloud-init too old, read from the database):\n%s%s", r.code, r.stdout, r.stderr)
			}
			if r.maxRSS == 0 || r.maxRSS > memoryBound {
				t.Errorf("peak RSS %d MiB, bound %d MiB", r.maxRSS>>20, memoryBound>>20)
			}
			emptyDir(t, "--tmpdir", tmp)
			emptyDir(t, "$TMPDIR", env)
			if c.bdb {
				return
			}
			missing := filepath.Join(t.TempDir(), "missing")
			r = runChild(t, []string{"TMPDIR=" + env}, "scan", "--hash=false", "--tmpdir", missing, img)
			if r.code != 3 || !strings.Contains(r.stdout, missing) {
				t.Errorf("--tmpdir %s: exit %d, want 3 and ERRORs naming it:\n%s%s", missing, r.code, r.stdout, r.stderr)
			}
			emptyDir(t, "$TMPDIR", env)
		})
	}
}

// TestRPMCopyRemovedOnExit stops a scan while its copy of the rpm
// database exists, by SIGTERM and by its --timeout (the child is frozen
// past its deadline, so that the scan is abandoned with its copy under
// way): the scan ends in an error, and the copy is gone once the process
// has exited.
func TestRPMCopyRemovedOnExit(t *testing.T) {
	img := sparseRPMImage(t, 500<<20, false)
	for _, c := range []struct{ stop, says string }{
		{"SIGTERM", "scan stopped"},
		{"timeout", "timed out after 5s"},
	} {
		t.Run(c.stop, func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(os.Args[0], "scan", "--hash=false", "--tmpdir", tmp, "--timeout", "5s", img)
			cmd.Env = append(os.Environ(), "IMGCHECK_TEST_CHILD=1", "TMPDIR="+tmp)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			for {
				if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
					break
				}
				if time.Since(start) > childTimeout {
					t.Fatal("no temporary directory appeared in --tmpdir")
				}
				time.Sleep(time.Millisecond)
			}
			if c.stop == "SIGTERM" {
				cmd.Process.Signal(syscall.SIGTERM)
			} else {
				cmd.Process.Signal(syscall.SIGSTOP)
				time.Sleep(time.Until(start.Add(6 * time.Second)))
				cmd.Process.Signal(syscall.SIGCONT)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(childTimeout):
				t.Fatalf("imgcheck did not end after %s", c.stop)
			}
			if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(out.String(), c.says) {
				t.Errorf("exit %d after %s, want 3 and %q:\n%s", code, c.stop, c.says, out.String())
			}
			emptyDir(t, "--tmpdir", tmp)
		})
	}
}
