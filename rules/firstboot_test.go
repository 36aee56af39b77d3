package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

const scripts = "var/lib/cloud/scripts/"

func firstBootTree(extra fstest.MapFS) fstest.MapFS {
	tree := fstest.MapFS{
		"bin/bash":                    fixtures.File("\x7fELF", 0o755),
		"usr/bin/env":                 fixtures.File("\x7fELF", 0o755),
		scripts + "per-instance":      fixtures.Dir(0o755),
		scripts + "per-boot":          fixtures.Dir(0o755),
		"var/lib/cloud/scripts/other": fixtures.File("", 0o644),
	}
	for k, v := range extra {
		tree[k] = v
	}
	return tree
}

func TestFirstBootExecutable(t *testing.T) {
	tests := []struct {
		name  string
		extra fstest.MapFS
		want  string
	}{
		{"good", fstest.MapFS{
			scripts + "per-instance/001_onboot": fixtures.File("#!/bin/bash\necho hi\n", 0o755),
			scripts + "per-boot/env":            fixtures.File("#!/usr/bin/env bash\n", 0o700),
			scripts + "per-once/binary":         fixtures.File("\x7fELF\x02\x01", 0o755),
		}, "PASS /var/lib/cloud/scripts/per-instance/001_onboot\nPASS /var/lib/cloud/scripts/per-boot/env\nPASS /var/lib/cloud/scripts/per-once/binary\n"},
		{"mode 0644", fstest.MapFS{scripts + "per-instance/001_onboot": fixtures.File("#!/bin/bash\n", 0o644)},
			"FAIL /var/lib/cloud/scripts/per-instance/001_onboot\n"},
		{"CRLF shebang", fstest.MapFS{scripts + "per-instance/001_onboot": fixtures.File("#!/bin/bash\r\necho\r\n", 0o755)},
			"FAIL /var/lib/cloud/scripts/per-instance/001_onboot\n"},
		{"missing interpreter", fstest.MapFS{scripts + "per-instance/001_onboot": fixtures.File("#!/usr/bin/python4\n", 0o755)},
			"FAIL /var/lib/cloud/scripts/per-instance/001_onboot\n"},
		{"env without the command", fstest.MapFS{scripts + "per-instance/py": fixtures.File("#!/usr/bin/env python4\n", 0o755)},
			"FAIL /var/lib/cloud/scripts/per-instance/py\n"},
		{"no shebang", fstest.MapFS{scripts + "per-boot/x": fixtures.File("echo hi\n", 0o755)},
			"FAIL /var/lib/cloud/scripts/per-boot/x\n"},
		{"dangling link and directory", fstest.MapFS{
			scripts + "per-instance/a": fixtures.Symlink("/opt/missing.sh"),
			scripts + "per-instance/b": fixtures.Dir(0o755),
		}, "FAIL /var/lib/cloud/scripts/per-instance/a\nINFO /var/lib/cloud/scripts/per-instance/b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantSummary(t, run(t, firstBootTree(tt.extra), "firstboot.executable"), tt.want)
		})
	}
	fs := run(t, firstBootTree(nil), "firstboot.executable")
	if len(fs) != 1 || fs[0].Level.String() != "skip" || fs[0].SkipReason != "not-applicable" {
		t.Errorf("empty directories: %+v", fs)
	}
	fs = run(t, firstBootTree(fstest.MapFS{scripts + "per-instance/001_onboot": fixtures.File("#!/bin/bash\r\n", 0o644)}), "firstboot.executable")
	if len(fs) != 1 || len(fs[0].Evidence) != 4 { // path, mode, two reasons
		t.Errorf("evidence %+v", fs)
	}
}

const lockConfig = "Match User root\n        ForceCommand echo \"Please wait while we get your droplet ready...\"\n"

const unlockScript = "#!/bin/bash\nsed -e '/Match User root/d' -e '/.*ForceCommand.*droplet.*/d' -i /etc/ssh/sshd_config\nsystemctl restart ssh\n"

func TestFirstBootSSHLock(t *testing.T) {
	tests := []struct {
		name  string
		extra fstest.MapFS
		want  string
	}{
		{"lock without removal", fstest.MapFS{"etc/ssh/sshd_config": fixtures.File(lockConfig, 0o644)},
			"FAIL /etc/ssh/sshd_config\n"},
		{"lock with removal", fstest.MapFS{
			"etc/ssh/sshd_config":              fixtures.File(lockConfig, 0o644),
			scripts + "per-instance/01-unlock": fixtures.File(unlockScript, 0o755),
		}, "PASS /etc/ssh/sshd_config\n"},
		{"removal script not executable", fstest.MapFS{
			"etc/ssh/sshd_config":              fixtures.File(lockConfig, 0o644),
			scripts + "per-instance/01-unlock": fixtures.File(unlockScript, 0o644),
		}, "FAIL /etc/ssh/sshd_config\n"},
		{"lock in a drop-in", fstest.MapFS{
			"etc/ssh/sshd_config":                fixtures.File("Include /etc/ssh/sshd_config.d/*.conf\n", 0o644),
			"etc/ssh/sshd_config.d/99-lock.conf": fixtures.File(lockConfig, 0o644),
			scripts + "per-boot/unlock":          fixtures.File(unlockScript, 0o755),
		}, "PASS /etc/ssh/sshd_config\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := firstBootTree(tt.extra)
			tree["usr/sbin/sshd"] = fixtures.File("", 0o755)
			wantSummary(t, run(t, tree, "firstboot.ssh-lock"), tt.want)
		})
	}
	tree := firstBootTree(fstest.MapFS{"usr/sbin/sshd": fixtures.File("", 0o755), "etc/ssh/sshd_config": fixtures.File("PermitRootLogin yes\n", 0o644)})
	if fs := run(t, tree, "firstboot.ssh-lock"); len(fs) != 1 || fs[0].SkipReason != "not-applicable" {
		t.Errorf("no lock: %+v", fs)
	}
}
