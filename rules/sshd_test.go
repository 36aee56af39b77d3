package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/crypto/ssh"

	"github.com/imgcheck/imgcheck/fixtures"
)

// sshdTree is a guest with sshd installed and the given config files.
func sshdTree(files map[string]string) fstest.MapFS {
	tree := fstest.MapFS{
		"usr/sbin/sshd": fixtures.File("", 0o755),
		"etc/passwd":    passwd(basePasswd...),
		"etc/shadow":    shadow("root:*:1::::::"),
		"root":          fixtures.Dir(0o700),
	}
	for name, body := range files {
		tree[name] = fixtures.File(body, 0o644)
	}
	return tree
}

func TestSSHDRootLogin(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		want   string
		value  string
		source string
	}{
		{"defaults", map[string]string{"etc/ssh/sshd_config": "# nothing\n"},
			"PASS /etc/ssh/sshd_config\n", "prohibit-password", "default"},
		{"no", map[string]string{"etc/ssh/sshd_config": "Port 22\npermitrootlogin=no\n"},
			"WARN /etc/ssh/sshd_config\n", "no", "/etc/ssh/sshd_config:2"},
		{"yes", map[string]string{"etc/ssh/sshd_config": "PermitRootLogin yes\n"},
			"INFO /etc/ssh/sshd_config\n", "yes", "/etc/ssh/sshd_config:1"},
		{"first value wins across Include", map[string]string{
			"etc/ssh/sshd_config":                  "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n",
			"etc/ssh/sshd_config.d/50-cloud.conf":  "PermitRootLogin without-password\n",
			"etc/ssh/sshd_config.d/10-vendor.conf": "# first\nPermitRootLogin forced-commands-only\n",
		}, "WARN /etc/ssh/sshd_config\n", "forced-commands-only", "/etc/ssh/sshd_config.d/10-vendor.conf:2"},
		{"relative include, glob without match", map[string]string{
			"etc/ssh/sshd_config":        "Include nothing.d/*.conf\nInclude extra.conf\nPermitRootLogin yes\n",
			"etc/ssh/extra.conf":         "  PermitRootLogin   \"no\"  # quoted\n",
			"etc/ssh/sshd_config.d/.x":   "PermitRootLogin yes\n",
			"etc/ssh/sshd_config.d/ignr": "PermitRootLogin yes\n",
		}, "WARN /etc/ssh/sshd_config\n", "no", "/etc/ssh/extra.conf:1"},
		{"Match User root override", map[string]string{
			"etc/ssh/sshd_config": "PermitRootLogin no\nMatch User admin,!guest\n  PermitRootLogin yes\nMatch User r*t\n  PermitRootLogin prohibit-password\n",
		}, "PASS /etc/ssh/sshd_config\n", "prohibit-password", "/etc/ssh/sshd_config:5"},
		{"negated Match does not apply", map[string]string{
			"etc/ssh/sshd_config": "Match User *,!root\n  PermitRootLogin no\n",
		}, "PASS /etc/ssh/sshd_config\n", "prohibit-password", "default"},
		{"Match in an included file ends with it", map[string]string{
			"etc/ssh/sshd_config":          "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n",
			"etc/ssh/sshd_config.d/m.conf": "Match User nobody\n  PermitRootLogin yes\n",
		}, "WARN /etc/ssh/sshd_config\n", "no", "/etc/ssh/sshd_config:2"},
		{"Match Host is not evaluated", map[string]string{
			"etc/ssh/sshd_config": "Match Host 10.* User root\n  PermitRootLogin no\n",
		}, "PASS /etc/ssh/sshd_config\nINFO /etc/ssh/sshd_config:2\n", "prohibit-password", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := run(t, sshdTree(tt.files), "sshd.root-login")
			wantSummary(t, fs, tt.want)
			if ev(fs[0], "value") != tt.value || ev(fs[0], "source") != tt.source {
				t.Errorf("value %q from %q, want %q from %q", ev(fs[0], "value"), ev(fs[0], "source"), tt.value, tt.source)
			}
		})
	}
}

func TestSSHDIncludeLoopAndAbsence(t *testing.T) {
	loop := sshdTree(map[string]string{"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"})
	fs := run(t, loop, "sshd.password-auth")
	if len(fs) != 1 || fs[0].Level.String() != "error" || !strings.Contains(fs[0].Message, "depth 16") {
		t.Errorf("include loop: %+v", fs)
	}
	fs = run(t, fstest.MapFS{"etc/passwd": passwd(basePasswd...)}, "sshd.root-login")
	if len(fs) != 1 || fs[0].Level.String() != "skip" || fs[0].SkipReason != "not-applicable" {
		t.Errorf("no sshd: %+v", fs)
	}
}

func TestSSHDPasswordAuth(t *testing.T) {
	fs := run(t, sshdTree(map[string]string{
		"etc/ssh/sshd_config":                      "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n",
		"etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication no\n",
	}), "sshd.password-auth")
	wantSummary(t, fs, "INFO /etc/ssh/sshd_config\n")
	if ev(fs[0], "value") != "no" || ev(fs[0], "source") != "/etc/ssh/sshd_config.d/50-cloud-init.conf:1" {
		t.Errorf("%+v", fs[0].Evidence)
	}
	fs = run(t, sshdTree(map[string]string{"etc/ssh/sshd_config": "\n"}), "sshd.password-auth")
	if ev(fs[0], "value") != "yes" || ev(fs[0], "source") != "default" {
		t.Errorf("default: %+v", fs[0].Evidence)
	}
}

