package imgcheck_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// g7Tree is golden G7's /var/log.
func g7Tree() fstest.MapFS {
	return fstest.MapFS{
		"var/log/syslog":                fixtures.File("", 0o640),
		"var/log/cloud-init.log":        fixtures.File("0123456789", 0o640),
		"var/log/unattended-upgrades":   fixtures.Dir(0o755),
		"var/log/syslog.1":              fixtures.File("old\n", 0o640),
		"var/log/auth.log":              fixtures.File(strings.Repeat("a", 60), 0o640),
		"var/log/.hidden-12345678":      fixtures.File("x", 0o640),
		"var/log/cpanel-install.log":    fixtures.File(strings.Repeat("c", 100), 0o640),
		"var/log/small.log":             fixtures.File(strings.Repeat("s", 50), 0o640),
		"var/log/dir.log":               fixtures.Dir(0o755),
		"var/log/unattended-upgrades/x": fixtures.File("y", 0o640),
	}
}

func TestParityLogLoops(t *testing.T) {
	t.Run("G7", func(t *testing.T) {
		g := testGuest(t, g7Tree())
		wantLines(t, runRule(t, g, "logs.archive-dated", parityOpts),
			"WARN Log archive /var/log/cloud-init.log found; Contents: (counted)\n"+
				"WARN Log archive /var/log/unattended-upgrades found; Contents: (counted)\n")
		wantLines(t, runRule(t, g, "logs.archive-numbered", parityOpts),
			"WARN Log archive /var/log/syslog.1 found; Contents: (counted)\n")
		wantLines(t, runRule(t, g, "logs.uncleared", parityOpts),
			"WARN un-cleared log file, /var/log/auth.log found; Contents: (counted)\n")
	})
	t.Run("G8 a dangling match ends loop 1 only", func(t *testing.T) {
		tree := g7Tree()
		tree["var/log/a-12345678"] = fixtures.Symlink("/nowhere")
		g := testGuest(t, tree)
		wantLines(t, runRule(t, g, "logs.archive-dated", parityOpts), "")
		wantLines(t, runRule(t, g, "logs.archive-numbered", parityOpts),
			"WARN Log archive /var/log/syslog.1 found; Contents: (counted)\n")
		wantLines(t, runRule(t, g, "logs.uncleared", parityOpts),
			"WARN un-cleared log file, /var/log/auth.log found; Contents: (counted)\n")
	})
	t.Run("a dangling link later in the order stops only the rest", func(t *testing.T) {
		g := testGuest(t, fstest.MapFS{
			"var/log/a.log": fixtures.File(strings.Repeat("a", 51), 0o640),
			"var/log/b.log": fixtures.Symlink("gone"),
			"var/log/c.log": fixtures.File(strings.Repeat("c", 51), 0o640),
		})
		wantLines(t, runRule(t, g, "logs.uncleared", parityOpts),
			"WARN un-cleared log file, /var/log/a.log found; Contents: (counted)\n")
	})
	t.Run("lfd.log counts only lines other than csf's", func(t *testing.T) {
		reset := strings.Repeat("Nov 26 lfd[1]: /var/log/messages has been reset\nNov 26 lfd[1]: Watching /var/log/messages\n", 5)
		for _, tc := range []struct {
			name, body, want string
		}{
			{"only reset lines", reset, ""},
			{"51 other bytes", reset + strings.Repeat("x", 50) + "\n", "WARN un-cleared log file, /var/log/lfd.log found; Contents: (counted)\n"},
			{"50 other bytes without newline", reset + strings.Repeat("x", 49), ""},
			{"51 with grep's added newline", reset + strings.Repeat("x", 50), "WARN un-cleared log file, /var/log/lfd.log found; Contents: (counted)\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := testGuest(t, fstest.MapFS{"var/log/lfd.log": fixtures.File(tc.body, 0o600)})
				wantLines(t, runRule(t, g, "logs.uncleared", parityOpts), tc.want)
			})
		}
	})
	t.Run("no /var/log", func(t *testing.T) {
		g := testGuest(t, fstest.MapFS{"etc/hostname": fixtures.File("x", 0o644)})
		for _, id := range []string{"logs.archive-dated", "logs.archive-numbered", "logs.uncleared"} {
			fs := runRule(t, g, id, parityOpts)
			if len(fs) == 0 || findingLines(fs) != "" {
				t.Errorf("%s: %+v", id, fs)
			}
		}
	})
	t.Run("size evidence for the content block", func(t *testing.T) {
		g := testGuest(t, g7Tree())
		fs := runRule(t, g, "logs.archive-dated", parityOpts)
		if fs[0].Get(rules.KeySize) != "10" || fs[1].Get(rules.KeySize) != "" || fs[1].Get("type") != "directory" {
			t.Errorf("evidence %+v / %+v", fs[0].Evidence, fs[1].Evidence)
		}
	})
}
