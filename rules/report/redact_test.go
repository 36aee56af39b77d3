package report

import (
	"strings"
	"testing"
)

// TestRedactSchemes: every hash scheme the scan recognises, every
// private-key armour and the mount options that carry a password are
// masked; what is not a secret is left as it is.
func TestRedactSchemes(t *testing.T) {
	for in, leak := range map[string]string{
		"root:abJnggxhB/yWI:19000:0:99999:7:::\n":                                                              "abJnggxhB/yWI",
		"daemon:!abJnggxhB/yWI:19000::::::\n":                                                                  "abJnggxhB/yWI",
		"bsd:_J9..rasmBYk8r9AiWNc:19000::::::\n":                                                               "J9..rasmBYk8r9AiWNc",
		"sun:$md5,rounds=5000$GUBv0xjJ$$mSwgIswdjlTY0YxV7HBVm0:19000::::::\n":                                  "GUBv0xjJ",
		"sun2:$md5$3UqYqndY$$6P.aaWOoucxxq.l00SS9k0:19000::::::\n":                                             "3UqYqndY",
		"sha1:$sha1$40000$jtNX3nZ2$hBNaIXkt4wBI2o5rsi8KejSjNqIq:1::::::\n":                                     "jtNX3nZ2",
		"gy:$gy$j9T$r9pM6HXVxQ2Z0zbhhgJ21/$Tgv8Drje9yLdL5/Vz0Qq0Px2w0:1::::::\n":                               "r9pM6HXVxQ2Z0zbhhgJ21",
		"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGVzZWNyZXQ=\n-----END PGP PRIVATE KEY BLOCK-----\n":     "lQOYBGVzZWNyZXQ",
		"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4=\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n": "P2/56wAAAi4",
		"//nas/share /mnt cifs username=bob,password=S3cretCifs,uid=1000 0 0\n":                                "S3cretCifs",
		"//nas/share /mnt cifs user=bob,pass=S3cretCifs 0 0\n":                                                 "S3cretCifs",
		"//nas/share /mnt cifs username=bob%S3cretCifs,vers=3.0 0 0\n":                                         "S3cretCifs",
		"//nas/share /mnt cifs password2=S3cretCifs 0 0\n":                                                     "S3cretCifs",
	} {
		if out := Redact(in); strings.Contains(out, leak) {
			t.Errorf("Redact(%q) = %q leaks %q", in, out, leak)
		}
	}
	for _, keep := range []string{
		"//nas/share /mnt cifs credentials=/etc/smb-creds,uid=1000 0 0\n",
		"root:x:0:0:root:/root:/bin/bash\n", "nobody:*:19000:0:99999:7:::\n",
		"Package: openssh-server\nVersion: 1:8.9p1-3ubuntu0.10\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	} {
		if out := Redact(keep); out != keep {
			t.Errorf("Redact(%q) = %q, want it unchanged", keep, out)
		}
	}
}

// TestRedactStream: line by line, the stream masks what Redact masks in
// the whole text, private-key blocks over many lines included, and keeps
// everything else byte for byte.
func TestRedactStream(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJDREVGR0g=\n-----END OPENSSH PRIVATE KEY-----\n"
	for _, in := range []string{
		"plain\ntext\n", "no newline at the end", "root:abJnggxhB/yWI:19000:0:99999:7:::\n",
		"before\n" + key + "after\n", strings.Repeat("\n", 1000) + key,
		"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nQUJDREVG\n",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEdangling\n", "x\x00y\xff\n",
		strings.Repeat("a", 3<<20) + " password=Secret1 " + strings.Repeat("b", 2<<20) + "\n",
	} {
		var b strings.Builder
		if err := RedactStream(&b, strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"abJnggxhB", "b3BlbnNzaC1rZXkt", "QUJDREVG", "MIIEdangling", "Secret1"} {
			if strings.Contains(b.String(), leak) {
				t.Errorf("RedactStream(%.40q...) leaks %q", in, leak)
			}
		}
		if want := Redact(in); !strings.Contains(in, "PRIVATE KEY") && !strings.Contains(in, "PuTTY") && b.String() != want {
			t.Errorf("RedactStream(%.40q...) = %.80q, want %.80q", in, b.String(), want)
		}
	}
}
