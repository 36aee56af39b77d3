package rules_test

import (
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/crypto/ssh"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
)

// sshTree is a base guest: root, alice in /home, app with its home in /srv.
func sshTree(extra fstest.MapFS) fstest.MapFS {
	tree := fstest.MapFS{
		"etc/passwd": passwd(append(basePasswd,
			"alice:x:1000:1000::/home/alice:/bin/bash",
			"app:x:999:999::/srv/app:/bin/sh")...),
		"root":       fixtures.Dir(0o700),
		"home/alice": &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 1000, Gid: 1000}},
		"srv/app":    fixtures.Dir(0o755),
	}
	for k, v := range extra {
		tree[k] = v
	}
	return tree
}

func TestAuthorizedKeys(t *testing.T) {
	testKeys(t)
	tests := []struct {
		name  string
		extra fstest.MapFS
		want  string
	}{
		{"root key", fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File(keyEd.line+"\n", 0o600)},
			"FAIL /root/.ssh/authorized_keys\n"},
		{"home outside /home", fstest.MapFS{"srv/app/.ssh/authorized_keys": fixtures.File(keyRSA.line+"\n", 0o600)},
			"FAIL /srv/app/.ssh/authorized_keys\n"},
		{"authorized_keys2", fstest.MapFS{"home/alice/.ssh/authorized_keys2": fixtures.File(keyEC.line+"\n", 0o600)},
			"FAIL /home/alice/.ssh/authorized_keys2\n"},
		{"AuthorizedKeysFile", fstest.MapFS{
			"usr/sbin/sshd":          fixtures.File("", 0o755),
			"etc/ssh/sshd_config":    fixtures.File("AuthorizedKeysFile /etc/ssh/keys/%u\n", 0o644),
			"etc/ssh/keys/alice":     fixtures.File(keyEd.line+"\n", 0o644),
			"etc/ssh/keys/unrelated": fixtures.File(keyEd.line+"\n", 0o644),
		}, "FAIL /etc/ssh/keys/alice\n"},
		{"orphan home", fstest.MapFS{
			"home/bob":                      &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 1234}},
			"home/bob/.ssh/authorized_keys": fixtures.File(keyEd.line+"\n", 0o600),
		}, "FAIL /home/bob/.ssh/authorized_keys\n"},
		{"options with quoted spaces", fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File(
			`no-port-forwarding,command="echo 'Please login as the user \"ubuntu\" rather than root';sleep 10" `+keyRSA.line+"\n", 0o600)},
			"FAIL /root/.ssh/authorized_keys\n"},
		{"garbage", fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File("this is not a key at all\n", 0o600)},
			"WARN /root/.ssh/authorized_keys\n"},
		{"empty", fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File("", 0o600)}, "PASS authorized_keys\n"},
		{"comment only, 120 bytes", fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File("# "+strings.Repeat("c", 117)+"\n", 0o600)},
			"PASS authorized_keys\n"},
		{"no .ssh", nil, "PASS authorized_keys\n"},
		{"linked twice", fstest.MapFS{
			"root/.ssh/authorized_keys":  fixtures.File(keyEd.line+"\n", 0o600),
			"root/.ssh/authorized_keys2": fixtures.Symlink("authorized_keys"),
		}, "FAIL /root/.ssh/authorized_keys\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantSummary(t, run(t, sshTree(tt.extra), "ssh.authorized-keys"), tt.want)
		})
	}
}

func TestOrphanHomeOwner(t *testing.T) {
	testKeys(t)
	fs := run(t, sshTree(fstest.MapFS{
		"home/bob":                      &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 1234}},
		"home/bob/.ssh/authorized_keys": fixtures.File(keyEd.line+"\n", 0o600),
		"home/old":                      &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 999}},
		"home/old/.ssh/authorized_keys": fixtures.File(keyEd.line+"\n", 0o600),
	}), "ssh.authorized-keys")
	wantSummary(t, fs, "FAIL /home/bob/.ssh/authorized_keys\nFAIL /home/old/.ssh/authorized_keys\n")
	if ev(fs[0], "user") != "(unowned)" || ev(fs[1], "user") != "app" {
		t.Errorf("owners %q, %q; want (unowned), app", ev(fs[0], "user"), ev(fs[1], "user"))
	}
}

