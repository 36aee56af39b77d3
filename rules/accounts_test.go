package rules_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// A real-looking sha512crypt hash, planted to prove it is never printed.
const sha512Hash = "$6$Zq3xH1bN$Kk0lZ7uLq3sP0mYkq8dWmH2vXo1Qz5aN7bT9eR4cU6yI2oP8sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5p."

// run builds tree into an image and runs rule id on it in the marketplace profile.
func run(t *testing.T, tree fstest.MapFS, id string) []rules.Finding {
	t.Helper()
	fs := runRule(t, testGuest(t, tree), id, rules.Options{})
	if len(fs) == 0 {
		t.Fatalf("%s returned no finding", id)
	}
	return fs
}

// summary renders findings as "LEVEL subject" lines, in order.
func summary(fs []rules.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s\n", strings.ToUpper(f.Level.String()), f.Subject)
	}
	return b.String()
}

// wantSummary fails unless the findings summarise to want.
func wantSummary(t *testing.T, fs []rules.Finding, want string) {
	t.Helper()
	if got := summary(fs); got != want {
		t.Errorf("findings:\n%swant:\n%s\nfull: %+v", got, want, fs)
	}
}

// ev returns the evidence value of key in f.
func ev(f rules.Finding, key string) string { return f.Get(key) }

func passwd(lines ...string) *fstest.MapFile {
	return fixtures.File(strings.Join(lines, "\n")+"\n", 0o644)
}

func shadow(lines ...string) *fstest.MapFile {
	return fixtures.File(strings.Join(lines, "\n")+"\n", 0o640)
}

var basePasswd = []string{
	"root:x:0:0:root:/root:/bin/bash",
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
	"svc:x:998:998::/var/lib/svc:/usr/sbin/nologin",
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
}

func TestClassifyPassword(t *testing.T) {
	tests := []struct {
		field  string
		class  facts.PasswordClass
		scheme string
	}{
		{"", facts.EmptyPassword, ""},
		{sha512Hash, facts.UsableHash, "sha512crypt"},
		{"$y$j9T$abc$def", facts.UsableHash, "yescrypt"},
		{"$gy$j9T$abc$def", facts.UsableHash, "gost-yescrypt"},
		{"$2b$12$abcdefghijklmnopqrstuv", facts.UsableHash, "bcrypt"},
		{"$1$salt$hash", facts.UsableHash, "md5crypt"},
		{"$5$salt$hash", facts.UsableHash, "sha256crypt"},
		{"$md5,rounds=5000$salt$hash", facts.UsableHash, "sun-md5"},
		{"abJnggxhB/yWI", facts.UsableHash, "descrypt"},
		{"_J9..CCCCXBrJUJV154M", facts.UsableHash, "bsdicrypt"},
		{"!" + sha512Hash, facts.LockedHash, "sha512crypt"},
		{"!!" + sha512Hash, facts.LockedHash, "sha512crypt"},
		{"*" + sha512Hash, facts.LockedHash, "sha512crypt"},
		{"!", facts.NoPassword, ""},
		{"!!", facts.NoPassword, ""},
		{"*", facts.NoPassword, ""},
		{"!*", facts.NoPassword, ""},
		{"*LK*", facts.NoPassword, ""},
		{"x", facts.NoPassword, ""},
		{"NP", facts.NoPassword, ""},
		{"LOCKED", facts.NoPassword, ""},
		{"$6$", facts.NoPassword, ""},
		{"$9$salt$hash", facts.NoPassword, ""},
		{"abJnggxhB/yW!", facts.NoPassword, ""},
	}
	for _, tt := range tests {
		c, s := facts.ClassifyPassword(tt.field)
		if c != tt.class || s != tt.scheme {
			t.Errorf("ClassifyPassword(%q) = %v, %q; want %v, %q", tt.field, c, s, tt.class, tt.scheme)
		}
	}
}

func TestAccountsPassword(t *testing.T) {
	tests := []struct {
		name string
		tree fstest.MapFS
		want string
	}{
		{"sha512 root and svc", fstest.MapFS{
			"etc/passwd": passwd(basePasswd...),
			"etc/shadow": shadow("root:"+sha512Hash+":19000:0:99999:7:::", "daemon:*:19000::::::",
				"svc:$y$j9T$Ab1$Cd2:19000::::::", "nobody:*:19000::::::"),
		}, "FAIL root\nFAIL svc\n"},
		{"descrypt", fstest.MapFS{
			"etc/passwd": passwd(basePasswd...),
			"etc/shadow": shadow("root:abJnggxhB/yWI:19000::::::"),
		}, "FAIL root\n"},
		{"no passwords", fstest.MapFS{
			"etc/passwd": passwd(basePasswd...),
			"etc/shadow": shadow("root:*:1::::::", "daemon:!:1::::::", "svc:!!:1::::::", "nobody:!*:1::::::", "x:*LK*:1::::::"),
		}, "PASS /etc/shadow\n"},
		{"locked hash is not usable", fstest.MapFS{
			"etc/passwd": passwd(basePasswd...),
			"etc/shadow": shadow("root:!" + sha512Hash + ":1::::::"),
		}, "PASS /etc/shadow\n"},
		{"no shadow: passwd field", fstest.MapFS{
			"etc/passwd": passwd("root:"+sha512Hash+":0:0:root:/root:/bin/bash", "daemon:x:1:1::/:/bin/false"),
		}, "INFO /etc/shadow\nFAIL root\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := run(t, tt.tree, "accounts.password")
			wantSummary(t, fs, tt.want)
			noSecret(t, fs, sha512Hash, "Ab1$Cd2", "abJnggxhB/yWI")
		})
	}
}

