package fsinspect

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestMaxFileRead: a file exactly at the cap reads to its end; one byte
// more fails with ErrTooLarge after the cap, through Read and ReadAt.
func TestMaxFileRead(t *testing.T) {
	g := NewGuest(fstest.MapFS{
		"at":   fixtures.File("0123456789", 0o644),
		"over": fixtures.File("0123456789x", 0o644),
	}, WithMaxFileRead(10))
	if b, err := g.ReadFile("at"); err != nil || string(b) != "0123456789" {
		t.Errorf("ReadFile(at) = %q, %v", b, err)
	}
	f, err := g.Open("over")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if !errors.Is(err, ErrTooLarge) || string(b) != "0123456789" {
		t.Errorf("ReadAll(over) = %q, %v; want the first 10 bytes and ErrTooLarge", b, err)
	}
	if _, err := g.ReadFile("over"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile(over): %v, want ErrTooLarge", err)
	}
}

// TestWithContext: once the context is done, opens and reads fail with
// its error.
func TestWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	g := NewGuest(fstest.MapFS{"f": fixtures.File("data", 0o644)}, WithContext(ctx))
	f, err := g.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cancel()
	if _, err := f.Read(make([]byte, 4)); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v", err)
	}
	if _, err := g.Open("f"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open after cancel: %v", err)
	}
	if err := g.WalkDir(".", func(_ string, _ fs.DirEntry, err error) error { return err }); !errors.Is(err, context.Canceled) {
		t.Errorf("WalkDir after cancel: %v", err)
	}
}
