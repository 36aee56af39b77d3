package facts_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules/facts"
)

func TestSSHDFact(t *testing.T) {
	tree := sshdTree(map[string]string{
		"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n" +
			"AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u\n" +
			"Match User deploy\n  AuthorizedKeysFile none\n  PasswordAuthentication no\n" +
			"Match Address 10.0.0.0/8\n  PasswordAuthentication yes\n" +
			"Match all\n  Banner /etc/issue.net\n",
		"etc/ssh/sshd_config.d/a.conf": "PasswordAuthentication = no\n",
	})
	cfg, err := facts.New(testGuest(t, tree), facts.Options{}).SSHD()
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Global("AuthorizedKeysFile"); s.Value() != ".ssh/authorized_keys /etc/ssh/keys/%u" || s.Source != "/etc/ssh/sshd_config:2" {
		t.Errorf("global AuthorizedKeysFile %+v", s)
	}
	if s := cfg.ForUser("AuthorizedKeysFile", "deploy"); s.Value() != "none" || s.Match != "User deploy" {
		t.Errorf("deploy AuthorizedKeysFile %+v", s)
	}
	if s := cfg.ForUser("Banner", "anyone"); s.Value() != "/etc/issue.net" {
		t.Errorf("Match all Banner %+v", s)
	}
	if s := cfg.Global("PasswordAuthentication"); s.Value() != "no" || s.Source != "/etc/ssh/sshd_config.d/a.conf:1" {
		t.Errorf("PasswordAuthentication %+v", s)
	}
	if c := cfg.Conditional("PasswordAuthentication"); len(c) != 1 || c[0].Match != "Address 10.0.0.0/8" || c[0].Source != "/etc/ssh/sshd_config:7" {
		t.Errorf("conditional %+v", c)
	}
	if s := cfg.Global("RevokedKeys"); s.Set() || s.Value() != "none" {
		t.Errorf("default RevokedKeys %+v", s)
	}
}

func TestSSHDQuoting(t *testing.T) {
	tree := sshdTree(map[string]string{
		"etc/ssh/sshd_config": "AuthorizedKeysFile '/etc/ssh/my keys/%u' .ssh/a\\ b \"x\\\"y\" # comment\n",
	})
	cfg, err := facts.New(testGuest(t, tree), facts.Options{}).SSHD()
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Global("AuthorizedKeysFile").Args
	if len(got) != 3 || got[0] != "/etc/ssh/my keys/%u" || got[1] != ".ssh/a b" || got[2] != `x"y` {
		t.Errorf("args %q", got)
	}
}

// sshdTree is an image with sshd installed and the given config files.
func sshdTree(files map[string]string) fstest.MapFS {
	tree := fstest.MapFS{"usr/sbin/sshd": fixtures.File("", 0o755)}
	for name, body := range files {
		tree[name] = fixtures.File(body, 0o644)
	}
	return tree
}
