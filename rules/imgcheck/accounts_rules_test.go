package imgcheck_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// parityOpts runs rules in the img_check profile.
var parityOpts = rules.Options{Profile: rules.ImgCheck}

// findingLines renders the findings the script would print as
// "LEVEL message", with " (counted)" on counted ones; silent findings are
// left out.
func findingLines(fs []rules.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		if imgcheck.Silent(f) {
			continue
		}
		counted := ""
		if imgcheck.Counted(f) {
			counted = " (counted)"
		}
		fmt.Fprintf(&b, "%s %s%s\n", strings.ToUpper(f.Level.String()), f.Message, counted)
	}
	return b.String()
}

func wantLines(t *testing.T, fs []rules.Finding, want string) {
	t.Helper()
	if got := findingLines(fs); got != want {
		t.Errorf("got:\n%swant:\n%s", got, want)
	}
}

// An ed25519 public key line of 94 bytes, over the script's 50-byte limit.
const edKeyLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHXgOWcVrUGQ5qKzeoQ0iEQfxCNqcA3zeVoXjXV7JDKF alice@build\n"

const passwdBase = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"

func TestRootPassword(t *testing.T) {
	for _, tc := range []struct {
		name, shadow, want string
	}{
		{"star", "root:*:19000:0:99999:7:::\n", "PASS User root has no password set. (counted)\n"},
		{"bangs", "root:!!:1::\nroot:!:1::\n", "PASS User root has no password set. (counted)\nPASS User root has no password set. (counted)\n"},
		{"hash", "root:" + sha512Hash + ":1::\n", "FAIL User root has a password set on their account. (counted)\n"},
		{"locked hash is a password (P4)", "root:!" + sha512Hash + ":1::\n", "FAIL User root has a password set on their account. (counted)\n"},
		{"empty field", "root::1::\n", "FAIL User root has a password set on their account. (counted)\n"},
		{"no root line", "daemon:*:1::\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGuest(t, fstest.MapFS{"etc/shadow": fixtures.File(tc.shadow, 0o640), "etc/passwd": fixtures.File(passwdBase, 0o644)})
			fs := runRule(t, g, "root.password", parityOpts)
			wantLines(t, fs, tc.want)
			noSecret(t, fs, sha512Hash, sha512Hash[3:])
		})
	}
	t.Run("missing shadow", func(t *testing.T) {
		fs := runRule(t, testGuest(t, fstest.MapFS{"etc/passwd": fixtures.File(passwdBase, 0o644)}), "root.password", parityOpts)
		wantLines(t, fs, "")
	})
}

