package main

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// forgedPass is a file name that, printed raw, ends the ls or diff line
// it is on and starts a line of its own.
const forgedPass = "x\n[PASS] forged"

// escapeNamesTree is cleanTree with guest text made to drive a terminal
// that leaves the verdict alone (WARN at most): ESC sequences in the
// os-release pretty name, a newline and ESC sequences in file names, and
// a legal Latin-1 (non-UTF-8) file name in /tmp and /var/log.
func escapeNamesTree() fstest.MapFS {
	t := cleanTree()
	t["etc/os-release"] = fixtures.File("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\x1b[2J\x1b]0;pwned\x07\"\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n", 0o644)
	t["etc/fstab"] = fixtures.File("LABEL=cloudimg-rootfs / ext4 defaults,x-\x1b[2J 0 1\n", 0o644)
	t["tmp/"+forgedPass] = fixtures.File("", 0o644)
	t["tmp/caf\xe9"] = fixtures.File("", 0o644)
	t["var/log/caf\xe9.log"] = fixtures.File("latin-1 log\n", 0o640)
	t["var/log/\x1b[2Jclear.log"] = fixtures.File("line \x1b]0;title\x07\n", 0o640)
	return t
}

// escapeTree is escapeNamesTree with more guest text that reaches the
// output through FAILs: an os-release VERSION_ID, a user name and an
// authorized key's comment with ESC sequences.
func escapeTree() fstest.MapFS {
	t := escapeNamesTree()
	t["etc/os-release"] = fixtures.File("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\x1b[2J\x1b]0;pwned\x07\"\nVERSION_ID=\"22.04\x1b[31m\"\nVERSION_CODENAME=jammy\n", 0o644)
	t["etc/passwd"] = fixtures.File("root:x:0:0:root:/root:/bin/bash\nev\x1b[2Jil:x:1000:1000::/home/evil:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644)
	t["etc/shadow"] = fixtures.File("root:*:19000:0:99999:7:::\nev\x1b[2Jil:!:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0o640)
	t["home/evil"] = &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 1000, Gid: 1000}}
	t["home/evil/.ssh/authorized_keys"] = fixtures.Owned("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl evil\x1b[2J@host\n", 0o600, 1000, 1000)
	return t
}

// TestHostileText: whatever the guest writes reaches no terminal raw.
// Every human output of every verb on an image full of ESC sequences,
// newlines and Latin-1 names has no control character but the newlines
// the writer itself puts, no forged line, and no ERROR for the Latin-1
// names, which are shown escaped.
func TestHostileText(t *testing.T) {
	img := gptImage(t, escapeTree())
	clean := gptImage(t, cleanTree())
	for _, args := range [][]string{
		{"scan", "-v", "--color", "never", img},
		{"scan", "-v", "--show-contents", "--color", "never", img},
		{"scan", "--profile", "img_check", "--show-contents", "--color", "never", img},
		{"scan", "--color", "never", img, clean},
		{"info", img},
		{"ls", "-R", img, "/"},
		{"ls", img, "/tmp"},
		{"diff", clean, img},
		{"cat", img, "/tmp/" + forgedPass},
	} {
		r := runChild(t, nil, args...)
		all := r.stdout + r.stderr
		name := strings.Join(args[:len(args)-1], " ")
		if r.code == 2 || r.code == 3 {
			t.Errorf("%s: exit %d: %s", name, r.code, r.stderr)
		}
		if strings.ContainsAny(all, "\x1b\x07\r") || strings.ContainsRune(all, 0xfffd) {
			t.Errorf("%s: a control character or a mangled name reached the output:\n%q", name, all)
		}
		for _, line := range strings.Split(all, "\n") {
			if strings.HasPrefix(line, "[PASS] forged") {
				t.Errorf("%s: a file name forged a line: %q", name, line)
			}
		}
		if strings.Contains(all, "invalid argument") {
			t.Errorf("%s: a Latin-1 name is an error:\n%s", name, all)
		}
	}
	r := runChild(t, nil, "ls", img, "/tmp")
	for _, want := range []string{`caf\xe9`, `x\n[PASS] forged`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ls /tmp does not show %s:\n%s", want, r.stdout)
		}
	}
	if r := runChild(t, nil, "scan", "-v", img); !strings.Contains(r.stdout, `OS:      Ubuntu 22.04.4 LTS\x1b[2J\x1b]0;pwned\a (deb)`) {
		t.Errorf("the OS line is not shown escaped:\n%s", r.stdout)
	}
	if r := runChild(t, nil, "cat", img, "/var/log/caf\xe9.log"); r.code != 0 || r.stdout != "latin-1 log\n" {
		t.Errorf("cat of a Latin-1 name: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}
