package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// A throwaway PEM RSA key made for this test with openssl genrsa
// -traditional 1024.
const leakyRSA = `-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQC5CzHYNcet/7MfwQSgsGaeGNixrSQ5vuO3FeDyyCx0yrSTDA7T
QJoI2U0tXpJ1j+f49z4ViRyh+BpVMcYIYvM7TOnAMicRNlNAdUH/uDRb/mT5NxsU
1+rFpzYrZl6VV0ItPtTtSFKCH6fknrsJxS/4AQxV8+5riefVFWmr249QkwIDAQAB
AoGAIYvHAIRXa9LkPUh3t03jfJvShPt3isRxcdqUik8ByDaLX/Eaqu+WPS5v0F7J
vGhXTIo+BhdySma5F2LLnO+bWoCSSCfpI3X1ZcPnk8Rxr94UfkN3fNo1NZCShuY4
bTJlVNOXTjkyXvU9QIJ50D5nfl7iazRWoTl9kbgjmVRxbjkCQQDtkOJ0Eqcaa9/q
Em7gQH9cae7lv+E4zEY0oFKPdJ1YPd8xmZ8aNpR9xhDrXS/yXu98JUfP9hAHZWpu
ClbrIuKHAkEAx2b8P7jEXgjd+96I2WLuEby4DVv4cEDItk48dO7DxSFS7EiPkIBg
h4aPKl0f0zXFOD4q+cNcehFEzU9P8HjIlQJAdb+BLmzsXEEpm5gFUqtFNSXgXgnL
9N3y0jTAlxACyPDpxmjRHin9UZWxXycyE5yQcOT9ggsBCNlwdhgz2pnQ0wJBAIJi
V8y+3z/xol1ALNGge7UDZoHtwmx8IAH89FEtkrtCx/sSkzVUjEnx9Yko7VdpEHVv
SSCZ2s1Cn290TfwarmUCQBin2gs8ULilOV4L+fVX7lGYmYTLSKuS+mlhVeJsM8nt
poh6jLee5eZok/YeevUUGWUJr2r/RuJRq+wWTjfjn4M=
-----END RSA PRIVATE KEY-----
`

// More secrets, in more places than leakyTree's.
const (
	leakyHash2      = "$6$c2FsdHNhbHQy$Jq8Vw3nH5kLm2Pz7xR4tY9bC1dF6gH0jK3lM8nQ2rS5tU7vW9xY1zA3bC5dE7fG9hJ1kL3mN5pQ7rS9tU1vW3"
	leakyToken2     = "dop_v1_0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	leakyQueryPw    = "QueryStr1ngPw"
	leakyUnitPw     = "Un1tF1lePassw0rd"
	leakyHistoryPw  = "H1storyMysqlPw"
	leakyUserDataPw = "Us3rDataChpasswd"
)

// moreNeedles are fragments of the secrets below that the redactor
// recognises: they must never be printed, not even by cat.
var moreNeedles = []string{
	"MIICXAIBAAKBgQC5CzHYNcet", "bTJlVNOXTjkyXvU9QIJ50D5nfl7iazRWoTl9kbgjmVRxbjkCQQDtkOJ0Eqcaa9",
	"c2FsdHNhbHQy$Jq8Vw3nH5kLm2Pz7",
	"0a1b2c3d4e5f60718293a4b5c6d7e8f9",
	leakyQueryPw, leakyUnitPw,
}

// freeFormNeedles are passwords in free text (mysql -p'...', a chpasswd
// list) that no pattern recognises: reports never carry them, but cat and
// --show-contents, which print file bodies on request, may.
var freeFormNeedles = []string{leakyHistoryPw, leakyUserDataPw}

