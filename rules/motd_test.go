package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestRunPartsRuns(t *testing.T) {
	for name, want := range map[string]bool{
		"00-header": true, "99-one-click": true, "motd": true, "50_landscape": true, "_x-y": true,
		"Upper-Case": true, "91-release-upgrade": true, "a.b-c": true,
		"99-one-click.sh": false, "10-help.dpkg-old": false, "x.dpkg-dist": false, "has space": false,
		"a-b.c": false, ".hidden": false, "x~": false,
	} {
		if got := rules.RunPartsRuns(name); got != want {
			t.Errorf("RunPartsRuns(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMOTDExecutable(t *testing.T) {
	debian := fixtures.File("ID=debian\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n", 0o644)
	tests := []struct {
		name string
		tree fstest.MapFS
		want string
	}{
		{"not executable", fstest.MapFS{"etc/os-release": debian, "etc/update-motd.d/99-one-click": fixtures.File("#!/bin/sh\necho hi\n", 0o644)},
			"WARN /etc/update-motd.d/99-one-click\n"},
		{"name skipped by run-parts", fstest.MapFS{"etc/os-release": debian, "etc/update-motd.d/99-one-click.sh": fixtures.File("#!/bin/sh\n", 0o755)},
			"WARN /etc/update-motd.d/99-one-click.sh\n"},
		{"no shebang", fstest.MapFS{"etc/os-release": debian, "etc/update-motd.d/10-x": fixtures.File("echo hi\n", 0o755)},
			"WARN /etc/update-motd.d/10-x\n"},
		{"good", fstest.MapFS{
			"etc/os-release":                 debian,
			"etc/update-motd.d/00-header":    fixtures.File("#!/bin/sh\n", 0o755),
			"etc/update-motd.d/99-one-click": fixtures.File("#!/bin/sh\n", 0o755),
			"etc/update-motd.d/sub":          fixtures.Dir(0o755),
		}, "PASS /etc/update-motd.d/00-header\nPASS /etc/update-motd.d/99-one-click\n"},
		{"empty directory", fstest.MapFS{"etc/os-release": debian, "etc/update-motd.d": fixtures.Dir(0o755)},
			"PASS /etc/update-motd.d\n"},
		{"rpm with the directory", fstest.MapFS{
			"etc/os-release":              fixtures.File("ID=rocky\nID_LIKE=\"rhel centos fedora\"\nNAME=\"Rocky Linux\"\nVERSION_ID=\"9.4\"\n", 0o644),
			"etc/update-motd.d/50-custom": fixtures.File("#!/bin/sh\n", 0o644),
		}, "WARN /etc/update-motd.d/50-custom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantSummary(t, run(t, tt.tree, "motd.executable"), tt.want)
		})
	}
	rpm := fstest.MapFS{"etc/os-release": fixtures.File("ID=rocky\nID_LIKE=\"rhel centos fedora\"\nNAME=\"Rocky Linux\"\nVERSION_ID=\"9.4\"\n", 0o644)}
	if fs := run(t, rpm, "motd.executable"); len(fs) != 1 || fs[0].SkipReason != "not-applicable" {
		t.Errorf("rpm image: %+v", fs)
	}
}
