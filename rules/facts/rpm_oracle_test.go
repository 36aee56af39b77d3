package facts

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	_ "github.com/glebarez/go-sqlite" // SQLite itself, to write a database in WAL mode
	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
)

// rpmOracle lists the packages of the database at host path p with
// go-rpmdb, the library the rpm facts were first built on, as the rpm
// facts spell them.
func rpmOracle(p string) ([]string, error) {
	db, err := rpmdb.Open(p)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	list, err := db.ListPackages()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pi := range list {
		v := pi.Version + "-" + pi.Release
		if pi.Epoch != nil && *pi.Epoch != 0 {
			v = strconv.Itoa(*pi.Epoch) + ":" + v
		}
		out = append(out, fmt.Sprintf("%s %s %s", pi.Name, v, pi.Arch))
	}
	return out, nil
}

// rpmOurs lists the packages of the database at host path p, and of
// its write-ahead log beside it if any, through the rpm facts of a guest
// holding them in /var/lib/rpm.
func rpmOurs(p string) ([]string, error) {
	tree := fstest.MapFS{"etc/os-release": fixtures.File("ID=rocky\n", 0o644)}
	name := filepath.Base(p)
	if name != "Packages" && name != "Packages.db" {
		name = "rpmdb.sqlite"
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(p + suffix)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		tree["var/lib/rpm/"+name+suffix] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	db, err := New(fsinspect.NewGuest(tree), Options{}).Packages()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pkg := range db.Packages {
		out = append(out, fmt.Sprintf("%s %s %s", pkg.Name, pkg.Version, pkg.Arch))
	}
	return out, nil
}

// walRPMDB copies the SQLite rpm database at src into WAL mode and
// deletes its last package in a commit left in the write-ahead log (the
// files are copied while SQLite still has them open): a database whose
// latest state only the log holds.
func walRPMDB(t *testing.T, src string) string {
	dir := t.TempDir()
	work := filepath.Join(dir, "work.sqlite")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(work, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", work)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0", "DELETE FROM Packages WHERE hnum = (SELECT max(hnum) FROM Packages)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(work + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// oracleDatabases are the rpm databases both readers list: the fixtures
// rpm builds (SQLite, converted to a Berkeley DB by db_load and to NDB
// by fixtures) and the real ones go-rpmdb's module ships as test data (CentOS 5
// to 8, Fedora 35, SLE 15, CBL-Mariner, UBI 8 on s390x).
func oracleDatabases(t *testing.T) []string {
	pkgs := []fixtures.RPMPackage{
		{Name: "cloud-init", Epoch: "1", Version: "19.4", Release: "7.el8"},
		{Name: "openssh-server", Version: "8.0p1", Release: "19.el8"},
		{Name: "bash", Epoch: "0", Version: "4.4.20", Release: "4.el8"},
	}
	sqlite, err := fixtures.RPMDB(fixtures.CacheDir(), pkgs...)
	if err != nil {
		t.Skip(err)
	}
	bdb, err := fixtures.RPMBerkeleyDB(fixtures.CacheDir(), pkgs...)
	if err != nil {
		t.Skip(err)
	}
	ndb, err := fixtures.RPMNDB(fixtures.CacheDir(), pkgs...)
	if err != nil {
		t.Skip(err)
	}
	dbs := []string{sqlite, walRPMDB(t, sqlite), hostCopy(t, bdb, "Packages"), hostCopy(t, ndb, "Packages.db")}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Fatalf("go-rpmdb's module: %v", err)
	}
	real, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "pkg/testdata/*/*"))
	if len(real) < 10 {
		t.Fatalf("go-rpmdb's test databases: found %v", real)
	}
	return append(dbs, real...)
}

// hostCopy copies the file at src to name in a directory of its own.
func hostCopy(t *testing.T, src, name string) string {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRPMOracle: every database gives the same packages, in the same
// order, through go-rpmdb and through the rpm facts. Ours read first:
// go-rpmdb's SQLite folds a write-ahead log into its database on close.
func TestRPMOracle(t *testing.T) {
	for _, p := range oracleDatabases(t) {
		got, err := rpmOurs(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		want, err := rpmOracle(p)
		if err != nil {
			t.Fatalf("%s: go-rpmdb: %v", p, err)
		}
		t.Logf("%s: %d packages", p, len(got))
		if len(got) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: %d packages, go-rpmdb %d:\n%s", p, len(got), len(want), firstDiff(got, want))
		}
	}
}

// firstDiff shows where two package lists part.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("#%d: %q, go-rpmdb %q", i, got[i], want[i])
		}
	}
	return "one list is a prefix of the other"
}
