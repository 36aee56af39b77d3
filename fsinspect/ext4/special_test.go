package ext4_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
)

// TestSpecialFiles reads device nodes, a FIFO and a socket, which debugfs
// adds to a fixture: their types map to fs.FileMode bits, and opening
// one gives a file that cannot be read.
func TestSpecialFiles(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{"dev": fixtures.Dir(0o755), "run": fixtures.Dir(0o755), "run/sock": fixtures.File("", 0o666)}
	img := copyImage(t, fixtures.MustExt4(t, tree, fixtures.Ext4Options{BlockSize: 4096}))
	// debugfs mknod takes a name, not a path: cd first.
	cmds := filepath.Join(t.TempDir(), "cmds")
	script := "cd /dev\nmknod null c 1 3\nmknod sda b 8 0\ncd /run\nmknod fifo p\nset_inode_field /run/sock flags 0\nset_inode_field /run/sock mode 0140755\n"
	if err := os.WriteFile(cmds, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, "debugfs", "-w", "-f", cmds, img)
	// The socket's directory entry still says "regular file": the reader
	// reports that as corruption (the kernel tolerates it) until e2fsck
	// sets the entry's type.
	if _, err := openFS(t, img).Lstat("run/sock"); !errors.Is(err, ext4.ErrCorrupt) {
		t.Errorf("Lstat(run/sock) with a stale directory entry type = %v, want ErrCorrupt", err)
	}
	runTool(t, "e2fsck", "-fy", img)
	fsys := openFS(t, img)
	want := map[string]fs.FileMode{
		"dev/null": fs.ModeDevice | fs.ModeCharDevice,
		"dev/sda":  fs.ModeDevice,
		"run/fifo": fs.ModeNamedPipe,
		"run/sock": fs.ModeSocket,
	}
	for name, typ := range want {
		fi, err := fsys.Lstat(name)
		if err != nil || fi.Mode().Type() != typ {
			t.Errorf("Lstat(%q) = %v, %v; want type %v", name, fi, err, typ)
			continue
		}
		f, err := fsys.Open(name)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Read(%q) = %v, want ErrInvalid", name, err)
		}
		f.Close()
	}
	ents, err := fsys.ReadDir("dev")
	if err != nil || len(ents) != 2 || ents[0].Type() != want["dev/"+ents[0].Name()] {
		t.Errorf("ReadDir(dev) = %v, %v", ents, err)
	}
	kernelAgrees(t, fsys, img)
}
