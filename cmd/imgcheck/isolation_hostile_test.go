package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// hostBait is planted on the host, in files a guest link or a qcow2
// backing file points at. It must never appear in any output.
const hostBait = "IMGCHECK-HOST-BAIT-5c1d7e"

// baitDir writes the host files that escaping guest links name: a fixed
// directory, so the guest images that point into it stay cached.
func baitDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(fixtures.CacheDir(), "host-bait")
	files := map[string]string{
		"secret.txt":          hostBait + "\n",
		"etc/shadow":          "root:$6$" + hostBait + "$x:19000:0:99999:7:::\n",
		"etc/passwd":          hostBait + ":x:0:0:root:/root:/bin/bash\n",
		"etc/ssh/sshd_config": "PermitRootLogin yes # " + hostBait + "\n",
		"images/sub/.keep":    "",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHostIsolation: guest symlinks that name host paths (absolute, or
// climbing with ..) and a qcow2 backing file "../../etc/passwd" never
// make imgcheck read a host file, through any verb or format, on an image
// or with --root.
func TestHostIsolation(t *testing.T) {
	bait := baitDir(t)
	up := strings.Repeat("../", 12) + strings.TrimPrefix(bait, "/")
	tree := cleanTree()
	tree["etc/shadow"] = fixtures.Symlink(bait + "/etc/shadow")
	tree["etc/motd"] = fixtures.Symlink(up + "/secret.txt")
	tree["etc/ssh/sshd_config"] = fixtures.Symlink("/etc/ssh/" + up + "/etc/ssh/sshd_config")
	tree["root/.ssh"] = fixtures.Dir(0o700)
	tree["root/.ssh/authorized_keys"] = fixtures.Symlink("/etc/shadow")
	tree["root/.bash_history"] = fixtures.Symlink(up + "/secret.txt")
	tree["var/log/escape"] = fixtures.Symlink("../../../../etc")
	tree["var/log/host-shadow"] = fixtures.Symlink("/etc/shadow")
	disk := gptImage(t, tree)
	rootDir := t.TempDir()
	if err := fixtures.Materialize(rootDir, tree); err != nil {
		t.Fatal(err)
	}
	backed := fixtures.MustHostile(t)(fixtures.QCOW2Backed(filepath.Join(bait, "images", "sub"), "backed.qcow2", "../../etc/passwd", 64<<20))

	var outputs []string
	do := func(wantCode int, args ...string) string {
		t.Helper()
		out, errs, code := runCmd(t, args...)
		if wantCode >= 0 && code != wantCode {
			t.Errorf("imgcheck %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, wantCode, errs)
		}
		outputs = append(outputs, strings.Join(args, " ")+"\n"+out+errs)
		return out + errs
	}
	for _, f := range []string{"text", "json", "sarif", "junit"} {
		do(-1, "scan", "--format", f, disk)
		do(-1, "scan", "--format", f, "--root", rootDir)
	}
	do(-1, "scan", "--profile", "img_check", "--show-contents", disk)
	do(-1, "scan", "--show-contents", disk)
	do(-1, "scan", "--profile", "img_check", "--show-contents", "--root", rootDir)
	do(0, "info", disk)
	do(0, "info", "--json", disk)
	for _, p := range []string{"/etc/shadow", "/etc/motd", "/etc/ssh/sshd_config", "/root/.bash_history", "/root/.ssh/authorized_keys", "/var/log/host-shadow"} {
		do(3, "cat", disk, p)
		do(3, "cat", "--root", rootDir, p)
	}
	if out := do(0, "ls", disk, "/var/log/escape/os-release"); !strings.Contains(out, "/var/log/escape/os-release") {
		t.Errorf("/var/log/escape should reach the guest's /etc/os-release:\n%s", out)
	}
	do(0, "ls", "--root", rootDir, "/var/log/escape/os-release")
	do(0, "ls", disk, "/root/.ssh")
	do(-1, "diff", gptImage(t, cleanTree()), disk)
	if out := do(-1, "scan", "--format", "json", disk); !strings.Contains(out, `"value": "prohibit-password"`) && !strings.Contains(out, "prohibit-password") {
		t.Errorf("sshd settings should be the defaults (the host's sshd_config says yes):\n%s", out)
	}

	// The backing file is refused by default, and with --allow-backing
	// it is confined to the image's directory.
	if out := do(3, "scan", backed); !strings.Contains(out, `has backing file "../../etc/passwd"; pass --allow-backing`) {
		t.Errorf("a qcow2 backing file should be refused by name:\n%s", out)
	}
	if out := do(3, "scan", "--allow-backing", backed); !strings.Contains(out, `backing file "../../etc/passwd" is outside the image's directory`) {
		t.Errorf("an escaping backing file should be refused, naming it:\n%s", out)
	}
	do(3, "info", backed)
	do(3, "info", "--allow-backing", backed)
	do(3, "cat", "--allow-backing", backed, "/etc/passwd")

	for _, o := range outputs {
		if strings.Contains(o, hostBait) {
			t.Errorf("a host file was read: %s", o)
		}
	}
}
