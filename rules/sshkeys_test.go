package rules_test

import (
	"bytes"
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"

	"github.com/imgcheck/imgcheck/rules/facts"
	"golang.org/x/crypto/ssh"
)

// testKey is a key pair generated at test time, with its encodings.
type testKey struct {
	signer ssh.Signer
	pub    ssh.PublicKey
	line   string // authorized_keys line with comment "test@build"
}

var (
	keysOnce sync.Once
	keyEd    testKey
	keyRSA   testKey
	keyEC    testKey
	rsaPriv  *rsa.PrivateKey
	ecPriv   *ecdsa.PrivateKey
	edPriv   ed25519.PrivateKey
)

// testKeys generates one ed25519, RSA and ECDSA key per test binary. It
// makes the test's cryptographic randomness deterministic, so that trees
// holding keys are the same on every run and fixture images stay cached.
func testKeys(t *testing.T) {
	t.Helper()
	cryptotest.SetGlobalRandom(t, 1)
	keysOnce.Do(func() {
		var err error
		_, edPriv, err = ed25519.GenerateKey(rand.Reader)
		must(t, err)
		rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048)
		must(t, err)
		ecPriv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(t, err)
		keyEd = newTestKey(t, edPriv)
		keyRSA = newTestKey(t, rsaPriv)
		keyEC = newTestKey(t, ecPriv)
	})
	if keyEd.signer == nil {
		t.Fatal("key generation failed")
	}
}

func newTestKey(t *testing.T, priv any) testKey {
	s, err := ssh.NewSignerFromKey(priv)
	must(t, err)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))) + " test@build"
	return testKey{signer: s, pub: s.PublicKey(), line: line}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pemBytes(t *testing.T, b *pem.Block, err error) []byte {
	t.Helper()
	must(t, err)
	return pem.EncodeToMemory(b)
}

// opensshPEM returns priv in OpenSSH format, encrypted when pass is set.
func opensshPEM(t *testing.T, priv any, pass string) []byte {
	t.Helper()
	if pass != "" {
		b, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "c", []byte(pass))
		return pemBytes(t, b, err)
	}
	b, err := ssh.MarshalPrivateKey(priv, "c")
	return pemBytes(t, b, err)
}

func rsaPEM(t *testing.T) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaPriv)})
}

func ecPEM(t *testing.T) []byte {
	der, err := x509.MarshalECPrivateKey(ecPriv)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func pkcs8PEM(t *testing.T, priv any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// dsaPEM returns a fresh DSA key in OpenSSL's "DSA PRIVATE KEY" encoding
// and the fingerprint of its RFC 4253 "ssh-dss" public key.
func dsaPEM(t *testing.T) ([]byte, string) {
	var k dsa.PrivateKey
	must(t, dsa.GenerateParameters(&k.Parameters, rand.Reader, dsa.L1024N160))
	must(t, dsa.GenerateKey(&k, rand.Reader))
	der, err := asn1.Marshal(struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}{0, k.P, k.Q, k.G, k.Y, k.X})
	must(t, err)
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", k.P, k.Q, k.G, k.Y})
	return pem.EncodeToMemory(&pem.Block{Type: "DSA PRIVATE KEY", Bytes: der}), facts.Fingerprint(blob)
}

// puttyFile builds a PuTTY v3 key file around pub; the private lines are
// filler, which detection never reads.
func puttyFile(pub ssh.PublicKey, encryption string) []byte {
	b64 := base64.StdEncoding.EncodeToString(pub.Marshal())
	var lines []string
	for len(b64) > 64 {
		lines = append(lines, b64[:64])
		b64 = b64[64:]
	}
	lines = append(lines, b64)
	return []byte("PuTTY-User-Key-File-3: " + pub.Type() + "\r\nEncryption: " + encryption +
		"\r\nComment: c\r\nPublic-Lines: " + itoa(len(lines)) + "\r\n" + strings.Join(lines, "\r\n") +
		"\r\nPrivate-Lines: 1\r\nAAAA\r\nPrivate-MAC: 00\r\n")
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// ssh2File builds an ssh.com private key with the given cipher name.
func ssh2File(cipher string) []byte {
	str := func(s string) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(s)))
		return append(b, s...)
	}
	body := append(str("if-modn{sign{rsa-pkcs1-sha1},encrypt{rsa-pkcs1v2-oaep}}"), str(cipher)...)
	body = append(body, str("secret")...)
	head := binary.BigEndian.AppendUint32(nil, 0x3f6ff9eb)
	head = binary.BigEndian.AppendUint32(head, uint32(8+len(body)))
	return []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key-20240101\"\n" +
		base64.StdEncoding.EncodeToString(append(head, body...)) + "\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n")
}

