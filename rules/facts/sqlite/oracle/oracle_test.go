// Package oracle_test checks package sqlite against SQLite itself (the
// pure-Go glebarez/modernc driver), in a package of its own so that
// package sqlite's tests and fuzz target do not link SQLite.
package oracle_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite" // the oracle: SQLite itself, in pure Go

	"github.com/imgcheck/imgcheck/rules/facts/sqlite"
)

// A dbSpec says how to build a test database.
type dbSpec struct {
	pageSize int
	encoding string // "" for UTF-8
	wal      bool   // leave commits in the write-ahead log
}

// buildDB writes a database in dir with SQLite itself: a table of mixed
// values (integers of every width, floats, text, blobs under, around and
// far over the overflow thresholds, NULLs, booleans), rowids with gaps,
// negative and large ones, deleted rows, an INTEGER PRIMARY KEY table, an
// index and a column added by ALTER TABLE. With wal, the database is in
// WAL mode and the files are copied while the connection is still open,
// so that the later commits are only in the log. It returns the
// database's path (the log, if any, beside it with "-wal").
func buildDB(t testing.TB, dir string, s dbSpec) string {
	t.Helper()
	src := filepath.Join(dir, "src.sqlite")
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(fmt.Sprintf("PRAGMA page_size=%d", s.pageSize))
	if s.encoding != "" {
		exec(fmt.Sprintf("PRAGMA encoding='%s'", s.encoding))
	}
	exec("CREATE TABLE mixed (a, b, c, d, e)")
	exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
	exec("CREATE INDEX mixed_a ON mixed(a)")
	if s.wal {
		exec("PRAGMA journal_mode=WAL")
		exec("PRAGMA wal_autocheckpoint=0")
	}
	ints := []int64{0, 1, -1, 127, -128, 128, 32767, -32768, 1 << 23, -(1 << 23), 1 << 31, -(1 << 31), 1 << 47, -(1 << 47), 1<<63 - 1, -1 << 63}
	u := s.pageSize
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	ins := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := range 3000 {
		n := i * 7919 % 600
		if i%50 == 0 {
			n = 2*u + i
		}
		var e any
		switch i % 3 {
		case 1:
			e = i%2 == 0
		case 2:
			e = strings.Repeat("é", i%40)
		}
		ins("INSERT INTO mixed VALUES (?, ?, ?, ?, ?)", ints[i%len(ints)]+int64(i%3), float64(i)/7, fmt.Sprintf("row %d ✓", i), bytes.Repeat([]byte{byte(i)}, n), e)
	}
	// Around the local-payload thresholds: X = U-35, and K against X.
	for n := u - 100; n < u+100; n++ {
		ins("INSERT INTO Packages(blob) VALUES (?)", bytes.Repeat([]byte{byte(n)}, n))
	}
	for n := 2*u - 100; n < 2*u+100; n += 3 {
		ins("INSERT INTO Packages(blob) VALUES (?)", bytes.Repeat([]byte{byte(n)}, n))
	}
	ins("INSERT INTO mixed(rowid, a) VALUES (-5, 'negative rowid'), (1 << 62, 'large rowid')")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	exec("DELETE FROM mixed WHERE rowid % 7 = 3")
	exec("ALTER TABLE mixed ADD COLUMN f")
	exec("INSERT INTO mixed VALUES (1, 2.5, 'after alter', x'00ff', NULL, 'f')")
	if s.wal {
		exec("UPDATE mixed SET c = 'updated in the log' WHERE rowid % 5 = 0")
		exec("INSERT INTO Packages(blob) VALUES (?)", bytes.Repeat([]byte("wal"), 3*u))
	}
	out := filepath.Join(dir, "db.sqlite")
	copyFile(t, src, out)
	if s.wal {
		copyFile(t, src+"-wal", out+"-wal")
	}
	return out
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A row is a rowid and its values, as both readers give them.
type row struct {
	id     int64
	values []any
}

// String shows a row with its blobs as lengths and digests.
func (r row) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rowid %d:", r.id)
	for _, v := range r.values {
		if blob, ok := v.([]byte); ok {
			fmt.Fprintf(&b, " blob(%d bytes, sha256 %x)", len(blob), sha256.Sum256(blob))
			continue
		}
		fmt.Fprintf(&b, " %T(%.60q)", v, fmt.Sprint(v))
	}
	return b.String()
}

