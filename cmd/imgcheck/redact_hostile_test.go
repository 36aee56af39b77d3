package main

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// Secrets in the forms the redactor used to miss: hash schemes other than
// the modular $id$ ones, a PGP private key, CIFS mount passwords.
const (
	desHash  = "abJnggxhB/yWI"
	bsdiHash = "_J9..rasmBYk8r9AiWNc"
	sunHash  = "$md5,rounds=5000$GUBv0xjJ$$mSwgIswdjlTY0YxV7HBVm0"
	cifsPw   = "C1fsPassw0rd"
	pgpBody  = "lQOYBGVzZWNyZXRrZXlib2R5"
)

// schemesTree is cleanTree with those secrets, and with root's id_rsa
// behind 100 KiB of blank lines (ssh-keygen still loads it).
func schemesTree() fstest.MapFS {
	t := cleanTree()
	t["etc/shadow"] = fixtures.File("root:"+desHash+":19000:0:99999:7:::\nbsd:"+bsdiHash+":19000::::::\nsun:"+sunHash+":19000::::::\nnobody:*:19000:0:99999:7:::\n", 0o640)
	t["etc/fstab"] = fixtures.File("LABEL=cloudimg-rootfs / ext4 defaults 0 1\n//nas/share /mnt/a cifs username=bob,password="+cifsPw+",uid=1000 0 0\n"+
		"//nas/share /mnt/b cifs user=bob,pass="+cifsPw+" 0 0\n//nas/share /mnt/c cifs username=bob%"+cifsPw+" 0 0\n//nas/share /mnt/d cifs credentials=/etc/smb.cred 0 0\n", 0o644)
	t["root/key.asc"] = fixtures.File("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"+pgpBody+"\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n", 0o600)
	t["root/.ssh"] = fixtures.Dir(0o700)
	t["root/.ssh/id_rsa"] = fixtures.File(strings.Repeat("\n", 100<<10)+leakyRSA, 0o600)
	return t
}

// capTree has root's id_rsa longer than the private-key search reaches:
// 4 KiB of text, then 80 MiB of holes.
func capTree() fstest.MapFS {
	t := cleanTree()
	t["root/.ssh"] = fixtures.Dir(0o700)
	t["root/.ssh/id_rsa"] = &fstest.MapFile{Data: []byte(strings.Repeat("# not a key\n", 400)), Mode: 0o600, Sys: fixtures.Meta{SparseSize: 80 << 20}}
	return t
}

// TestRedactEveryVerb: cat, info, info --json, ls, diff and every scan
// format mask the secrets of schemesTree, and the key behind blank lines
// is found.
func TestRedactEveryVerb(t *testing.T) {
	img := gptImage(t, schemesTree())
	clean := gptImage(t, cleanTree())
	needles := []string{desHash, bsdiHash, "GUBv0xjJ", cifsPw, pgpBody, "MIICXAIBAAKBgQC5CzHYNcet"}
	for _, args := range [][]string{
		{"cat", img, "/etc/shadow"}, {"cat", img, "/root/key.asc"}, {"cat", img, "/etc/fstab"}, {"cat", img, "/root/.ssh/id_rsa"},
		{"info", img}, {"info", "--json", img}, {"ls", "-R", img, "/"}, {"diff", clean, img}, {"diff", "--json", clean, img},
		{"scan", "-v", "--show-contents", img}, {"scan", "--format", "json", img}, {"scan", "--profile", "img_check", "--show-contents", img},
	} {
		out, errs, _ := runCmd(t, args...)
		for _, n := range needles {
			if strings.Contains(out+errs, n) {
				t.Errorf("imgcheck %s %s prints %q", args[0], args[len(args)-1], n)
			}
		}
	}
	out, _, _ := runCmd(t, "info", img)
	if !strings.Contains(out, "credentials=/etc/smb.cred") {
		t.Errorf("info hides a credentials file name, which is no secret:\n%s", out)
	}
}
