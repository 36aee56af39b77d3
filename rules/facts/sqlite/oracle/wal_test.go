package oracle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgcheck/imgcheck/rules/facts/sqlite"
)

// walVariant writes the database at p with its log changed by change
// into a new directory and returns the copy's path.
func walVariant(t *testing.T, p string, change func(wal []byte) []byte) string {
	t.Helper()
	wal, err := os.ReadFile(p + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "db.sqlite")
	copyFile(t, p, out)
	if err := os.WriteFile(out+"-wal", change(bytes.Clone(wal)), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// logged counts what only the log's commits wrote: rows of mixed updated
// in the log, and the Packages row inserted by its last commit.
func logged(t *testing.T, f *sqlite.File) (updated, last int) {
	t.Helper()
	err := f.Rows("mixed", func(_ int64, v []any) error {
		if v[2] == "updated in the log" {
			updated++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Rows("Packages", func(_ int64, v []any) error {
		if b, _ := v[1].([]byte); bytes.HasPrefix(b, []byte("walwal")) {
			last++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return updated, last
}

// TestWAL: the commits left in the write-ahead log are read, up to the
// last valid one, as SQLite recovers them: a torn or damaged last frame
// drops the last commit, a damaged header or salt the whole log.
func TestWAL(t *testing.T) {
	p := buildDB(t, t.TempDir(), dbSpec{pageSize: 1024, wal: true})
	db, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := sqlite.NewFile(bytes.NewReader(db), int64(len(db)), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if u, l := logged(t, plain); u != 0 || l != 0 {
		t.Fatalf("without the log: %d rows updated in the log, %d inserted by its last commit; want none", u, l)
	}
	frame := int64(1024 + 24) // a page and its frame header
	for _, c := range []struct {
		name          string
		change        func([]byte) []byte
		updated, last bool
	}{
		{"whole", func(w []byte) []byte { return w }, true, true},
		{"last frame torn", func(w []byte) []byte { return w[:len(w)-100] }, true, false},
		{"last frame's page damaged", func(w []byte) []byte { w[len(w)-1] ^= 1; return w }, true, false},
		{"a trailing frame of an old log", func(w []byte) []byte {
			old := bytes.Clone(w[len(w)-int(frame):])
			old[8] ^= 1 // salt-1
			return append(w, old...)
		}, true, true},
		{"header checksum damaged", func(w []byte) []byte { w[24] ^= 1; return w }, false, false},
		{"first frame's salt damaged", func(w []byte) []byte { w[32+8] ^= 1; return w }, false, false},
		{"checksums in the other byte order", func(w []byte) []byte { w[3] ^= 1; return w }, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := walVariant(t, p, c.change)
			compareTables(t, v)
			u, l := logged(t, openFile(t, v))
			if (u > 0) != c.updated || (l > 0) != c.last {
				t.Errorf("%d rows updated in the log, %d inserted by its last commit; want %v, %v", u, l, c.updated, c.last)
			}
		})
	}
}