func TestAccountsPasswordEvidence(t *testing.T) {
	fs := run(t, fstest.MapFS{
		"etc/passwd": passwd(basePasswd...),
		"etc/shadow": shadow("daemon:*:1::::::", "svc:"+sha512Hash+":1::::::"),
	}, "accounts.password")
	if len(fs) != 1 {
		t.Fatalf("%+v", fs)
	}
	f := fs[0]
	if ev(f, "user") != "svc" || ev(f, "uid") != "998" || ev(f, "scheme") != "sha512crypt" || ev(f, "line") != "2" {
		t.Errorf("evidence %+v", f.Evidence)
	}
}

func TestAccountsShadowUnreadable(t *testing.T) {
	// A shadow over the 1 MiB read cap is a fault: ERROR, never PASS.
	fs := run(t, fstest.MapFS{
		"etc/passwd": passwd(basePasswd...),
		"etc/shadow": shadow(strings.Repeat("#"+strings.Repeat("x", 1023)+"\n", 1100)),
	}, "accounts.password")
	wantSummary(t, fs, "ERROR /etc/shadow\n")
}

func TestAccountsLockedHashAndEmpty(t *testing.T) {
	tree := fstest.MapFS{
		"etc/passwd": passwd(append(basePasswd, "guest::1001:1001::/home/guest:/bin/bash", "ghost:x:1002:1002::/home/ghost:/bin/sh")...),
		"etc/shadow": shadow("root:!"+sha512Hash+":1::::::", "daemon::1::::::", "svc:*:1::::::", "ghost:*:1::::::"),
	}
	fs := run(t, tree, "accounts.locked-hash")
	wantSummary(t, fs, "WARN root\n")
	noSecret(t, fs, sha512Hash)
	// daemon has an empty shadow field; guest has an empty passwd field and no shadow line.
	wantSummary(t, run(t, tree, "accounts.empty-password"), "FAIL daemon\nFAIL guest\n")

	clean := fstest.MapFS{
		"etc/passwd": passwd(basePasswd...),
		"etc/shadow": shadow("root:*:1::::::", "daemon:*:1::::::"),
	}
	wantSummary(t, run(t, clean, "accounts.locked-hash"), "PASS /etc/shadow\n")
	wantSummary(t, run(t, clean, "accounts.empty-password"), "PASS /etc/shadow\n")
}

func TestAccountsUID0AndUsers(t *testing.T) {
	tree := fstest.MapFS{
		"etc/passwd": passwd(append(basePasswd, "toor:x:0:0::/root:/bin/sh", "alice:x:1000:1000::/home/alice:/bin/bash",
			"nfsnobody:x:65534:65534::/:/sbin/nologin")...),
		"etc/login.defs": fixtures.File("# defaults\nUID_MIN\t\t\t 1000\nUID_MAX 60000\n", 0o644),
	}
	wantSummary(t, run(t, tree, "accounts.uid0"), "FAIL toor\n")
	users := run(t, tree, "accounts.users")
	wantSummary(t, users, "INFO alice\n")
	if ev(users[0], "shell") != "/bin/bash" || ev(users[0], "home") != "/home/alice" {
		t.Errorf("evidence %+v", users[0].Evidence)
	}

	// UID_MIN 500 makes svc (998) a user.
	tree["etc/login.defs"] = fixtures.File("UID_MIN 500\n", 0o644)
	wantSummary(t, run(t, tree, "accounts.users"), "INFO svc\nINFO alice\n")

	clean := fstest.MapFS{"etc/passwd": passwd(basePasswd...)}
	wantSummary(t, run(t, clean, "accounts.uid0"), "PASS /etc/passwd\n")
	wantSummary(t, run(t, clean, "accounts.users"), "PASS /etc/passwd\n")
}

func TestAccountsShadowBackup(t *testing.T) {
	fs := run(t, fstest.MapFS{
		"etc/shadow-": shadow("root:"+sha512Hash+":1::::::", "daemon:*:1::::::"),
		"etc/passwd-": passwd(basePasswd...),
	}, "accounts.shadow-backup")
	wantSummary(t, fs, "WARN /etc/shadow-\n")
	noSecret(t, fs, sha512Hash)

	wantSummary(t, run(t, fstest.MapFS{
		"etc/shadow-": shadow("root:*:1::::::", "daemon:!:1::::::"),
	}, "accounts.shadow-backup"), "PASS /etc/shadow-\n")
}
