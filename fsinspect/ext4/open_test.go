package ext4_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestOpen: the path wrapper reads like New over the file, Close closes
// it, and a bad file is an error naming the path.
func TestOpen(t *testing.T) {
	img := fixtures.MustExt4(t, fstest.MapFS{"etc/hostname": fixtures.File("droplet\n", 0o644)}, fixtures.Ext4Options{})
	fsys, err := ext4.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fsys.ReadFile("etc/hostname"); err != nil || string(b) != "droplet\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if err := fsys.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadFile("etc/hostname"); err == nil {
		t.Error("read after Close succeeded")
	}

	if _, err := ext4.Open(filepath.Join(t.TempDir(), "missing.img")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.img")
	if err := os.WriteFile(junk, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ext4.Open(junk); !errors.Is(err, ext4.ErrCorrupt) || !strings.Contains(err.Error(), junk) {
		t.Errorf("Open(junk) = %v, want ErrCorrupt naming the path", err)
	}

	// Close of an FS from New leaves the caller's reader alone.
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	mem, err := ext4.New(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.ReadFile("etc/hostname"); err != nil {
		t.Errorf("Close closed a reader it does not own: %v", err)
	}
}
