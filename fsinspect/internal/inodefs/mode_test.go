package inodefs

import (
	"io/fs"
	"testing"
)

// TestModeFileMode checks the conversion of every file type and each
// special bit to the fs.FileMode that os.Lstat reports for such a file on
// Linux, and that the seven types are the only valid ones.
func TestModeFileMode(t *testing.T) {
	tests := []struct {
		m    Mode
		want fs.FileMode
	}{
		{0o100644, 0o644},
		{0o040755, fs.ModeDir | 0o755},
		{0o120777, fs.ModeSymlink | 0o777},
		{0o010600, fs.ModeNamedPipe | 0o600},
		{0o140600, fs.ModeSocket | 0o600},
		{0o020620, fs.ModeDevice | fs.ModeCharDevice | 0o620},
		{0o060660, fs.ModeDevice | 0o660},
		{0o104755, fs.ModeSetuid | 0o755},
		{0o102755, fs.ModeSetgid | 0o755},
		{0o041777, fs.ModeDir | fs.ModeSticky | 0o777},
	}
	for _, tt := range tests {
		if got := tt.m.FileMode(); got != tt.want {
			t.Errorf("Mode(0%o).FileMode() = %v, want %v", tt.m, got, tt.want)
		}
		if !tt.m.Valid() {
			t.Errorf("Mode(0%o) is not valid", tt.m)
		}
		if got, want := tt.m.IsDir(), tt.want.IsDir(); got != want {
			t.Errorf("Mode(0%o).IsDir() = %v", tt.m, got)
		}
		if got, want := tt.m.IsRegular(), tt.want.IsRegular(); got != want {
			t.Errorf("Mode(0%o).IsRegular() = %v", tt.m, got)
		}
		if got, want := tt.m.IsSymlink(), tt.want&fs.ModeSymlink != 0; got != want {
			t.Errorf("Mode(0%o).IsSymlink() = %v", tt.m, got)
		}
	}
	for _, m := range []Mode{0, 0o030644, 0o050644, 0o070644, 0o110644, 0o130644, 0o150644, 0o160644, 0o170644} {
		if m.Valid() || m.Type() != 0 {
			t.Errorf("Mode(0%o): Valid %v, Type %v; want an invalid type", m, m.Valid(), m.Type())
		}
	}
}

// TestEntryTypeMatchesMode checks that each valid directory entry
// type names the same fs.FileMode type as the inode mode of that type
// (FT_* n and S_IF*: 1 regular, 2 directory, 3 char device, 4 block
// device, 5 FIFO, 6 socket, 7 symlink).
func TestEntryTypeMatchesMode(t *testing.T) {
	modes := []Mode{0o100000, 0o040000, 0o020000, 0o060000, 0o010000, 0o140000, 0o120000}
	for i, m := range modes {
		got, ok := entryType(uint8(i + 1))
		if !ok || got != m.Type() {
			t.Errorf("entryType(%d) = %v, %v; want %v", i+1, got, ok, m.Type())
		}
	}
	for _, ft := range []uint8{0, 8, 255} {
		if _, ok := entryType(ft); ok {
			t.Errorf("entryType(%d) is valid", ft)
		}
	}
}