func TestAuthorizedKeysEvidence(t *testing.T) {
	testKeys(t)
	cert := &ssh.Certificate{Key: keyEd.pub, CertType: ssh.UserCert, ValidPrincipals: []string{"root"}, ValidBefore: ssh.CertTimeInfinity}
	must(t, cert.SignCert(rand.Reader, keyRSA.signer))
	certLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert))) + " cert@ci"
	data := "# keys\n" + keyEd.line + "\n" + certLine + "\n"
	fs := run(t, sshTree(fstest.MapFS{"root/.ssh/authorized_keys": fixtures.File(data, 0o600)}), "ssh.authorized-keys")
	wantSummary(t, fs, "FAIL /root/.ssh/authorized_keys\n")
	f := fs[0]
	if ev(f, "count") != "2" || ev(f, "user") != "root" || !strings.HasPrefix(f.Fix, "delete /root/.ssh/authorized_keys") {
		t.Errorf("finding %+v", f)
	}
	var fps, types []string
	for _, kv := range f.Evidence {
		switch kv.Key {
		case "fingerprint":
			fps = append(fps, kv.Value)
		case "key_type":
			types = append(types, kv.Value)
		}
	}
	if types[1] != "ssh-ed25519-cert-v01@openssh.com" {
		t.Errorf("key types %v", types)
	}
	noSecret(t, fs, strings.Fields(keyEd.line)[1])
	if want := keygenFingerprints(t, []byte(data)); strings.Join(fps, " ") != strings.Join(want, " ") {
		t.Errorf("fingerprints %v, ssh-keygen -lf %v", fps, want)
	}
}

func TestPrivateKeys(t *testing.T) {
	testKeys(t)
	dsaKey, _ := dsaPEM(t)
	encPKCS8 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}})
	tests := []struct {
		name  string
		extra fstest.MapFS
		want  string
	}{
		{"openssh ed25519", fstest.MapFS{"root/.ssh/id_ed25519": fixtures.File(string(opensshPEM(t, edPriv, "")), 0o600)},
			"FAIL /root/.ssh/id_ed25519\n"},
		{"pem rsa in home top level", fstest.MapFS{"home/alice/deploy.pem": fixtures.File(string(rsaPEM(t)), 0o600)},
			"FAIL /home/alice/deploy.pem\n"},
		{"ec in subdirectory", fstest.MapFS{"srv/app/.ssh/keys/old/ec.key": fixtures.File(string(ecPEM(t)), 0o600)},
			"FAIL /srv/app/.ssh/keys/old/ec.key\n"},
		{"dsa", fstest.MapFS{"root/.ssh/id_dsa": fixtures.File(string(dsaKey), 0o600)}, "FAIL /root/.ssh/id_dsa\n"},
		{"pkcs8", fstest.MapFS{"root/.ssh/.hidden": fixtures.File(string(pkcs8PEM(t, edPriv)), 0o600)}, "FAIL /root/.ssh/.hidden\n"},
		{"encrypted pkcs8", fstest.MapFS{"root/key.p8": fixtures.File(string(encPKCS8), 0o600)}, "FAIL /root/key.p8\n"},
		{"putty", fstest.MapFS{"home/alice/.ssh/work.ppk": fixtures.File(string(puttyFile(keyEd.pub, "none")), 0o600)},
			"FAIL /home/alice/.ssh/work.ppk\n"},
		{"public keys and certificates", fstest.MapFS{
			"root/.ssh/id_ed25519.pub": fixtures.File(keyEd.line+"\n", 0o644),
			"root/cert.pem":            fixtures.File("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0o644),
			"root/.ssh/config":         fixtures.File("Host *\n", 0o644),
		}, "PASS private keys\n"},
		{"empty id_ecdsa", fstest.MapFS{"root/.ssh/id_ecdsa": fixtures.File("", 0o600), "root/.ssh/id_ecdsa.pub": fixtures.File("", 0o644)},
			"WARN /root/.ssh/id_ecdsa\n"},
		{"no homes with keys", nil, "PASS private keys\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantSummary(t, run(t, sshTree(tt.extra), "ssh.private-keys"), tt.want)
		})
	}
}

