package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestSSHServer(t *testing.T) {
	sshd := fixtures.File("\x7fELF", 0o755)
	pkg := stanza("openssh-server", "1:8.9p1-3ubuntu0.10", installed)
	unit := fixtures.File("[Unit]\nDescription=OpenBSD Secure Shell server\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n", 0o644)
	base := with(ubuntuTree(pkg), "usr/sbin/sshd", sshd, "lib/systemd/system/ssh.service", unit,
		"lib/systemd/system/ssh.socket", fixtures.File("[Socket]\nListenStream=22\n", 0o644))
	cases := []struct {
		name   string
		tree   fstest.MapFS
		levels []rules.Level
	}{
		{"no server", ubuntuTree(), []rules.Level{rules.Fail}},
		{"ssh.service enabled", with(base, "etc/systemd/system/multi-user.target.wants/ssh.service", fixtures.Symlink("/lib/systemd/system/ssh.service")), []rules.Level{rules.Pass}},
		{"ssh.socket enabled", with(base, "etc/systemd/system/sockets.target.wants/ssh.socket", fixtures.Symlink("/lib/systemd/system/ssh.socket")), []rules.Level{rules.Pass}},
		{"wants link named by its alias", with(base, "etc/systemd/system/multi-user.target.wants/sshd.service", fixtures.Symlink("/lib/systemd/system/ssh.service")), []rules.Level{rules.Pass}},
		{"not enabled", base, []rules.Level{rules.Warn}},
		{"every unit masked", with(base,
			"etc/systemd/system/multi-user.target.wants/ssh.service", fixtures.Symlink("/lib/systemd/system/ssh.service"),
			"etc/systemd/system/ssh.service", fixtures.Symlink("/dev/null"),
			"etc/systemd/system/ssh.socket", fixtures.Symlink("/dev/null")), []rules.Level{rules.Fail}},
		{"sshd without package", with(ubuntuTree(), "usr/sbin/sshd", sshd,
			"etc/systemd/system/multi-user.target.wants/ssh.service", fixtures.Symlink("/lib/systemd/system/ssh.service")), []rules.Level{rules.Warn, rules.Info}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "ssh.server", rules.Options{})
			if len(fs) != len(c.levels) {
				t.Fatalf("got %+v, want levels %v", fs, c.levels)
			}
			for i, f := range fs {
				if f.Level != c.levels[i] {
					t.Errorf("finding %d: got %s %q, want %s", i, f.Level, f.Message, c.levels[i])
				}
			}
		})
	}
}