func TestRootSSH(t *testing.T) {
	base := func(extra fstest.MapFS) fstest.MapFS {
		tree := fstest.MapFS{"etc/passwd": fixtures.File(passwdBase, 0o644), "root": fixtures.Dir(0o700), "etc/hostname": fixtures.File("x\n", 0o644)}
		for k, v := range extra {
			tree[k] = v
		}
		return tree
	}
	for _, tc := range []struct {
		name string
		tree fstest.MapFS
		want string
	}{
		{"no .ssh", base(nil), "INFO User root does not have an .ssh directory\n"},
		{"no /root", fstest.MapFS{"etc/passwd": fixtures.File(passwdBase, 0o644)}, "INFO User root does not have a directory in /home\n"},
		{"only dot entries", base(fstest.MapFS{"root/.ssh/.hidden": fixtures.File("x", 0o600)}),
			"INFO User root has no SSH keys present\n"},
		{"G11 populated authorized_keys", base(fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File(edKeyLine, 0o600)}),
			"FAIL User root has a populated authorized_keys file in /root/.ssh/authorized_keys (counted)\n"},
		{"small authorized_keys and known_hosts print nothing", base(fstest.MapFS{
			"root/.ssh/authorized_keys": fixtures.File(strings.Repeat("#", 50), 0o600),
			"root/.ssh/known_hosts":     fixtures.File(strings.Repeat("k", 50), 0o600)}), ""},
		{"G12 byte order, empty id_rsa, dot-entry hidden", base(fstest.MapFS{
			"root/.ssh/id_rsa":     fixtures.File("", 0o600),
			"root/.ssh/id_ed25519": fixtures.File("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0o600),
			"root/.ssh/.hidden":    fixtures.File("x", 0o600)}),
			"WARN User root has a file in their .ssh directory at /root/.ssh/id_ed25519 (counted)\n" +
				"WARN User root has empty private key file in /root/.ssh/id_rsa (counted)\n"},
		{"populated id_rsa and known_hosts, a directory", base(fstest.MapFS{
			"root/.ssh/id_rsa":      fixtures.File("-----BEGIN RSA PRIVATE KEY-----\n", 0o600),
			"root/.ssh/known_hosts": fixtures.File(strings.Repeat("k", 51), 0o600),
			"root/.ssh/sub":         fixtures.Dir(0o700)}),
			"FAIL User root has a private key file in /root/.ssh/id_rsa (counted)\n" +
				"WARN User root has a populated known_hosts file in /root/.ssh/known_hosts (counted)\n" +
				"WARN User root has a file in their .ssh directory at /root/.ssh/sub (counted)\n"},
		{"id_rsa as a directory counts as empty", base(fstest.MapFS{"root/.ssh/id_rsa": fixtures.Dir(0o700)}),
			"WARN User root has empty private key file in /root/.ssh/id_rsa (counted)\n"},
		{"dangling link passes the ls probe", base(fstest.MapFS{"root/.ssh/id_rsa": fixtures.Symlink("/nowhere")}),
			"WARN User root has empty private key file in /root/.ssh/id_rsa (counted)\n"},
		{"G18 a symlink loop fails the ls probe", base(fstest.MapFS{
			"root/.ssh/authorized_keys": fixtures.File(edKeyLine, 0o600),
			"root/.ssh/loop":            fixtures.Symlink("loop")}),
			"INFO User root has no SSH keys present\n"},
		{"a path through a file fails the ls probe", base(fstest.MapFS{
			"root/.ssh/id_rsa": fixtures.File("k", 0o600),
			"root/.ssh/notdir": fixtures.Symlink("/etc/hostname/x")}),
			"INFO User root has no SSH keys present\n"},
		{"G20 .ssh links to the guest /etc", base(fstest.MapFS{
			"root/.ssh":    fixtures.Symlink("/etc"),
			"etc/.dotfile": fixtures.File("x", 0o644),
			"etc/motd":     fixtures.File("", 0o644)}),
			"WARN User root has a file in their .ssh directory at /root/.ssh/hostname (counted)\n" +
				"WARN User root has a file in their .ssh directory at /root/.ssh/motd (counted)\n" +
				"WARN User root has a file in their .ssh directory at /root/.ssh/passwd (counted)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, tc.tree), "root.ssh", parityOpts)
			wantLines(t, fs, tc.want)
		})
	}
}

func TestRootSSHKeyEvidence(t *testing.T) {
	g := testGuest(t, fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File("# build key\n"+edKeyLine, 0o600)})
	fs := runRule(t, g, "root.ssh", parityOpts)
	if len(fs) != 1 || fs[0].Level != rules.Fail {
		t.Fatalf("findings %+v", fs)
	}
	f := fs[0]
	if f.Get(rules.KeyKeyType) != "ssh-ed25519" || !strings.HasPrefix(f.Get(rules.KeyFingerprint), "SHA256:") ||
		f.Get("comment") != "alice@build" || f.Get(rules.KeyCount) != "1" || f.Get(rules.KeyLine) != "2" {
		t.Errorf("evidence %+v", f.Evidence)
	}
	if !strings.HasPrefix(f.Fix, "delete /root/.ssh/authorized_keys") {
		t.Errorf("fix %q", f.Fix)
	}
	noSecret(t, fs, "AAAAC3NzaC1lZDI1NTE5AAAAIHXgOWcVrUGQ5qKzeoQ0iEQfxCNqcA3zeVoXjXV7JDKF")
}

func TestRootHistory(t *testing.T) {
	for _, tc := range []struct {
		name string
		tree fstest.MapFS
		want string
	}{
		{"absent", fstest.MapFS{"root": fixtures.Dir(0o700)}, "PASS The Root User's Bash History is not present (counted)\n"},
		{"small", fstest.MapFS{"root/.bash_history": fixtures.File(strings.Repeat("l", 199), 0o600)},
			"PASS root's Bash History appears to have been cleared (counted)\n"},
		{"200 bytes", fstest.MapFS{"root/.bash_history": fixtures.File(strings.Repeat("l", 200), 0o600)},
			"FAIL root's Bash History should be cleared to prevent sensitive information from leaking (counted)\n"},
		{"link to /dev/null", fstest.MapFS{"root/.bash_history": fixtures.Symlink("/dev/null")},
			"PASS The Root User's Bash History is not present (counted)\n"},
		{"a directory", fstest.MapFS{"root/.bash_history": fixtures.Dir(0o700)},
			"PASS The Root User's Bash History is not present (counted)\n"},
		{"no /root", fstest.MapFS{"etc/hostname": fixtures.File("x", 0o644)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLines(t, runRule(t, testGuest(t, tc.tree), "root.history", parityOpts), tc.want)
		})
	}
}

