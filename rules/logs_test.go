package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

func TestLogGlobs(t *testing.T) {
	for _, tc := range []struct {
		name              string
		dated, num, logGl bool
	}{
		{"cloud-init.log", true, false, true}, // Q6: "-" then "init.log"
		{"unattended-upgrades", true, false, false},
		{"dpkg.log-20240101", true, false, false},
		{"-12345678", true, false, false},
		{"a-1234567", false, false, false},
		{".x-12345678", false, false, false},
		{"syslog.1", false, true, false},
		{"syslog.10", false, false, false},
		{".1", false, false, false},
		{"auth.log", false, false, true},
		{".log", false, false, false},
		{"cpanel-install.log", false, false, true},
	} {
		if got := imgcheck.MatchDatedArchive(tc.name); got != tc.dated {
			t.Errorf("MatchDatedArchive(%q) = %v", tc.name, got)
		}
		if got := imgcheck.MatchNumberedArchive(tc.name); got != tc.num {
			t.Errorf("MatchNumberedArchive(%q) = %v", tc.name, got)
		}
		if got := imgcheck.MatchLogGlob(tc.name); got != tc.logGl {
			t.Errorf("MatchLogGlob(%q) = %v", tc.name, got)
		}
	}
}

func TestIsRotatedLog(t *testing.T) {
	for name, want := range map[string]bool{
		"syslog.2.gz": true, "history.log.1.gz": true, "dpkg.log-20240101": true, "dpkg.log-20240101.xz": true,
		"syslog.1": true, "messages.old": true, "x.zst": true, "x.lz4": true, "x.bz2": true, "x-12345678.gz": true,
		"cloud-init.log": false, "unattended-upgrades": false, "syslog": false, "a-1234567": false, "lastlog": false,
		"1": false, "x-123456789": false,
	} {
		if got := rules.IsRotatedLog(name); got != want {
			t.Errorf("IsRotatedLog(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMarketplaceLogs(t *testing.T) {
	tree := fstest.MapFS{
		"var/log/syslog":                           fixtures.File("", 0o640),
		"var/log/nginx/access.log":                 fixtures.File("x", 0o640),
		"var/log/syslog.2.gz":                      fixtures.File("", 0o640),
		"var/log/apt/history.log.1.gz":             fixtures.File("z", 0o640),
		"var/log/dpkg.log-20240101":                fixtures.File("z", 0o640),
		"var/log/unattended-upgrades":              fixtures.Dir(0o755),
		"var/log/cloud-init.log":                   fixtures.File("ci", 0o640),
		"var/log/cpanel-install.log":               fixtures.File("cp", 0o640),
		"var/log/lfd.log":                          fixtures.File("x lfd: /var/log/messages has been reset\n", 0o600),
		"var/log/auth.log":                         fixtures.File("sshd\n", 0o640),
		"var/log/.dot":                             fixtures.File("d", 0o640),
		"var/log/x.log":                            fixtures.Dir(0o755),
		"var/log/link.log":                         fixtures.Symlink("/etc/hostname"),
		"etc/hostname":                             fixtures.File("h\n", 0o644),
		"var/log/wtmp":                             fixtures.File(strings.Repeat("w", 384), 0o664),
		"var/log/btmp":                             fixtures.File("b", 0o600),
		"var/log/faillog":                          fixtures.File("", 0o644),
		"var/log/lastlog":                          {Data: []byte{}, Mode: 0o664, Sys: fixtures.Meta{SparseSize: 1 << 20}},
		"var/log/journal/0123abcd/system.journal":  fixtures.File("j", 0o640),
		"var/log/journal/0123abcd/user-1.journal~": fixtures.File("jj", 0o640),
		"var/log/journal/0123abcd/empty.journal":   fixtures.File("", 0o640),
		"var/log/journal/4567/system.journal":      fixtures.File("", 0o640),
	}
	g := ext4Guest(t, tree) // lastlog is sparse: only a real filesystem has holes
	mp := rules.Options{Profile: rules.Marketplace, Now: time.Date(2025, 11, 1, 13, 0, 0, 0, time.UTC)}

	un := runRule(t, g, "logs.uncleared", mp)
	wantSummary(t, un, "WARN /var/log/.dot\nWARN /var/log/auth.log\nWARN /var/log/cloud-init.log\nINFO /var/log/cpanel-install.log\nWARN /var/log/nginx/access.log\n")
	for _, f := range un {
		if f.Subject == "/var/log/auth.log" && !strings.Contains(f.Message, "README") {
			t.Errorf("auth.log message %q does not mention the README", f.Message)
		}
		if f.Subject == "/var/log/nginx/access.log" && (f.Get("age") != "build" || f.Get(rules.KeySize) != "1" || !strings.HasPrefix(f.Fix, "truncate /var/log/nginx/access.log")) {
			t.Errorf("evidence %+v fix %q", f.Evidence, f.Fix)
		}
	}
	wantSummary(t, runRule(t, g, "logs.rotated", mp),
		"WARN /var/log/apt/history.log.1.gz\nWARN /var/log/dpkg.log-20240101\nWARN /var/log/syslog.2.gz\n")
	j := runRule(t, g, "logs.journal", mp)
	wantSummary(t, j, "WARN /var/log/journal/0123abcd\n")
	if j[0].Get(rules.KeyCount) != "2" || j[0].Get(rules.KeySize) != "3" {
		t.Errorf("journal evidence %+v", j[0].Evidence)
	}
	lr := runRule(t, g, "logs.login-records", mp)
	wantSummary(t, lr, "WARN /var/log/lastlog\nWARN /var/log/wtmp\nWARN /var/log/btmp\n")
	if !strings.Contains(lr[2].Message, "passwords") || lr[0].Get(rules.KeySize) != "1048576" {
		t.Errorf("login records %+v", lr)
	}

	clean := testGuest(t, fstest.MapFS{"var/log/syslog": fixtures.File("", 0o640), "var/log/wtmp": fixtures.File("", 0o664),
		"var/log/journal/m/system.journal": fixtures.File("", 0o640)})
	for _, id := range []string{"logs.uncleared", "logs.rotated", "logs.journal", "logs.login-records"} {
		wantSummary(t, runRule(t, clean, id, mp), "PASS "+map[string]string{
			"logs.uncleared": "/var/log", "logs.rotated": "/var/log", "logs.journal": "/var/log/journal", "logs.login-records": "/var/log"}[id]+"\n")
	}
}
