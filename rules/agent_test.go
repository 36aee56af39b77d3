package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

func TestAgent(t *testing.T) {
	doDir := fixtures.File("", 0o644)
	cases := []struct {
		name           string
		tree           fstest.MapFS
		dir, leftovers rules.Level
	}{
		{"absent", ubuntuTree(), rules.Pass, rules.Pass},
		{"directory", with(ubuntuTree(), "opt/digitalocean/bin/droplet-agent", doDir), rules.Fail, rules.Skip},
		{"symlink to a directory", with(ubuntuTree(), "opt/digitalocean", fixtures.Symlink("/srv/do"), "srv/do/x", doDir), rules.Fail, rules.Skip},
		{"self loop (G20)", with(ubuntuTree(), "opt/digitalocean", fixtures.Symlink("digitalocean")), rules.Pass, rules.Pass},
		{"package without directory", ubuntuTree(stanza("droplet-agent", "1.2.8", installed)), rules.Pass, rules.Warn},
		{"repo file without directory", with(ubuntuTree(), "etc/apt/sources.list.d/droplet-agent.list", fixtures.File("deb https://repos-droplet.digitalocean.com/apt/droplet-agent main main\n", 0o644)), rules.Pass, rules.Warn},
		{"unit enabled without directory", with(ubuntuTree(), "etc/systemd/system/multi-user.target.wants/droplet-agent.service", fixtures.Symlink("/etc/systemd/system/droplet-agent.service")), rules.Pass, rules.Warn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testGuest(t, c.tree)
			if fs := runRule(t, g, "agent.do-dir", rules.Options{}); len(fs) != 1 || fs[0].Level != c.dir {
				t.Errorf("agent.do-dir: %+v, want %s", fs, c.dir)
			}
			if fs := runRule(t, g, "agent.do-leftovers", rules.Options{}); len(fs) != 1 || fs[0].Level != c.leftovers {
				t.Errorf("agent.do-leftovers: %+v, want %s", fs, c.leftovers)
			}
		})
	}
}

func TestAgentParityHints(t *testing.T) {
	dir := fixtures.File("", 0o644)
	cases := []struct {
		name  string
		tree  fstest.MapFS
		hints int
	}{
		{"Debian GNU/Linux gets no hint (P3)", fstest.MapFS{"etc/os-release": fixtures.File("NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n", 0o644), "opt/digitalocean/x": dir}, 0},
		{"Debian from debian_version gets the apt hint", fstest.MapFS{"etc/debian_version": fixtures.File("12.5\n", 0o644), "opt/digitalocean/x": dir}, 1},
		{"Rocky gets the yum hints", fstest.MapFS{"etc/os-release": fixtures.File("NAME=\"Rocky Linux\"\nVERSION_ID=\"9.3\"\nID=rocky\n", 0o644), "opt/digitalocean/x": dir}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := expectOne(t, runRule(t, testGuest(t, c.tree), "agent.do-dir", parity), rules.Fail, "DigitalOcean directory detected.")
			n := 0
			for _, kv := range f.Evidence {
				if kv.Key == "hint" {
					n++
				}
			}
			if n != c.hints || !imgcheck.Counted(f) {
				t.Errorf("hints %d counted %v, want %d true: %+v", n, imgcheck.Counted(f), c.hints, f.Evidence)
			}
		})
	}
	g := testGuest(t, ubuntuTree())
	f := expectOne(t, runRule(t, g, "agent.do-dir", parity), rules.Pass, "DigitalOcean Monitoring agent was not found")
	if !imgcheck.Counted(f) {
		t.Error("parity PASS not counted")
	}
}
