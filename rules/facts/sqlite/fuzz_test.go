package sqlite

import (
	"bytes"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// smallDB is a database of 512-byte pages SQLite writes, with a row
// spilling onto overflow pages and, with wal, a commit left in its log;
// it returns the database and the log.
func smallDB(t testing.TB, wal bool) (db, log []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "small.sqlite")
	d, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetMaxOpenConns(1)
	for _, q := range []string{
		"PRAGMA page_size=512",
		"CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)",
		"INSERT INTO Packages(blob) VALUES (x'0102'), (zeroblob(1500)), (randomblob(40))",
		"CREATE TABLE other (a, b)",
		"INSERT INTO other VALUES (1.5, 'text'), (NULL, -70000)",
	} {
		if wal && q == "CREATE TABLE other (a, b)" {
			for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0"} {
				if _, err := d.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := d.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if db, err = os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
	if wal {
		if log, err = os.ReadFile(p + "-wal"); err != nil {
			t.Fatal(err)
		}
	}
	return db, log
}

// FuzzFile reads every table of arbitrary databases and logs: no panic,
// no hang, no allocation beyond what the input and MaxValue allow.
func FuzzFile(f *testing.F) {
	db, _ := smallDB(f, false)
	f.Add(db, []byte(nil))
	db, log := smallDB(f, true)
	f.Add(db, log)
	big := record(bytes.Repeat([]byte{7}, 1200))
	k := spill(len(big))
	f.Add(pad(synth(interiorPage(4, interiorCell(3, 1)), leafPage(0, leafCell(1, record("a"), 0, 3)),
		leafPage(0, leafCell(2, big[:k], 5, len(big))), overflowPage(6, big[k:]), overflowPage(0, big[k+508:]))), []byte(nil))
	f.Fuzz(func(t *testing.T, db, log []byte) {
		var w io.ReaderAt
		if log != nil {
			w = bytes.NewReader(log)
		}
		file, err := NewFile(bytes.NewReader(db), int64(len(db)), w, int64(len(log)))
		if err != nil {
			return
		}
		file.MaxValue = 1 << 16
		var tables []string
		file.Rows("sqlite_schema", func(_ int64, v []any) error {
			if len(v) > 1 && v[0] == "table" {
				if name, ok := v[1].(string); ok {
					tables = append(tables, name)
				}
			}
			return nil
		})
		for _, name := range tables {
			file.Rows(name, func(int64, []any) error { return nil })
		}
	})
}