// oracleRows reads a table with SQLite itself: its INTEGER PRIMARY KEY
// column, if any, as NULL (as a record stores it), and the columns a row
// lacks as NULL, which are SQLite's defaults only for ADD COLUMN.
func oracleRows(t *testing.T, p, table string) []row {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+p+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ipk := -1
	info, err := db.Query(fmt.Sprintf("SELECT cid, type, pk FROM pragma_table_info('%s')", table))
	if err != nil {
		t.Fatal(err)
	}
	pks := 0
	for info.Next() {
		var cid, pk int
		var typ string
		if err := info.Scan(&cid, &typ, &pk); err != nil {
			t.Fatal(err)
		}
		if pk > 0 {
			pks++
			if strings.EqualFold(typ, "INTEGER") {
				ipk = cid
			}
		}
	}
	if pks != 1 {
		ipk = -1
	}
	rows, err := db.Query(fmt.Sprintf(`SELECT rowid, * FROM "%s" ORDER BY rowid`, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []row
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := row{id: vals[0].(int64), values: vals[1:]}
		if ipk >= 0 {
			r.values[ipk] = nil
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ourRows reads a table with this package, from the database at p and
// its log beside it, if any.
func ourRows(t *testing.T, p, table string, ncols int) []row {
	t.Helper()
	f := openFile(t, p)
	var out []row
	err := f.Rows(table, func(id int64, v []any) error {
		for len(v) < ncols {
			v = append(v, nil)
		}
		out = append(out, row{id, v})
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %s: %v", p, table, err)
	}
	return out
}

// openFile opens the database at p, with its -wal file if there is one.
func openFile(t testing.TB, p string) *sqlite.File {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(p + "-wal")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var wal io.ReaderAt
	if w != nil {
		wal = bytes.NewReader(w)
	}
	f, err := sqlite.NewFile(bytes.NewReader(b), int64(len(b)), wal, int64(len(w)))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return f
}

// compareTables checks every rowid table of the database at p: this
// package's rows equal SQLite's.
func compareTables(t *testing.T, p string) {
	t.Helper()
	f := openFile(t, p)
	var tables []string
	err := f.Rows("sqlite_schema", func(_ int64, v []any) error {
		if v[0] == "table" && !strings.Contains(fmt.Sprint(v[4]), "WITHOUT ROWID") {
			tables = append(tables, v[1].(string))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatalf("%s: no tables", p)
	}
	for _, table := range tables {
		want := oracleRows(t, copyForOracle(t, p), table)
		ncols := 0
		if len(want) > 0 {
			ncols = len(want[0].values)
		}
		got := ourRows(t, p, table, ncols)
		if len(got) != len(want) {
			t.Errorf("%s: %s: %d rows, SQLite %d", p, table, len(got), len(want))
			continue
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: %s: row %d:\n got %s\nwant %s", p, table, i, got[i], want[i])
				break
			}
		}
		t.Logf("%s: %s: %d rows", filepath.Base(p), table, len(got))
	}
}

// copyForOracle copies the database and its log for SQLite to open: it
// would checkpoint the log into the database, and delete it, on close.
func copyForOracle(t *testing.T, p string) string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "oracle.sqlite")
	copyFile(t, p, out)
	if _, err := os.Stat(p + "-wal"); err == nil {
		copyFile(t, p+"-wal", out+"-wal")
	}
	return out
}

// TestOracle: on databases SQLite wrote with every page size, in UTF-8
// and UTF-16, with and without commits left in the write-ahead log,
// every table reads as SQLite reads it.
func TestOracle(t *testing.T) {
	var specs []dbSpec
	for ps := 512; ps <= 65536; ps *= 2 {
		specs = append(specs, dbSpec{pageSize: ps}, dbSpec{pageSize: ps, wal: true})
	}
	specs = append(specs, dbSpec{pageSize: 1024, encoding: "UTF-16le"}, dbSpec{pageSize: 4096, encoding: "UTF-16be", wal: true})
	for _, s := range specs {
		t.Run(fmt.Sprintf("%d-%s-wal=%v", s.pageSize, s.encoding, s.wal), func(t *testing.T) {
			t.Parallel()
			p := buildDB(t, t.TempDir(), s)
			compareTables(t, p)
		})
	}
}

// TestOracleRPMDatabases: the rpm databases go-rpmdb ships as test data
// (Fedora 35, CBL-Mariner 2.0), every table, read as SQLite reads them.
func TestOracleRPMDatabases(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Fatalf("go-rpmdb's module: %v", err)
	}
	dbs, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "pkg/testdata/*/rpmdb.sqlite"))
	if len(dbs) < 3 {
		t.Fatalf("go-rpmdb's SQLite databases: found %v", dbs)
	}
	for _, p := range dbs {
		compareTables(t, p)
	}
}
