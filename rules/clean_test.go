package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// cleanCase is one tree and the summary (see wantSummary) one rule gives.
type cleanCase struct {
	name string
	tree fstest.MapFS
	want string
}

func runCleanCases(t *testing.T, id string, cases []cleanCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantSummary(t, run(t, tc.tree, id), tc.want)
		})
	}
}

func TestTmpPerms(t *testing.T) {
	runCleanCases(t, "clean.tmp-perms", []cleanCase{
		{"clean", fstest.MapFS{"tmp": fixtures.Dir(0o1777), "var/tmp": fixtures.Dir(0o1777)}, "PASS /tmp\nPASS /var/tmp\n"},
		{"/tmp 0755", fstest.MapFS{"tmp": fixtures.Dir(0o755), "var/tmp": fixtures.Dir(0o1777)}, "FAIL /tmp\nPASS /var/tmp\n"},
		{"/tmp missing", fstest.MapFS{"var/tmp": fixtures.Dir(0o1777)}, "FAIL /tmp\nPASS /var/tmp\n"},
		{"/var/tmp 0755", fstest.MapFS{"tmp": fixtures.Dir(0o1777), "var/tmp": fixtures.Dir(0o755)}, "PASS /tmp\nWARN /var/tmp\n"},
		{"/tmp owned by a user", fstest.MapFS{"tmp": {Mode: 0o1777 | 1<<31, Sys: fixtures.Meta{Uid: 1000}}, "var/tmp": fixtures.Dir(0o1777)},
			"WARN /tmp\nPASS /var/tmp\n"},
	})
}

func TestTmpContents(t *testing.T) {
	runCleanCases(t, "clean.tmp-contents", []cleanCase{
		{"empty X11 dir ignored", fstest.MapFS{"tmp/.X11-unix": fixtures.Dir(0o1777), "var/tmp": fixtures.Dir(0o1777)}, "PASS /tmp\n"},
		{"leftovers", fstest.MapFS{
			"tmp/build.sh":                    fixtures.File("#!/bin/sh\n", 0o755),
			"tmp/.secret":                     fixtures.File("s", 0o600),
			"tmp/.X11-unix/X0":                fixtures.File("", 0o600),
			"var/tmp/systemd-private-abc/tmp": fixtures.Dir(0o1777),
		}, "WARN /tmp/.X11-unix\nWARN /tmp/.secret\nWARN /tmp/build.sh\nWARN /var/tmp/systemd-private-abc\n"},
		{"tmpfs /tmp hides the disk's /tmp", fstest.MapFS{
			"etc/fstab":    fixtures.File("tmpfs /tmp tmpfs defaults 0 0\n", 0o644),
			"tmp/build.sh": fixtures.File("x", 0o644),
			"var/tmp/x":    fixtures.File("x", 0o644),
		}, "INFO /tmp/build.sh\nWARN /var/tmp/x\n"},
		{"tmp.mount enabled", fstest.MapFS{
			"usr/lib/systemd/system/tmp.mount":                       fixtures.File("[Mount]\n", 0o644),
			"usr/lib/systemd/system/local-fs.target.wants/tmp.mount": fixtures.Symlink("../tmp.mount"),
			"tmp/x": fixtures.File("x", 0o644),
		}, "INFO /tmp/x\n"},
	})
	fs := run(t, fstest.MapFS{"var/tmp/d/a/b": fixtures.File("x", 0o644)}, "clean.tmp-contents")
	if fs[0].Get(rules.KeyCount) != "2" || !strings.HasPrefix(fs[0].Fix, "delete /var/tmp/d") {
		t.Errorf("evidence %+v", fs[0])
	}
}

func TestPkgCache(t *testing.T) {
	runCleanCases(t, "clean.pkg-cache", []cleanCase{
		{"empty archives", fstest.MapFS{"var/cache/apt/archives/partial": fixtures.Dir(0o700), "var/cache/apt/archives/lock": fixtures.File("", 0o640)},
			"PASS /var/cache\n"},
		{"debs and bins", fstest.MapFS{
			"var/cache/apt/archives/a.deb":                    fixtures.File("aa", 0o644),
			"var/cache/apt/archives/b.deb":                    fixtures.File("bbb", 0o644),
			"var/cache/apt/archives/c.deb":                    fixtures.File("c", 0o644),
			"var/cache/apt/pkgcache.bin":                      fixtures.File("p", 0o644),
			"var/cache/dnf/repo/repodata/x-updateinfo.xml.gz": fixtures.File("u", 0o644),
		}, "INFO /var/cache/apt/archives\nINFO /var/cache/apt\nINFO /var/cache/dnf\n"},
	})
	fs := run(t, fstest.MapFS{"var/cache/apt/archives/a.deb": fixtures.File("aa", 0o644), "var/cache/apt/archives/b.deb": fixtures.File("bbb", 0o644)}, "clean.pkg-cache")
	if fs[0].Get(rules.KeyCount) != "2" || fs[0].Get(rules.KeySize) != "5" {
		t.Errorf("evidence %+v", fs[0].Evidence)
	}
}