func TestSSHDEmptyPasswords(t *testing.T) {
	yes := sshdTree(map[string]string{"etc/ssh/sshd_config": "PermitEmptyPasswords yes\n"})
	wantSummary(t, run(t, yes, "sshd.empty-passwords"), "WARN /etc/ssh/sshd_config\n")

	yes["etc/passwd"] = passwd(append(basePasswd, "kiosk::1001:1001::/home/kiosk:/bin/bash", "svc2::1002:1002::/:/usr/sbin/nologin")...)
	wantSummary(t, run(t, yes, "sshd.empty-passwords"), "FAIL kiosk\n")

	def := sshdTree(map[string]string{"etc/ssh/sshd_config": "\n"})
	def["etc/passwd"] = yes["etc/passwd"]
	wantSummary(t, run(t, def, "sshd.empty-passwords"), "PASS /etc/ssh/sshd_config\n")
}

func TestRevokedKeys(t *testing.T) {
	const cfg = "RevokedKeys /etc/ssh/revoked_keys\n"
	missing := sshdTree(map[string]string{"etc/ssh/sshd_config": cfg})
	wantSummary(t, run(t, missing, "clean.revoked-keys"), "FAIL /etc/ssh/revoked_keys\n")

	ok := sshdTree(map[string]string{"etc/ssh/sshd_config": cfg})
	ok["etc/ssh/revoked_keys"] = fixtures.File("", 0o600)
	wantSummary(t, run(t, ok, "clean.revoked-keys"), "PASS /etc/ssh/revoked_keys\n")

	loose := sshdTree(map[string]string{
		"etc/ssh/sshd_config":           "Include /etc/ssh/sshd_config.d/*.conf\n",
		"etc/ssh/sshd_config.d/rk.conf": cfg,
	})
	loose["etc/ssh/revoked_keys"] = fixtures.File("", 0o644)
	fs := run(t, loose, "clean.revoked-keys")
	wantSummary(t, fs, "INFO /etc/ssh/revoked_keys\n")
	if ev(fs[0], "mode") != "0644" {
		t.Errorf("%+v", fs[0].Evidence)
	}

	unset := sshdTree(map[string]string{"etc/ssh/sshd_config": "\n"})
	wantSummary(t, run(t, unset, "clean.revoked-keys"), "PASS /etc/ssh/sshd_config\n")
}

func TestSSHHostKeys(t *testing.T) {
	testKeys(t)
	hostPriv := string(opensshPEM(t, edPriv, ""))
	keys := fstest.MapFS{
		"etc/ssh/ssh_host_ed25519_key":     fixtures.File(hostPriv, 0o600),
		"etc/ssh/ssh_host_ed25519_key.pub": fixtures.File(keyEd.line+"\n", 0o644),
		"etc/ssh/ssh_host_rsa_key":         fixtures.File(string(rsaPEM(t)), 0o600),
	}
	fs := run(t, keys, "clean.ssh-host-keys")
	wantSummary(t, fs, "WARN /etc/ssh/ssh_host_ed25519_key\nWARN /etc/ssh/ssh_host_rsa_key\n")
	if ev(fs[0], "fingerprint") != ssh.FingerprintSHA256(keyEd.pub) || ev(fs[1], "fingerprint") != ssh.FingerprintSHA256(keyRSA.pub) {
		t.Errorf("fingerprints %+v / %+v", fs[0].Evidence, fs[1].Evidence)
	}
	noSecret(t, fs, strings.Split(hostPriv, "\n")[1])

	keys["etc/cloud/cloud.cfg"] = fixtures.File("users: [default]\nssh_deletekeys: true\n", 0o644)
	keys["etc/cloud/cloud.cfg.d/10-a.cfg"] = fixtures.File("ssh_deletekeys: false\n", 0o644)
	keys["etc/cloud/cloud.cfg.d/20-b.cfg"] = fixtures.File("ssh_deletekeys: no\n", 0o644)
	fs = run(t, keys, "clean.ssh-host-keys")
	wantSummary(t, fs, "FAIL /etc/ssh/ssh_host_ed25519_key\nFAIL /etc/ssh/ssh_host_rsa_key\n")
	if ev(fs[0], "source") != "/etc/cloud/cloud.cfg.d/20-b.cfg" {
		t.Errorf("source %+v", fs[0].Evidence)
	}

	keys["etc/cloud/cloud.cfg.d/90-c.cfg"] = fixtures.File("ssh_deletekeys: 1\n", 0o644)
	wantSummary(t, run(t, keys, "clean.ssh-host-keys"), "WARN /etc/ssh/ssh_host_ed25519_key\nWARN /etc/ssh/ssh_host_rsa_key\n")

	wantSummary(t, run(t, fstest.MapFS{"etc/ssh/ssh_config": fixtures.File("\n", 0o644)}, "clean.ssh-host-keys"), "PASS /etc/ssh\n")

	if got := keygenFingerprints(t, []byte(hostPriv)); got[0] != ssh.FingerprintSHA256(keyEd.pub) {
		t.Errorf("ssh-keygen -lf %v", got)
	}
}