func TestPrivateKeyEvidence(t *testing.T) {
	testKeys(t)
	openssh := opensshPEM(t, edPriv, "hunter2")
	rsaKey := rsaPEM(t)
	fs := run(t, sshTree(fstest.MapFS{
		"root/.ssh/id_ed25519": fixtures.File(string(openssh), 0o600),
		"root/.ssh/id_rsa":     fixtures.File(string(rsaKey), 0o600),
		"root/.ssh/ssh2":       fixtures.File(string(ssh2File("none")), 0o600),
	}), "ssh.private-keys")
	wantSummary(t, fs, "FAIL /root/.ssh/id_ed25519\nFAIL /root/.ssh/id_rsa\nFAIL /root/.ssh/ssh2\n")
	if f := fs[0]; ev(f, "encrypted") != "yes" || ev(f, "fingerprint") != ssh.FingerprintSHA256(keyEd.pub) || ev(f, "format") != "openssh" {
		t.Errorf("encrypted openssh key: %+v", f.Evidence)
	}
	if f := fs[1]; ev(f, "encrypted") != "no" || ev(f, "fingerprint") != ssh.FingerprintSHA256(keyRSA.pub) || ev(f, "key_type") != "ssh-rsa" {
		t.Errorf("pem rsa key: %+v", f.Evidence)
	}
	if f := fs[2]; !strings.HasPrefix(ev(f, "digest"), "sha256:") || ev(f, "fingerprint") != "" {
		t.Errorf("ssh2 key: %+v", f.Evidence)
	}
	// No line of any key body may appear in a finding.
	var body []string
	for _, k := range [][]byte{openssh, rsaKey} {
		for _, l := range strings.Split(string(k), "\n") {
			if len(l) > 20 && !strings.HasPrefix(l, "-----") {
				body = append(body, l)
			}
		}
	}
	noSecret(t, fs, body...)
}

func TestKnownHostsAndDirOther(t *testing.T) {
	testKeys(t)
	tree := sshTree(fstest.MapFS{
		"root/.ssh/known_hosts":        fixtures.File("|1|abc=|def= ssh-ed25519 AAAA\n", 0o644),
		"home/alice/.ssh/known_hosts":  fixtures.File("", 0o644),
		"home/alice/.ssh/config":       fixtures.File("Host *\n", 0o644),
		"home/alice/.ssh/id_rsa.pub":   fixtures.File(keyRSA.line+"\n", 0o644),
		"home/alice/.ssh/sockets":      fixtures.Dir(0o700),
		"home/alice/.ssh/known_hosts2": fixtures.File("# nothing\n", 0o644),
	})
	kh := run(t, tree, "ssh.known-hosts")
	wantSummary(t, kh, "WARN /root/.ssh/known_hosts\n")
	if ev(kh[0], "count") != "1" || ev(kh[0], "hashed") != "yes" {
		t.Errorf("known_hosts evidence %+v", kh[0].Evidence)
	}
	wantSummary(t, run(t, tree, "ssh.dir-other"),
		"INFO /home/alice/.ssh/config\nINFO /home/alice/.ssh/id_rsa.pub\nINFO /home/alice/.ssh/sockets\n")
	clean := sshTree(fstest.MapFS{"home/alice/.ssh/known_hosts": fixtures.File("", 0o644)})
	wantSummary(t, run(t, clean, "ssh.known-hosts"), "PASS known_hosts\n")
	wantSummary(t, run(t, clean, "ssh.dir-other"), "PASS .ssh\n")
}

// TestHomeFault: an unreadable /home (a corrupt filesystem mounted there)
// gives ERROR for /home in every home rule, never PASS, while /root is
// still checked and rules that do not read homes are unaffected.
func TestHomeFault(t *testing.T) {
	testKeys(t)
	g := testGuest(t, sshTree(fstest.MapFS{
		"root/.ssh/authorized_keys": fixtures.File(keyEd.line+"\n", 0o600),
		"etc/shadow":                shadow("root:*:1::::::"),
	}))
	if err := g.Mount("home", fsinspect.FaultBackend(errors.New("ext4: corrupt inode 12"))); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"ssh.authorized-keys": "ERROR /home/alice\nERROR /home\nFAIL /root/.ssh/authorized_keys\n",
		"ssh.private-keys":    "ERROR /home/alice\nERROR /home\n",
		"ssh.known-hosts":     "ERROR /home/alice\nERROR /home\n",
		"ssh.dir-other":       "ERROR /home/alice\nERROR /home\n",
		"history.shell":       "ERROR /home/alice\nERROR /home\nPASS homes\n",
		"accounts.password":   "PASS /etc/shadow\n",
	} {
		wantSummary(t, runRule(t, g, id, rules.Options{}), want)
	}
}

// TestPrivateKeysSkipHostKeys: with root's .ssh a link to the guest's /etc
// (G20), host keys under /etc/ssh stay with clean.ssh-host-keys.
func TestPrivateKeysSkipHostKeys(t *testing.T) {
	testKeys(t)
	fs := run(t, sshTree(fstest.MapFS{
		"root/.ssh":                fixtures.Symlink("/etc"),
		"etc/ssh/ssh_host_rsa_key": fixtures.File(string(rsaPEM(t)), 0o600),
		"etc/app/key.pem":          fixtures.File(string(ecPEM(t)), 0o600),
	}), "ssh.private-keys")
	wantSummary(t, fs, "FAIL /root/.ssh/app/key.pem\n")
}
