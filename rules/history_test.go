package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

func TestHistoryShell(t *testing.T) {
	const mysqlSecret = "S3cr3t-pw"
	tests := []struct {
		name  string
		extra fstest.MapFS
		want  string
	}{
		{"200-byte bash history", fstest.MapFS{"root/.bash_history": fixtures.File(strings.Repeat("ls -la\n", 28)+"ls\n\n", 0o600)},
			"FAIL /root/.bash_history\nPASS homes\n"},
		{"199-byte bash history", fstest.MapFS{"root/.bash_history": fixtures.File(strings.Repeat("x", 198)+"\n", 0o600)},
			"WARN /root/.bash_history\nPASS homes\n"},
		{"mysql credential", fstest.MapFS{"home/alice/.mysql_history": fixtures.File(
			"show databases;\nCREATE USER 'u'@'%' IDENTIFIED BY '"+mysqlSecret+"';\n", 0o600)},
			"FAIL /home/alice/.mysql_history\nPASS homes\n"},
		{"10-byte psql history", fstest.MapFS{"home/alice/.psql_history": fixtures.File("\\dt\nselect\n", 0o600)},
			"WARN /home/alice/.psql_history\nPASS homes\n"},
		{"fish history, home outside /home", fstest.MapFS{"srv/app/.local/share/fish/fish_history": fixtures.File("- cmd: ls\n", 0o600)},
			"WARN /srv/app/.local/share/fish/fish_history\nPASS homes\n"},
		{"empty and /dev/null", fstest.MapFS{
			"root/.bash_history":       fixtures.Symlink("/dev/null"),
			"home/alice/.bash_history": fixtures.File("", 0o600),
			"home/alice/.viminfo":      fixtures.File("", 0o600),
		}, "PASS homes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := run(t, sshTree(tt.extra), "history.shell")
			wantSummary(t, fs, tt.want)
			noSecret(t, fs, mysqlSecret, "IDENTIFIED")
		})
	}
}

func TestHistoryEvidence(t *testing.T) {
	fs := run(t, sshTree(fstest.MapFS{
		"root/.bash_history": fixtures.File("ls\nexport PGPASSWORD=abc\nmysql --password=xyz\n", 0o600),
	}), "history.shell")
	f := fs[0]
	var lines []string
	for _, kv := range f.Evidence {
		if kv.Key == "line" {
			lines = append(lines, kv.Value)
		}
	}
	if f.Subject != "/root/.bash_history" || strings.Join(lines, ",") != "2,3" || !strings.HasPrefix(f.Fix, "truncate /root/.bash_history") {
		t.Errorf("finding %+v", f)
	}
	noSecret(t, fs, "PGPASSWORD=abc", "xyz")
}

func TestHistoryRootDirectoryHome(t *testing.T) {
	// A passwd home of "/" is a home like any other; it displays as "/".
	fs := run(t, fstest.MapFS{
		"etc/passwd":    passwd("root:x:0:0::/root:/bin/bash", "systemd-network:x:100:102::/:/usr/sbin/nologin"),
		"root":          fixtures.Dir(0o700),
		".bash_history": fixtures.File("ls\n", 0o600),
	}, "history.shell")
	wantSummary(t, fs, "WARN /.bash_history\nPASS /root\n")
}