func TestParseAuthorizedKeys(t *testing.T) {
	testKeys(t)
	long := strings.Repeat("x", 100)
	data := strings.Join([]string{
		"# comment",
		"",
		keyEd.line,
		`command="echo hello world",no-pty ` + keyRSA.line,
		"   " + keyEC.line + "   ",
		"garbage here",
		"ssh-ed25519 !!!notbase64",
		"ssh-rsa " + strings.Fields(keyEd.line)[1], // type mismatch
		strings.Fields(keyEd.line)[0] + " " + strings.Fields(keyEd.line)[1] + " " + long,
	}, "\n")
	keys, bad := facts.ParseAuthorizedKeys([]byte(data))
	if len(keys) != 4 {
		t.Fatalf("got %d keys, want 4: %+v", len(keys), keys)
	}
	want := []struct {
		line    int
		typ     string
		fp      string
		options bool
	}{
		{3, "ssh-ed25519", ssh.FingerprintSHA256(keyEd.pub), false},
		{4, "ssh-rsa", ssh.FingerprintSHA256(keyRSA.pub), true},
		{5, "ecdsa-sha2-nistp256", ssh.FingerprintSHA256(keyEC.pub), false},
		{9, "ssh-ed25519", ssh.FingerprintSHA256(keyEd.pub), false},
	}
	for i, w := range want {
		k := keys[i]
		if k.Line != w.line || k.Type != w.typ || k.Fingerprint != w.fp || k.Options != w.options {
			t.Errorf("key %d = %+v, want %+v", i, k, w)
		}
	}
	if keys[0].Comment != "test@build" || len(keys[3].Comment) != 64 {
		t.Errorf("comments %q, %q", keys[0].Comment, keys[3].Comment)
	}
	if !equalInts(bad, []int{6, 7, 8}) {
		t.Errorf("bad lines %v, want [6 7 8]", bad)
	}
}

func TestParseAuthorizedKeysCert(t *testing.T) {
	testKeys(t)
	cert := &ssh.Certificate{Key: keyEd.pub, CertType: ssh.UserCert, KeyId: "id",
		ValidPrincipals: []string{"root"}, ValidBefore: ssh.CertTimeInfinity}
	must(t, cert.SignCert(rand.Reader, keyRSA.signer))
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
	keys, bad := facts.ParseAuthorizedKeys([]byte(`from="10.0.0.1,10.0.0.2",environment="A=b c" ` + line + "\n"))
	if len(keys) != 1 || len(bad) != 0 {
		t.Fatalf("keys %+v bad %v", keys, bad)
	}
	if keys[0].Type != "ssh-ed25519-cert-v01@openssh.com" || keys[0].Fingerprint != ssh.FingerprintSHA256(keyEd.pub) {
		t.Errorf("cert key %+v", keys[0])
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sshKeygen returns the path of ssh-keygen. Outside CI a missing tool skips.
func sshKeygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh-keygen is required under CI (apt-get install openssh-client)")
		}
		t.Skip("ssh-keygen not installed")
	}
	return p
}

// keygenFingerprints runs ssh-keygen -lf on data and returns the
// fingerprint column of its output.
func keygenFingerprints(t *testing.T, data []byte) []string {
	t.Helper()
	kg := sshKeygen(t)
	f := filepath.Join(t.TempDir(), "k")
	must(t, os.WriteFile(f, data, 0o600))
	out, err := exec.Command(kg, "-lf", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v: %s", err, out)
	}
	var fps []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			fps = append(fps, f[1])
		}
	}
	return fps
}

func TestFingerprintMatchesSSHKeygen(t *testing.T) {
	testKeys(t)
	data := []byte(keyEd.line + "\n" + keyRSA.line + "\n" + keyEC.line + "\n")
	keys, _ := facts.ParseAuthorizedKeys(data)
	got := keygenFingerprints(t, data)
	if len(got) != len(keys) {
		t.Fatalf("ssh-keygen printed %v for %d keys", got, len(keys))
	}
	for i, k := range keys {
		if k.Fingerprint != got[i] {
			t.Errorf("line %d: fingerprint %s, ssh-keygen %s", k.Line, k.Fingerprint, got[i])
		}
	}
}