// aliceTree is G2's user: a password hash, a 300-byte history and a
// populated authorized_keys.
func aliceTree(extra fstest.MapFS) fstest.MapFS {
	tree := fstest.MapFS{
		"etc/passwd":                      fixtures.File(passwdBase+"alice:x:1000:1000::/home/alice:/bin/bash\n", 0o644),
		"etc/shadow":                      fixtures.File("root:*:1:::\nalice:"+sha512Hash+":1:::\n", 0o640),
		"home/alice/.bash_history":        fixtures.Owned(strings.Repeat("h", 300), 0o600, 1000, 1000),
		"home/alice/.ssh/authorized_keys": fixtures.Owned(edKeyLine, 0o600, 1000, 1000),
	}
	for k, v := range extra {
		tree[k] = v
	}
	return tree
}

func TestUsersParity(t *testing.T) {
	t.Run("G2 Q1 and Q2", func(t *testing.T) {
		g := testGuest(t, aliceTree(nil))
		pw := runRule(t, g, "users.password", parityOpts)
		wantLines(t, pw, "FAIL User alice has a password set on their account. Only system users are allowed on the image.\n")
		noSecret(t, pw, sha512Hash)
		wantLines(t, runRule(t, g, "users.ssh", parityOpts), "INFO User alice has no SSH keys present\n")
		wantLines(t, runRule(t, g, "users.history", parityOpts),
			"FAIL alice's Bash History should be cleared to prevent sensitive information from leaking\n")
	})
	t.Run("G17 an entry named *", func(t *testing.T) {
		g := testGuest(t, aliceTree(fstest.MapFS{"home/alice/.ssh/*": fixtures.File("", 0o600),
			"home/alice/.ssh/known_hosts": fixtures.File(strings.Repeat("k", 60), 0o600)}))
		wantLines(t, runRule(t, g, "users.ssh", parityOpts),
			"WARN User alice has a file in their .ssh directory named /home/alice/.ssh/*\n"+
				"FAIL User alice has a populated authorized_keys file in /home/alice/.ssh/authorized_keys\n"+
				"WARN User alice has a known_hosts file in /home/alice/.ssh/known_hosts\n")
	})
	t.Run("a looping * entry fails the ls probe", func(t *testing.T) {
		g := testGuest(t, aliceTree(fstest.MapFS{"home/alice/.ssh/*": fixtures.Symlink("*")}))
		wantLines(t, runRule(t, g, "users.ssh", parityOpts), "INFO User alice has no SSH keys present\n")
	})
	t.Run("homes are /home/<u> whatever passwd says", func(t *testing.T) {
		g := testGuest(t, fstest.MapFS{
			"etc/passwd":             fixtures.File(passwdBase+"app:x:1001:1001::/srv/app:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n", 0o644),
			"srv/app/.ssh/id_rsa":    fixtures.File("k", 0o600),
			"home/bob/.bash_history": fixtures.File("ls\n", 0o600),
		})
		wantLines(t, runRule(t, g, "users.ssh", parityOpts),
			"INFO User app does not have a directory in /home\nINFO User bob does not have an .ssh directory\n")
		wantLines(t, runRule(t, g, "users.history", parityOpts), "PASS bob's Bash History appears to have been cleared\n")
		wantLines(t, runRule(t, g, "users.password", parityOpts), "")
	})
	t.Run("no user-created accounts", func(t *testing.T) {
		g := testGuest(t, fstest.MapFS{"etc/passwd": fixtures.File(passwdBase, 0o644)})
		for _, id := range []string{"users.password", "users.ssh", "users.history"} {
			fs := runRule(t, g, id, parityOpts)
			if len(fs) == 0 || findingLines(fs) != "" {
				t.Errorf("%s: %+v", id, fs)
			}
		}
	})
}
