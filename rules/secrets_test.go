package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		in, out string
		pw      bool
	}{
		{"postgresql://u:p@h:25060/db", "postgresql://u:****@h:25060/db", true},
		{"mysql://doadmin:Abc/d@ef@db.example:25060/defaultdb?ssl-mode=REQUIRED", "mysql://doadmin:****@db.example:25060/defaultdb?ssl-mode=REQUIRED", true},
		{"postgres://u@h/db", "postgres://u@h/db", false},
		{"postgres://u:@h/db", "postgres://u:****@h/db", false},
		{"postgres://h/db", "postgres://h/db", false},
		{"postgres://u:$DB_PASSWORD@h/db", "postgres://u:****@h/db", false},
		{"host=h password=secret", "(not a URL)", false},
	}
	for _, tt := range tests {
		out, pw := rules.RedactURL(tt.in)
		if out != tt.out || pw != tt.pw {
			t.Errorf("RedactURL(%q) = %q, %v; want %q, %v", tt.in, out, pw, tt.out, tt.pw)
		}
	}
}

func TestDatabaseURL(t *testing.T) {
	const secret = "Sup3rS3cret"
	tests := []struct {
		name  string
		extra fstest.MapFS
		want  string
		value string
	}{
		{"environment with password", fstest.MapFS{"etc/environment": fixtures.File(
			"PATH=\"/usr/bin\"\nDATABASE_URL=postgresql://u:"+secret+"@h:25060/db\n", 0o644)},
			"FAIL /etc/environment\n", "postgresql://u:****@h:25060/db"},
		{"without password", fstest.MapFS{"home/alice/.bashrc": fixtures.File("export DATABASE_URL=\"postgres://app@db.internal/app\"\n", 0o644)},
			"WARN /home/alice/.bashrc\n", "postgres://app@db.internal/app"},
		{"systemd unit and drop-in", fstest.MapFS{
			"etc/systemd/system/app.service":           fixtures.File("[Service]\n# DATABASE_URL=postgres://x:y@z/\nExecStart=/bin/app DATABASE_URL=a://b:c@d\n", 0o644),
			"etc/systemd/system/app.service.d/db.conf": fixtures.File("[Service]\nEnvironment=\"DATABASE_URL=mysql://root:"+secret+"@localhost/app\" \"X=1\"\n", 0o644),
		}, "FAIL /etc/systemd/system/app.service.d/db.conf\n", "mysql://root:****@localhost/app"},
		{"pam_environment", fstest.MapFS{"root/.pam_environment": fixtures.File("DATABASE_URL DEFAULT=redis://:"+secret+"@cache:6379\n", 0o644)},
			"FAIL /root/.pam_environment\n", "redis://:****@cache:6379"},
		{"absent", fstest.MapFS{"etc/environment": fixtures.File("PATH=/usr/bin\nMY_DATABASE_URLX=1\n", 0o644)},
			"PASS DATABASE_URL\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := run(t, sshTree(tt.extra), "secrets.database-url")
			wantSummary(t, fs, tt.want)
			if ev(fs[0], "value") != tt.value {
				t.Errorf("value %q, want %q", ev(fs[0], "value"), tt.value)
			}
			noSecret(t, fs, secret)
		})
	}
}

func TestSecretFiles(t *testing.T) {
	const dbPass = "AVNS_k1Xq9vL0"
	tree := sshTree(fstest.MapFS{
		"root/.digitalocean_dbaas_credentials": fixtures.File("db_protocol=postgresql\ndb_username=doadmin\ndb_password="+dbPass+"\ndb_host=db-1.example\n", 0o600),
		"root/.digitalocean_password": fixtures.File("root_mysql_pass=\""+dbPass+"\"\nadmin_pass: x\n"+
			"postgres://doadmin:"+dbPass+"@h\n"+dbPass+"\n", 0o600),
	})
	for id, names := range map[string]string{
		"secrets.dbaas-credentials": "db_protocol,db_username,db_password,db_host",
		"secrets.do-password":       "root_mysql_pass,admin_pass",
	} {
		fs := run(t, tree, id)
		if len(fs) != 1 || fs[0].Level != rules.Fail || ev(fs[0], "size") == "" || ev(fs[0], "mtime") == "" {
			t.Fatalf("%s: %+v", id, fs)
		}
		var got []string
		for _, kv := range fs[0].Evidence {
			if kv.Key == "name" {
				got = append(got, kv.Value)
			}
		}
		if joined := strings.Join(got, ","); joined != names {
			t.Errorf("%s: names %s, want %s", id, joined, names)
		}
		noSecret(t, fs, dbPass, "db-1.example", "doadmin")
	}
	clean := sshTree(nil)
	wantSummary(t, run(t, clean, "secrets.dbaas-credentials"), "PASS /root/.digitalocean_dbaas_credentials\n")
	wantSummary(t, run(t, clean, "secrets.do-password"), "PASS /root/.digitalocean_password\n")
}

