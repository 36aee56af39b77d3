package ext4_test

import (
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestSuper compares the decoded superblock with dumpe2fs -h.
func TestSuper(t *testing.T) {
	t.Parallel()
	for _, o := range []fixtures.Ext4Options{
		{BlockSize: 4096, Label: "cloudimg-rootfs", UUID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
		{Type: "ext2", BlockSize: 1024, Label: "boot"},
	} {
		t.Run(o.Label, func(t *testing.T) {
			t.Parallel()
			img := fixtures.MustExt4(t, corruptTree, o)
			s := openFS(t, img).Super()
			out := runTool(t, "dumpe2fs", "-h", img)
			field := func(name string) string {
				m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s*(.*)$`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("dumpe2fs has no %q:\n%s", name, out)
				}
				return m[1]
			}
			num := func(name string) uint64 {
				v, err := strconv.ParseUint(field(name), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			wantUUID := o.UUID
			if wantUUID == "" {
				wantUUID = "2f3e4d5c-6b7a-4980-91a2-b3c4d5e6f708" // the fixtures default
			}
			checks := []struct {
				name      string
				got, want any
			}{
				{"Blocks", s.Blocks, num("Block count")},
				{"FreeBlocks", s.FreeBlocks, num("Free blocks")},
				{"ReservedBlocks", s.ReservedBlocks, num("Reserved block count")},
				{"BlockSize", uint64(s.BlockSize), num("Block size")},
				{"InodesCount", uint64(s.InodesCount), num("Inode count")},
				{"FreeInodes", uint64(s.FreeInodes), num("Free inodes")},
				{"UUID", s.UUID, field("Filesystem UUID")},
				{"UUID (declared)", s.UUID, wantUUID},
				{"Label", s.Label, o.Label},
				{"State", s.State, uint16(1)},
				{"Type", s.Type, map[string]string{"": "ext4", "ext2": "ext2"}[o.Type]},
				{"NeedsRecovery", s.NeedsRecovery, false},
				{"LastMount", s.LastMount, time.Time{}},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
			lw, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", field("Last write time"), time.Local)
			if err != nil || !s.LastWrite.Equal(lw) {
				t.Errorf("LastWrite = %v, dumpe2fs says %v (%v)", s.LastWrite, lw, err)
			}
		})
	}
}

// TestUnsupportedFeatures: encryption and casefolding are reported in
// Super, an encrypted directory fails with ErrUnsupported, a casefolded
// one answers exact names and refuses to deny others, and needs_recovery
// is reported while reads go on.
func TestUnsupportedFeatures(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{
		"secret":      fixtures.Dir(0o700),
		"secret/file": fixtures.File("ciphertext\n", 0o600),
		"fold":        fixtures.Dir(0o755),
		"fold/Name":   fixtures.File("folded\n", 0o644),
		"plain":       fixtures.File("plain\n", 0o644),
	}
	img := copyImage(t, fixtures.MustExt4(t, tree, fixtures.Ext4Options{BlockSize: 4096, Features: "encrypt,casefold"}))
	runTool(t, "debugfs", "-w", "-R", "set_inode_field /secret flags 0x80800", img)  // extents | encrypt
	runTool(t, "debugfs", "-w", "-R", "set_inode_field /fold flags 0x40080000", img) // extents | casefold
	runTool(t, "debugfs", "-w", "-R", "set_inode_field /plain flags 0x80800", img)   // an encrypted file
	runTool(t, "debugfs", "-w", "-R", "feature needs_recovery", img)
	fsys := openFS(t, img)
	s := fsys.Super()
	if !slices.Equal(s.Unsupported, []string{"encrypt", "casefold"}) || !s.NeedsRecovery {
		t.Errorf("Unsupported = %q, NeedsRecovery = %v; want [encrypt casefold], true", s.Unsupported, s.NeedsRecovery)
	}
	for _, c := range []struct {
		what string
		err  error
	}{
		{"ReadDir(secret)", second(fsys.ReadDir("secret"))},
		{"Stat(secret/file)", second(fsys.Stat("secret/file"))},
		{"ReadFile(plain)", second(fsys.ReadFile("plain"))},
		{"Stat(fold/name)", second(fsys.Stat("fold/name"))},
	} {
		if !errors.Is(c.err, ext4.ErrUnsupported) {
			t.Errorf("%s = %v, want ErrUnsupported", c.what, c.err)
		}
	}
	if b, err := fsys.ReadFile("fold/Name"); err != nil || string(b) != "folded\n" {
		t.Errorf("ReadFile(fold/Name) = %q, %v", b, err)
	}
	if fi, err := fsys.Stat("plain"); err != nil || fi.Size() != 6 {
		t.Errorf("Stat(plain) = %v, %v; an encrypted file can still be stat'ed", fi, err)
	}
	if _, err := fsys.Stat("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(nope) = %v, want ErrNotExist outside casefolded directories", err)
	}
}

func second[T any](_ T, err error) error { return err }