// leakierTree is leakyTree with secrets in every other place a build
// leaves them: PEM keys, a legacy hash in /etc/passwd and in the shadow
// backup, tokens in shell history and doctl's config, database URLs in
// an .env file, a systemd unit and a query string, and cloud-init
// user-data.
func leakierTree() fstest.MapFS {
	t := leakyTree()
	t["root/.ssh/id_rsa"] = fixtures.File(leakyRSA, 0o600)
	t["etc/ssl/private"] = fixtures.Dir(0o700)
	t["etc/ssl/private/server.key"] = fixtures.File(leakyRSA, 0o600)
	t["etc/passwd"] = fixtures.File("root:x:0:0:root:/root:/bin/bash\ndeploy:"+leakyHash2+":1000:1000::/home/deploy:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644)
	t["etc/shadow-"] = fixtures.File("root:"+leakyHash2+":19000:0:99999:7:::\n", 0o600)
	t["home/deploy"] = &fstest.MapFile{Mode: fs.ModeDir | 0o755, Sys: fixtures.Meta{Uid: 1000, Gid: 1000}}
	t["home/deploy/.ssh"] = &fstest.MapFile{Mode: fs.ModeDir | 0o700, Sys: fixtures.Meta{Uid: 1000, Gid: 1000}}
	t["home/deploy/.ssh/id_rsa"] = fixtures.Owned(leakyRSA, 0o600, 1000, 1000)
	t["home/deploy/.bash_history"] = fixtures.Owned("export DIGITALOCEAN_TOKEN="+leakyToken2+"\nmysql -u root --password="+leakyHistoryPw+"\n", 0o600, 1000, 1000)
	t["root/.bash_history"] = fixtures.File("doctl auth init -t "+leakyToken2+"\nmysql -uroot -p'"+leakyHistoryPw+"'\n", 0o600)
	t["root/.config/doctl/config.yaml"] = fixtures.File("access-token: "+leakyToken2+"\ncontext: default\n", 0o600)
	t["var/www/app/.env"] = fixtures.File("APP_KEY=base64:x\nDATABASE_URL=postgres://db.example:5432/app?user=app&password="+leakyQueryPw+"\nDO_TOKEN="+leakyToken2+"\n", 0o640)
	t["etc/systemd/system/app.service"] = fixtures.File("[Service]\nEnvironment=DATABASE_URL=mysql://app:"+leakyUnitPw+"@localhost/app\nExecStart=/usr/bin/app\n", 0o644)
	t["var/lib/cloud/instances/i-1/user-data.txt"] = fixtures.File("#cloud-config\nchpasswd:\n  list: |\n    root:"+leakyUserDataPw+"\n", 0o600)
	t["var/lib/cloud/instance"] = fixtures.Symlink("/var/lib/cloud/instances/i-1")
	t["var/log/cloud-init-output.log"] = fixtures.File("root:"+leakyUserDataPw+"\nDO_TOKEN="+leakyToken2+"\n", 0o640)
	return t
}

// TestNoSecretsAnywhere extends TestNoSecrets: more kinds of secret in
// more places, and every output imgcheck has (each format and profile,
// with and without --show-contents, --stats, --output-dir files, info,
// ls, cat, diff, in process and through a child's stdout and stderr) is
// searched for them. imgcheck has no --verbose flag; --stats is its only
// extra stderr output.
func TestNoSecretsAnywhere(t *testing.T) {
	leaky := gptImage(t, leakierTree())
	clean := gptImage(t, cleanTree())
	qcow := fixtures.MustQCOW2(t, leaky, fixtures.QCOW2Options{Compress: true})
	root := t.TempDir()
	if err := fixtures.Materialize(root, leakierTree()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var outputs []string
	raw := map[int]bool{} // outputs that may print file bodies
	record := func(args []string, out, errs string) {
		a := strings.Join(args, " ")
		if args[0] == "cat" || strings.Contains(a, "--show-contents --format text") || strings.Contains(a, "--show-contents --root") ||
			strings.HasSuffix(a, ".txt") || a == "child scan" {
			raw[len(outputs)] = true
		}
		outputs = append(outputs, a+"\n"+out+"\n"+errs)
	}
	var runs [][]string
	for _, profile := range []string{"marketplace", "img_check"} {
		for _, show := range []string{"--show-contents=false", "--show-contents"} {
			for _, f := range []string{"text", "json", "sarif", "junit"} {
				runs = append(runs, []string{"scan", "--profile", profile, show, "--format", f, "--stats", "--color", "always", leaky})
			}
			runs = append(runs, []string{"scan", "--profile", profile, show, "--root", root})
		}
	}
	runs = append(runs,
		[]string{"scan", "--output-dir", dir, "--format", "text", "--format", "json=" + filepath.Join(dir, "all.json"), "--format", "sarif=" + filepath.Join(dir, "all.sarif"),
			"--format", "junit=" + filepath.Join(dir, "all.xml"), "--show-contents", leaky, qcow, clean},
		[]string{"scan", "--fail-on", "warn", "-j", "2", leaky, qcow},
		[]string{"info", leaky}, []string{"info", "--json", qcow},
		[]string{"ls", "-R", leaky, "/"}, []string{"ls", "--root", root, "/root"},
		[]string{"diff", clean, leaky}, []string{"diff", "--json", clean, qcow},
	)
	for name := range leakierTree() {
		if f := leakierTree()[name]; f.Mode&(fs.ModeDir|fs.ModeSymlink) == 0 {
			runs = append(runs, []string{"cat", leaky, "/" + name}, []string{"cat", "--root", root, "/" + name})
		}
	}
	for _, args := range runs {
		out, errs, _ := runCmd(t, args...)
		record(args, out, errs)
	}
	child := runChild(t, nil, "scan", "--show-contents", "--stats", "--profile", "img_check", leaky)
	record([]string{"child scan"}, child.stdout, child.stderr)
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) < 9 {
		t.Fatalf("--output-dir wrote %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		record([]string{f}, string(data), "")
	}
	needles := append(append([]string(nil), secretNeedles...), moreNeedles...)
	for i, o := range outputs {
		all := needles
		if !raw[i] {
			all = append(append([]string(nil), needles...), freeFormNeedles...)
		}
		for _, needle := range all {
			if strings.Contains(o, needle) {
				t.Errorf("secret %q printed by %s", needle, strings.SplitN(o, "\n", 2)[0])
			}
		}
	}
	// The secrets are there to be found: the scan must fail on them.
	out, _, code := runCmd(t, "scan", leaky)
	if code != 1 || !strings.Contains(out, "ssh.private-keys") {
		t.Errorf("the leaky image should FAIL on its keys (exit %d):\n%s", code, out)
	}
}