func TestDetectPrivateKey(t *testing.T) {
	testKeys(t)
	dsaKey, dsaFP := dsaPEM(t)
	encRSA, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaPriv), []byte("pw"), x509.PEMCipherAES256) //nolint:staticcheck
	must(t, err)
	tests := []struct {
		name                 string
		data                 []byte
		format, enc, typ, fp string
	}{
		{"openssh ed25519", opensshPEM(t, edPriv, ""), "openssh", "no", "ssh-ed25519", ssh.FingerprintSHA256(keyEd.pub)},
		{"openssh encrypted", opensshPEM(t, edPriv, "secret"), "openssh", "yes", "ssh-ed25519", ssh.FingerprintSHA256(keyEd.pub)},
		{"openssh rsa", opensshPEM(t, rsaPriv, ""), "openssh", "no", "ssh-rsa", ssh.FingerprintSHA256(keyRSA.pub)},
		{"pem rsa", rsaPEM(t), "pem-rsa", "no", "ssh-rsa", ssh.FingerprintSHA256(keyRSA.pub)},
		{"pem rsa encrypted", pem.EncodeToMemory(encRSA), "pem-rsa", "yes", "", ""},
		{"pem ec", ecPEM(t), "pem-ec", "no", "ecdsa-sha2-nistp256", ssh.FingerprintSHA256(keyEC.pub)},
		{"pem dsa", dsaKey, "pem-dsa", "no", "ssh-dss", dsaFP},
		{"pkcs8 ed25519", pkcs8PEM(t, edPriv), "pkcs8", "no", "ssh-ed25519", ssh.FingerprintSHA256(keyEd.pub)},
		{"pkcs8 rsa", pkcs8PEM(t, rsaPriv), "pkcs8", "no", "ssh-rsa", ssh.FingerprintSHA256(keyRSA.pub)},
		{"pkcs8 encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), "pkcs8-encrypted", "yes", "", ""},
		{"putty", puttyFile(keyEd.pub, "none"), "putty", "no", "ssh-ed25519", ssh.FingerprintSHA256(keyEd.pub)},
		{"putty encrypted", puttyFile(keyRSA.pub, "aes256-cbc"), "putty", "yes", "ssh-rsa", ssh.FingerprintSHA256(keyRSA.pub)},
		{"ssh2", ssh2File("none"), "ssh2", "no", "", ""},
		{"ssh2 encrypted", ssh2File("3des-cbc"), "ssh2", "yes", "", ""},
		{"cert then key", append([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), rsaPEM(t)...), "pem-rsa", "no", "ssh-rsa", ssh.FingerprintSHA256(keyRSA.pub)},
		{"damaged rsa", []byte("-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----\n"), "pem-rsa", "unknown", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := facts.DetectPrivateKey(tt.data)
			if !ok {
				t.Fatal("not detected")
			}
			if k.Format != tt.format || k.Encrypted != tt.enc || k.Type != tt.typ || k.Fingerprint != tt.fp {
				t.Errorf("got %+v, want %s/%s/%s/%s", k, tt.format, tt.enc, tt.typ, tt.fp)
			}
		})
	}
}

func TestDetectPrivateKeyNegative(t *testing.T) {
	testKeys(t)
	for name, data := range map[string][]byte{
		"public key":  []byte(keyEd.line + "\n"),
		"certificate": []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		"empty":       nil,
		"marker late": append(bytes.Repeat([]byte("#\n"), (64<<10)/2+1), rsaPEM(t)...),
		"config":      []byte("Host *\n  IdentityFile ~/.ssh/id_rsa\n"),
	} {
		if k, ok := facts.DetectPrivateKey(data); ok {
			t.Errorf("%s: detected %+v", name, k)
		}
	}
}

func TestPrivateKeyFingerprintMatchesSSHKeygen(t *testing.T) {
	testKeys(t)
	dsaKey, _ := dsaPEM(t)
	for name, data := range map[string][]byte{
		"openssh": opensshPEM(t, edPriv, ""),
		"pem rsa": rsaPEM(t),
		"pem ec":  ecPEM(t),
		"pem dsa": dsaKey,
	} {
		k, _ := facts.DetectPrivateKey(data)
		if got := keygenFingerprints(t, data); len(got) != 1 || got[0] != k.Fingerprint {
			t.Errorf("%s: fingerprint %s, ssh-keygen %v", name, k.Fingerprint, got)
		}
	}
}

func FuzzParseAuthorizedKeys(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7x test\n"))
	f.Add([]byte(`command="a \"b\" c" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x`))
	f.Add([]byte("# only a comment\n\n\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, _ := facts.ParseAuthorizedKeys(data)
		for _, k := range keys {
			if !strings.HasPrefix(k.Fingerprint, "SHA256:") || len([]rune(k.Comment)) > 64 {
				t.Fatalf("bad key %+v", k)
			}
		}
	})
}

func FuzzDetectPrivateKey(f *testing.F) {
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Add([]byte("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAA\n"))
	f.Add([]byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAA==\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n"))
	f.Add([]byte("-----BEGIN DSA PRIVATE KEY-----\nMAA=\n-----END DSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, ok := facts.DetectPrivateKey(data)
		if ok && k.Fingerprint != "" && !strings.HasPrefix(k.Fingerprint, "SHA256:") {
			t.Fatalf("bad fingerprint %+v", k)
		}
	})
}
