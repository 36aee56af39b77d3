package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

var exe = fixtures.File("\x7fELF", 0o755)

func rockyTree(kv ...any) fstest.MapFS {
	return with(fstest.MapFS{"etc/os-release": fixtures.File("NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n", 0o644)}, kv...)
}

func debianTree(kv ...any) fstest.MapFS {
	return with(fstest.MapFS{
		"etc/os-release":      fixtures.File("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n", 0o644),
		"var/lib/dpkg/status": fixtures.File(stanza("dpkg", "1.21.22", installed), 0o644),
		"var/lib/dpkg/arch":   fixtures.File("amd64\n", 0o644),
	}, kv...)
}

// ufwOn is an Ubuntu tree with ufw installed, enabled in its config, and
// its unit enabled.
func ufwOn(enabled string) fstest.MapFS {
	return with(ubuntuTree(),
		"usr/sbin/ufw", exe,
		"etc/default/ufw", fixtures.File("IPV6=yes\nENABLED=no\n", 0o644),
		"etc/ufw/ufw.conf", fixtures.File("# comment\nENABLED="+enabled+"\nLOGLEVEL=low\n", 0o644),
		"lib/systemd/system/ufw.service", fixtures.File("[Unit]\n", 0o644),
		"etc/systemd/system/multi-user.target.wants/ufw.service", fixtures.Symlink("/lib/systemd/system/ufw.service"))
}

func TestFirewallParity(t *testing.T) {
	csfUnit := fixtures.File("[Unit]\nDescription=csf\n", 0o644)
	cases := []struct {
		name   string
		tree   fstest.MapFS
		level  rules.Level
		msg    string
		approx bool
	}{
		{"G1 ubuntu ufw enabled", ufwOn("yes"), rules.Pass, "Firewall service (ufw) is active", false},
		{"G3 ubuntu ENABLED=no", ufwOn("no"), rules.Warn, "No firewall is configured. Ensure ufw is installed and configured", false},
		{"ubuntu without ufw", ubuntuTree(), rules.Warn, "No firewall is configured. Ensure ufw is installed and configured", false},
		{"ubuntu ENABLED=yes unit masked", with(ufwOn("yes"), "etc/systemd/system/ufw.service", fixtures.Symlink("/dev/null")), rules.Warn, "No firewall is configured. Ensure ufw is installed and configured", true},
		{"G4 rocky without firewalld", rockyTree(), rules.Pass, "Firewall service (firewalld) is active", false},
		{"G5 rocky csf with firewall-cmd", rockyTree("usr/lib/systemd/system/csf.service", csfUnit, "usr/bin/firewall-cmd", exe), rules.Pass, "Firewall service (csf) is active", false},
		{"G5 rocky csf without firewall-cmd", rockyTree("usr/lib/systemd/system/csf.service", csfUnit), rules.Warn, "No firewall is configured. Ensure csf is installed and configured", false},
		{"G6 debian firewalld enabled", debianTree("usr/bin/firewall-cmd", exe, "usr/sbin/firewalld", exe,
			"lib/systemd/system/firewalld.service", fixtures.File("[Unit]\n", 0o644),
			"etc/systemd/system/multi-user.target.wants/firewalld.service", fixtures.Symlink("/lib/systemd/system/firewalld.service")),
			rules.Warn, "No firewall is configured. Ensure firewalld is installed and configured", false},
		{"debian nothing", debianTree(), rules.Warn, "No firewall is configured. Ensure iptables is installed and configured", true},
		{"debian ip_tables module", debianTree("etc/modules-load.d/fw.conf", fixtures.File("# fw\nip_tables\n", 0o644)), rules.Pass, "Firewall service (iptables) is active", true},
		{"debian netfilter-persistent legacy", debianTree(
			"etc/systemd/system/multi-user.target.wants/netfilter-persistent.service", fixtures.Symlink("/lib/systemd/system/netfilter-persistent.service"),
			"etc/iptables/rules.v4", fixtures.File("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n", 0o644),
			"etc/alternatives/iptables", fixtures.Symlink("/usr/sbin/iptables-legacy"),
			"usr/sbin/iptables-legacy", exe), rules.Pass, "Firewall service (iptables) is active", true},
		{"debian ufw present, enabled", with(debianTree(), "usr/sbin/ufw", exe, "etc/ufw/ufw.conf", fixtures.File("ENABLED=yes\n", 0o644),
			"etc/systemd/system/multi-user.target.wants/ufw.service", fixtures.Symlink("/lib/systemd/system/ufw.service")), rules.Pass, "Firewall service (ufw) is active", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := expectOne(t, runRule(t, testGuest(t, c.tree), "fw.active", parity), c.level, c.msg)
			if !imgcheck.Counted(f) || f.Approximate != c.approx {
				t.Errorf("counted=%v approximate=%v, want true %v", imgcheck.Counted(f), f.Approximate, c.approx)
			}
			if (f.Level == rules.Warn) != (f.Get("status") == "no") {
				t.Errorf("a parity firewall WARN must carry status=no (Q3): %+v", f.Evidence)
			}
		})
	}
}