func TestCloudInstance(t *testing.T) {
	runCleanCases(t, "clean.cloud-instance", []cleanCase{
		{"empty instances", fstest.MapFS{"var/lib/cloud/instances": fixtures.Dir(0o755)}, "PASS /var/lib/cloud/instances\n"},
		{"dangling instance link", fstest.MapFS{"var/lib/cloud/instances": fixtures.Dir(0o755), "var/lib/cloud/instance": fixtures.Symlink("/var/lib/cloud/instances/123")},
			"PASS /var/lib/cloud/instances\n"},
		{"instance state", fstest.MapFS{
			"var/lib/cloud/instances/123/user-data.txt": fixtures.File("#cloud-config\npassword: hunter2\n", 0o600),
			"var/lib/cloud/data/status.json":            fixtures.File("{}", 0o644),
		}, "WARN /var/lib/cloud/instances\nINFO /var/lib/cloud/data\n"},
	})
	fs := run(t, fstest.MapFS{"var/lib/cloud/instances/123/user-data.txt": fixtures.File("#cloud-config\npassword: hunter2\n", 0o600)}, "clean.cloud-instance")
	if fs[0].Get("instance") != "123" || fs[0].Get(rules.KeySize) != "32" {
		t.Errorf("evidence %+v", fs[0].Evidence)
	}
	noSecret(t, fs, "hunter2")
}

func TestZerofileMachineIDMail(t *testing.T) {
	runCleanCases(t, "clean.zerofile", []cleanCase{
		{"absent", fstest.MapFS{"etc/hostname": fixtures.File("x", 0o644)}, "PASS /zerofile\n"},
		{"present", fstest.MapFS{"zerofile": fixtures.File(strings.Repeat("\x00", 4096), 0o644)}, "WARN /zerofile\n"},
	})
	runCleanCases(t, "clean.machine-id", []cleanCase{
		{"empty", fstest.MapFS{"etc/machine-id": fixtures.File("", 0o444)}, "PASS /etc/machine-id\n"},
		{"uninitialized", fstest.MapFS{"etc/machine-id": fixtures.File("uninitialized\n", 0o444)}, "PASS /etc/machine-id\n"},
		{"an ID", fstest.MapFS{"etc/machine-id": fixtures.File("0123456789abcdef0123456789abcdef\n", 0o444)}, "WARN /etc/machine-id\n"},
		{"dbus link is fine", fstest.MapFS{"etc/machine-id": fixtures.File("", 0o444), "var/lib/dbus/machine-id": fixtures.Symlink("/etc/machine-id")},
			"PASS /etc/machine-id\n"},
		{"dbus copy", fstest.MapFS{"etc/machine-id": fixtures.File("", 0o444), "var/lib/dbus/machine-id": fixtures.File("0123456789abcdef0123456789abcdef\n", 0o444)},
			"PASS /etc/machine-id\nWARN /var/lib/dbus/machine-id\n"},
	})
	fs := run(t, fstest.MapFS{"etc/machine-id": fixtures.File("0123456789abcdef0123456789abcdef\n", 0o444)}, "clean.machine-id")
	noSecret(t, fs, "0123456789abcdef")
	runCleanCases(t, "clean.mail-spool", []cleanCase{
		{"empty", fstest.MapFS{"var/mail/root": fixtures.File("", 0o600)}, "PASS /var/mail\n"},
		{"root mailbox, spool linked once", fstest.MapFS{
			"var/mail/root":  fixtures.File(strings.Repeat("m", 2048), 0o600),
			"var/spool/mail": fixtures.Symlink("../mail"),
		}, "WARN /var/mail/root\n"},
	})
}