func TestTLSPrivateKeys(t *testing.T) {
	testKeys(t)
	tree := fstest.MapFS{
		"etc/ssl/private/ssl-cert-snakeoil.key": fixtures.File(string(pkcs8PEM(t, rsaPriv)), 0o640),
		"etc/ssl/private/readme":                fixtures.File("nothing here\n", 0o644),
		"etc/pki/tls/private/localhost.key":     fixtures.File(string(ecPEM(t)), 0o600),
	}
	fs := run(t, tree, "secrets.tls-private-keys")
	wantSummary(t, fs, "INFO /etc/ssl/private/ssl-cert-snakeoil.key\nINFO /etc/pki/tls/private/localhost.key\n")
	if ev(fs[0], "fingerprint") == "" || ev(fs[1], "key_type") != "ecdsa-sha2-nistp256" {
		t.Errorf("%+v", fs)
	}
	wantSummary(t, run(t, fstest.MapFS{"etc/ssl/private": fixtures.Dir(0o710)}, "secrets.tls-private-keys"), "PASS /etc/ssl/private\n")
}

// TestNoSecretInAnyFinding plants a password hash, an OpenSSH and a PEM RSA
// private key and a DATABASE_URL password, runs every marketplace rule and
// checks that none of them reaches any finding.
func TestNoSecretInAnyFinding(t *testing.T) {
	testKeys(t)
	const dbSecret = "pa55-w0rd-db"
	openssh := string(opensshPEM(t, edPriv, ""))
	rsaKey := string(rsaPEM(t))
	tree := sshTree(fstest.MapFS{
		"etc/os-release":              fixtures.File("ID=ubuntu\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n", 0o644),
		"etc/shadow":                  shadow("root:"+sha512Hash+":1::::::", "alice:!"+sha512Hash+":1::::::"),
		"etc/shadow-":                 shadow("root:" + sha512Hash + ":1::::::"),
		"root/.ssh/id_ed25519":        fixtures.File(openssh, 0o600),
		"home/alice/.ssh/id_rsa":      fixtures.File(rsaKey, 0o600),
		"etc/ssh/ssh_host_rsa_key":    fixtures.File(rsaKey, 0o600),
		"etc/ssl/private/site.key":    fixtures.File(rsaKey, 0o600),
		"etc/environment":             fixtures.File("DATABASE_URL=postgresql://u:"+dbSecret+"@h:25060/db\n", 0o644),
		"root/.bash_history":          fixtures.File("mysql -u root --password="+dbSecret+"\n", 0o600),
		"root/.digitalocean_password": fixtures.File("root_mysql_pass=\""+dbSecret+"\"\n", 0o600),
	})
	sel, err := rules.Select(rules.Marketplace, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var all []rules.Finding
	for _, r := range rules.Run(t.Context(), testGuest(t, tree), sel, rules.Options{Profile: rules.Marketplace}, nil) {
		all = append(all, r.Findings...)
	}
	secrets := []string{sha512Hash, sha512Hash[3:20], dbSecret}
	for _, body := range []string{openssh, rsaKey} {
		for _, l := range strings.Split(body, "\n") {
			if len(l) > 16 && !strings.HasPrefix(l, "-----") {
				secrets = append(secrets, l)
			}
		}
	}
	noSecret(t, all, secrets...)
	// The planted items were found, so the test can fail.
	found := map[string]bool{}
	for _, f := range all {
		if f.Level == rules.Fail {
			found[f.Rule] = true
		}
	}
	for _, id := range []string{"accounts.password", "ssh.private-keys", "secrets.database-url", "history.shell", "secrets.do-password"} {
		if !found[id] {
			t.Errorf("%s did not FAIL on the planted secret", id)
		}
	}
}