func TestFirewallMarketplace(t *testing.T) {
	nftUnit := fixtures.Symlink("/lib/systemd/system/nftables.service")
	debianStock := "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter;\n\t}\n\tchain output {\n\t\ttype filter hook output priority filter;\n\t}\n}\n"
	dropPolicy := "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\n"
	withRule := "table inet filter {\n  chain input {\n    type filter hook input priority 0\n    tcp dport 22 accept\n  }\n}\n"
	firewalld := []any{"usr/sbin/firewalld", exe, "etc/systemd/system/multi-user.target.wants/firewalld.service", fixtures.Symlink("/usr/lib/systemd/system/firewalld.service")}
	cases := []struct {
		name  string
		tree  fstest.MapFS
		level rules.Level
		msg   string
	}{
		{"ufw enabled", ufwOn("yes"), rules.Pass, "Firewall service (ufw) is active"},
		{"ufw ENABLED=no", ufwOn("no"), rules.Warn, "No active firewall found (checked: ufw, firewalld, nftables, iptables, csf)"},
		{"ufw unit masked", with(ufwOn("yes"), "etc/systemd/system/ufw.service", fixtures.Symlink("/dev/null")), rules.Warn, "No active firewall found (checked: ufw, firewalld, nftables, iptables, csf)"},
		{"firewalld on rocky", rockyTree(firewalld...), rules.Pass, "Firewall service (firewalld) is active"},
		{"rocky nothing", rockyTree(), rules.Warn, "No active firewall found (checked: firewalld, csf, nftables, iptables)"},
		{"nftables drop policy", debianTree("etc/nftables.conf", fixtures.File(dropPolicy, 0o644), "etc/systemd/system/sysinit.target.wants/nftables.service", nftUnit), rules.Pass, "Firewall service (nftables) is active"},
		{"nftables rule", debianTree("etc/nftables.conf", fixtures.File(withRule, 0o644), "etc/systemd/system/sysinit.target.wants/nftables.service", nftUnit), rules.Pass, "Firewall service (nftables) is active"},
		{"debian stock nftables.conf", debianTree("etc/nftables.conf", fixtures.File(debianStock, 0o644), "etc/systemd/system/sysinit.target.wants/nftables.service", nftUnit), rules.Warn, "No active firewall found (checked: ufw, firewalld, nftables, iptables, csf)"},
		{"nftables rule but unit disabled", debianTree("etc/nftables.conf", fixtures.File(withRule, 0o644)), rules.Warn, "No active firewall found (checked: ufw, firewalld, nftables, iptables, csf)"},
		{"rpm nftables include", rockyTree("etc/sysconfig/nftables.conf", fixtures.File("include \"/etc/nftables/main.nft\"\n", 0o644),
			"etc/nftables/main.nft", fixtures.File(dropPolicy, 0o644), "etc/systemd/system/multi-user.target.wants/nftables.service", nftUnit), rules.Pass, "Firewall service (nftables) is active"},
		{"csf", rockyTree("etc/csf/csf.conf", fixtures.File("TESTING = \"0\"\n", 0o644), "etc/systemd/system/multi-user.target.wants/csf.service", fixtures.Symlink("/usr/lib/systemd/system/csf.service")), rules.Pass, "Firewall service (csf) is active"},
		{"csf testing mode", rockyTree("etc/csf/csf.conf", fixtures.File("TESTING = \"1\"\n", 0o644), "etc/systemd/system/multi-user.target.wants/csf.service", fixtures.Symlink("/usr/lib/systemd/system/csf.service")), rules.Warn, "No active firewall found (checked: firewalld, csf, nftables, iptables)"},
		{"iptables persisted", debianTree("etc/systemd/system/multi-user.target.wants/netfilter-persistent.service", fixtures.Symlink("/lib/systemd/system/netfilter-persistent.service"),
			"etc/iptables/rules.v4", fixtures.File("*filter\n:INPUT DROP [0:0]\nCOMMIT\n", 0o644)), rules.Pass, "Firewall service (iptables) is active"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := expectOne(t, runRule(t, testGuest(t, c.tree), "fw.active", rules.Options{}), c.level, c.msg)
			if !f.Approximate {
				t.Error("marketplace firewall findings are approximate")
			}
		})
	}
}