func TestSmallLeftovers(t *testing.T) {
	runCleanCases(t, "clean.udev-net", []cleanCase{
		{"absent", fstest.MapFS{"etc/udev/rules.d": fixtures.Dir(0o755)}, "PASS /etc/udev/rules.d/70-persistent-net.rules\n"},
		{"present", fstest.MapFS{"etc/udev/rules.d/70-persistent-net.rules": fixtures.File("SUBSYSTEM==\"net\"\n", 0o644)},
			"WARN /etc/udev/rules.d/70-persistent-net.rules\n"},
	})
	runCleanCases(t, "clean.crash-dumps", []cleanCase{
		{"empty", fstest.MapFS{"var/crash/x.crash": fixtures.File("", 0o600)}, "PASS /var/crash\n"},
		{"dump", fstest.MapFS{"var/crash/_usr_bin_x.0.crash": fixtures.File("core", 0o600)}, "WARN /var/crash/_usr_bin_x.0.crash\n"},
	})
	runCleanCases(t, "clean.dhcp-leases", []cleanCase{
		{"none", fstest.MapFS{"var/lib/dhcp/dhclient.leases": fixtures.File("", 0o644)}, "PASS /var/lib/dhcp\n"},
		{"leases", fstest.MapFS{
			"var/lib/dhcp/dhclient.eth0.leases":            fixtures.File("lease {}\n", 0o644),
			"var/lib/NetworkManager/internal-x-eth0.lease": fixtures.File("ADDRESS=10.0.0.2\n", 0o644),
			"var/lib/NetworkManager/NetworkManager.state":  fixtures.File("[main]\n", 0o644),
		}, "INFO /var/lib/dhcp/dhclient.eth0.leases\nINFO /var/lib/NetworkManager/internal-x-eth0.lease\n"},
	})
}

func TestIfcfgHwaddr(t *testing.T) {
	rpm := func(ifcfg string) fstest.MapFS {
		return fstest.MapFS{
			"etc/os-release": fixtures.File("NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n", 0o644),
			"etc/sysconfig/network-scripts/ifcfg-eth0": fixtures.File(ifcfg, 0o644),
		}
	}
	runCleanCases(t, "clean.ifcfg-hwaddr", []cleanCase{
		{"no HWADDR", rpm("DEVICE=eth0\nBOOTPROTO=dhcp\n"), "PASS /etc/sysconfig/network-scripts\n"},
		{"HWADDR set", rpm("DEVICE=eth0\nHWADDR=52:54:00:12:34:56\n"), "WARN /etc/sysconfig/network-scripts/ifcfg-eth0\n"},
		{"deb family skips", fstest.MapFS{"etc/os-release": fixtures.File("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n", 0o644)}, "SKIP \n"},
	})
}

// TestCleanTreeHasNoLeftovers runs every cleanup and log rule of the
// marketplace profile on a tree as cleanup.sh leaves it: nothing may WARN,
// FAIL or ERROR.
func TestCleanTreeHasNoLeftovers(t *testing.T) {
	g := testGuest(t, fstest.MapFS{
		"etc/os-release":              fixtures.File("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"24.04\"\n", 0o644),
		"etc/machine-id":              fixtures.File("", 0o444),
		"var/lib/dbus/machine-id":     fixtures.Symlink("/etc/machine-id"),
		"tmp":                         fixtures.Dir(0o1777),
		"var/tmp":                     fixtures.Dir(0o1777),
		"tmp/.X11-unix":               fixtures.Dir(0o1777),
		"var/log/syslog":              fixtures.File("", 0o640),
		"var/log/auth.log":            fixtures.File("", 0o640),
		"var/log/wtmp":                fixtures.File("", 0o664),
		"var/log/lastlog":             fixtures.File("", 0o664),
		"var/log/journal":             fixtures.Dir(0o2755),
		"var/log/unattended-upgrades": fixtures.Dir(0o750),
		"var/cache/apt/archives/lock": fixtures.File("", 0o640),
		"var/lib/cloud/instances":     fixtures.Dir(0o755),
		"var/mail":                    fixtures.Dir(0o2775),
		"var/crash":                   fixtures.Dir(0o1777),
		"var/lib/dhcp":                fixtures.Dir(0o755),
	})
	for _, id := range []string{"clean.tmp-perms", "clean.tmp-contents", "clean.pkg-cache", "clean.cloud-instance",
		"clean.zerofile", "clean.machine-id", "clean.mail-spool", "clean.udev-net", "clean.crash-dumps", "clean.dhcp-leases",
		"logs.uncleared", "logs.rotated", "logs.journal", "logs.login-records"} {
		for _, f := range runRule(t, g, id, rules.Options{}) {
			if f.Level != rules.Pass && f.Level != rules.Info {
				t.Errorf("%s: %s %s: %s", id, f.Level, f.Subject, f.Message)
			}
		}
	}
}
