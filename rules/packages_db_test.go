package rules_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// rpmPkg declares a tiny package for rpmSQLite.
type rpmPkg struct{ name, epoch, version, release string }

// rpmSQLite builds the packages with rpmbuild and records them with
// `rpm -i --justdb` in a new SQLite rpm database, whose bytes it returns.
// It skips when rpm is not installed, except under CI=true.
func rpmSQLite(t *testing.T, pkgs ...rpmPkg) []byte {
	t.Helper()
	for _, tool := range []string{"rpm", "rpmbuild"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI (apt-get install rpm): %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	db := filepath.Join(dir, "db")
	backend := "--define=_db_backend sqlite"
	run("rpm", "--dbpath", db, backend, "--initdb")
	for _, p := range pkgs {
		spec := filepath.Join(dir, p.name+".spec")
		epoch := ""
		if p.epoch != "" {
			epoch = "Epoch: " + p.epoch + "\n"
		}
		body := fmt.Sprintf("Name: %s\n%sVersion: %s\nRelease: %s\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%%description\ntest\n%%files\n", p.name, epoch, p.version, p.release)
		if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		run("rpmbuild", "-bb", "--quiet", "--define=_topdir "+filepath.Join(dir, "build"), spec)
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "build/RPMS/noarch/*.rpm"))
	if len(rpms) != len(pkgs) {
		t.Fatalf("built %d packages, want %d", len(rpms), len(pkgs))
	}
	run(append([]string{"rpm", "--dbpath", db, backend, "-i", "--justdb", "--nodeps", "--ignoreos", "--ignorearch"}, rpms...)...)
	b, err := os.ReadFile(filepath.Join(db, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rpmBDB converts an rpm SQLite database into a BerkeleyDB hash
// "Packages" file, as rpm before 4.16 kept it: key = header instance
// (little-endian uint32), value = header blob. It uses db_load from
// db5.3-util and skips when that is absent, except under CI=true.
func rpmBDB(t *testing.T, sqlite []byte) []byte {
	t.Helper()
	load, err := exec.LookPath("db5.3_load")
	if err != nil {
		if load, err = exec.LookPath("db_load"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("db_load is required under CI (apt-get install db5.3-util): %v", err)
			}
			t.Skipf("db_load not installed: %v", err)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "rpmdb.sqlite")
	if err := os.WriteFile(src, sqlite, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT hnum, blob FROM Packages")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	dump := "VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=512\nHEADER=END\n"
	for rows.Next() {
		var n uint32
		var blob []byte
		if err := rows.Scan(&n, &blob); err != nil {
			t.Fatal(err)
		}
		dump += " " + hex.EncodeToString(binary.LittleEndian.AppendUint32(nil, n)) + "\n " + hex.EncodeToString(blob) + "\n"
	}
	dump += "DATA=END\n"
	out := filepath.Join(dir, "Packages")
	cmd := exec.Command(load, out)
	cmd.Stdin = strings.NewReader(dump)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("db_load: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rpmNDB converts an rpm SQLite database into an NDB Packages.db (the
// SUSE format): a header, one page of slots, then one block per header
// blob. rpm on Debian cannot write NDB, so the layout is written here
// after rpm's lib/backend/ndb/rpmpkg.c.
func rpmNDB(t *testing.T, sqlite []byte) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	if err := os.WriteFile(src, sqlite, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT hnum, blob FROM Packages")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	le := binary.LittleEndian
	out := le.AppendUint32(nil, 'R'|'p'<<8|'m'<<16|'P'<<24)
	out = le.AppendUint32(out, 0) // version
	out = le.AppendUint32(out, 1) // generation
	out = le.AppendUint32(out, 1) // slot pages
	out = append(out, make([]byte, 16)...)
	slots := make([]byte, (256-2)*16)
	for i := 0; i < len(slots); i += 16 {
		le.PutUint32(slots[i:], 'S'|'l'<<8|'o'<<16|'t'<<24)
	}
	var blocks []byte
	i := 0
	for rows.Next() {
		var n uint32
		var blob []byte
		if err := rows.Scan(&n, &blob); err != nil {
			t.Fatal(err)
		}
		le.PutUint32(slots[i*16+4:], n)
		le.PutUint32(slots[i*16+8:], uint32((4096+len(blocks))/16))
		blk := le.AppendUint32(nil, 'B'|'l'<<8|'b'<<16|'S'<<24)
		blk = le.AppendUint32(blk, n)
		blk = le.AppendUint32(blk, 0) // checksum, not verified by readers here
		blk = le.AppendUint32(blk, uint32(len(blob)))
		blk = append(blk, blob...)
		blk = append(blk, make([]byte, (16-len(blk)%16)%16)...)
		blocks = append(blocks, blk...)
		i++
	}
	out = append(append(out, slots...), blocks...)
	return out
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const updateInfo = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="security@rockylinux.org" status="final" type="security" version="2">
    <id>RLSA-2024:0001</id>
    <issued date="2024-02-01 00:00:00"/>
    <updated date="2024-02-03 00:00:00"/>
    <pkglist><collection short="baseos">
      <package name="openssh-server" epoch="0" version="8.7p1" release="38.el9" arch="noarch"><filename>x.rpm</filename></package>
      <package name="cloud-init" epoch="0" version="23.4" release="1.el9" arch="noarch"><filename>y.rpm</filename></package>
    </collection></pkglist>
  </update>
  <update from="x" status="final" type="bugfix" version="2">
    <id>RLBA-2024:0002</id>
    <issued date="2024-03-01 00:00:00"/>
    <pkglist><collection short="baseos">
      <package name="bash" epoch="0" version="9" release="1" arch="noarch"/>
    </collection></pkglist>
  </update>
</updates>
`

func TestRPMSQLite(t *testing.T) {
	db := rpmSQLite(t,
		rpmPkg{"cloud-init", "", "23.4", "1.el9"},
		rpmPkg{"openssh-server", "", "8.7p1", "34.el9"},
		rpmPkg{"bash", "", "5.1.8", "6.el9"},
	)
	tree := rockyTree("usr/lib/sysimage/rpm/rpmdb.sqlite", &fstest.MapFile{Data: db, Mode: 0o644},
		"var/lib/rpm", fixtures.Symlink("../../usr/lib/sysimage/rpm"))
	g := testGuest(t, tree)
	f := expectOne(t, runRule(t, g, "cloudinit.installed", rules.Options{}), rules.Pass, "cloud-init is installed")
	if f.Get("version") != "23.4-1.el9" {
		t.Errorf("cloud-init version from the rpm database = %q", f.Get("version"))
	}
	expectOne(t, runRule(t, g, "cloudinit.version", rules.Options{}), rules.Pass, "cloud-init 23.4 is recent enough")

	// ssh.server uses sshd.service on the rpm family.
	if fs := runRule(t, g, "ssh.server", rules.Options{}); findingKeys(fs) != "warn:openssh-server" {
		t.Errorf("rpm ssh.server without an enabled unit: %+v", fs)
	}
	enabled := with(tree, "usr/sbin/sshd", exe, "etc/systemd/system/multi-user.target.wants/sshd.service", fixtures.Symlink("/usr/lib/systemd/system/sshd.service"))
	if fs := runRule(t, testGuest(t, enabled), "ssh.server", rules.Options{}); findingKeys(fs) != "pass:openssh-server" {
		t.Errorf("rpm ssh.server with sshd.service enabled: %+v", fs)
	}

	// Security updates: none without updateinfo (marketplace SKIP, parity PASS).
	if fs := runRule(t, g, "pkg.security-updates", rules.Options{}); fs[0].Level != rules.Skip || fs[0].SkipReason != rules.NotEvaluable {
		t.Errorf("rpm without updateinfo: %+v, want SKIP not-evaluable", fs)
	}
	if fs := runRule(t, g, "pkg.security-updates", rules.Options{Strict: true}); fs[0].Level != rules.Error {
		t.Errorf("--strict turns not-evaluable into ERROR, got %+v", fs)
	}
	p := expectOne(t, runRule(t, g, "pkg.security-updates", parity), rules.Pass, "There are no pending security updates for this image.")
	if !imgcheck.Counted(p) || !p.Approximate {
		t.Errorf("parity offline PASS must be counted and approximate: %+v", p)
	}

	// With --rpm-updateinfo: openssh-server 34 < 38 is pending; cloud-init is current.
	o := rules.Options{RPMUpdateInfo: []facts.NamedData{{Name: "updateinfo.xml.gz", Data: gz(t, updateInfo)}}}
	fs := runRule(t, g, "pkg.security-updates", o)
	if len(fs) != 1 || fs[0].Level != rules.Fail || fs[0].Get("package") != "openssh-server" || fs[0].Get("candidate") != "8.7p1-38.el9" {
		t.Fatalf("rpm with updateinfo: %+v", fs)
	}
	o.Profile = rules.ImgCheck
	expectOne(t, runRule(t, g, "pkg.security-updates", o), rules.Fail, "There are 1 security updates available for this image that have not been installed.")

	// The same advisories left in the dnf cache are found without the flag.
	cached := with(tree, "var/cache/dnf/baseos-1234/repodata/abc-updateinfo.xml.gz", &fstest.MapFile{Data: gz(t, updateInfo), Mode: 0o644})
	fs = runRule(t, testGuest(t, cached), "pkg.security-updates", rules.Options{})
	if len(fs) != 1 || fs[0].Level != rules.Fail || !strings.Contains(fs[0].Get("source"), "/var/cache/dnf/") {
		t.Fatalf("rpm with cached updateinfo: %+v", fs)
	}
}

// TestRPMBerkeleyDB reads the same packages from a BerkeleyDB Packages file.
func TestRPMBerkeleyDB(t *testing.T) {
	bdb := rpmBDB(t, rpmSQLite(t, rpmPkg{"cloud-init", "1", "19.4", "7.el8"}, rpmPkg{"openssh-server", "", "8.0p1", "10.el8"}))
	tree := with(fstest.MapFS{"etc/os-release": fixtures.File("NAME=\"CentOS Linux\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"8\"\n", 0o644)},
		"var/lib/rpm/Packages", &fstest.MapFile{Data: bdb, Mode: 0o644},
		"var/lib/rpm/__db.001", fixtures.File("env", 0o644))
	g := testGuest(t, tree)
	f := expectOne(t, runRule(t, g, "cloudinit.installed", rules.Options{}), rules.Pass, "cloud-init is installed")
	if f.Get("version") != "1:19.4-7.el8" {
		t.Errorf("cloud-init version from BerkeleyDB = %q", f.Get("version"))
	}
	fs := runRule(t, g, "pkg.security-updates", rules.Options{})
	if findingKeys(fs) != "info:/var/lib/rpm/Packages skip:" || fs[0].Get("backend") != "rpm-bdb" {
		t.Errorf("BerkeleyDB environment files and backend: %+v", fs)
	}

	// An overflow page that links to itself would make a reader loop
	// forever, growing memory: it must be an ERROR instead.
	looped := bytes.Clone(bdb)
	for pg := 1; pg*512 < len(looped); pg++ {
		if page := looped[pg*512 : (pg+1)*512]; page[25] == 7 {
			binary.LittleEndian.PutUint32(page[16:], uint32(pg))
			break
		}
	}
	tree["var/lib/rpm/Packages"] = &fstest.MapFile{Data: looped, Mode: 0o644}
	fs = runRule(t, testGuest(t, tree), "cloudinit.installed", rules.Options{})
	if len(fs) != 1 || fs[0].Level != rules.Error || !strings.Contains(fs[0].Message, "overflow chain") {
		t.Errorf("looped overflow chain: %+v, want ERROR", fs)
	}
}

// TestRPMNDB reads packages from an NDB Packages.db, and refuses a
// corrupt slot table.
func TestRPMNDB(t *testing.T) {
	ndb := rpmNDB(t, rpmSQLite(t, rpmPkg{"cloud-init", "", "23.3", "1"}, rpmPkg{"openssh-server", "", "9.3p1", "150500.1"}))
	tree := with(fstest.MapFS{"etc/os-release": fixtures.File("NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n", 0o644)},
		"var/lib/rpm/Packages.db", &fstest.MapFile{Data: ndb, Mode: 0o644})
	f := expectOne(t, runRule(t, testGuest(t, tree), "cloudinit.installed", rules.Options{}), rules.Pass, "cloud-init is installed")
	if f.Get("version") != "23.3-1" {
		t.Errorf("cloud-init version from NDB = %q", f.Get("version"))
	}
	bad := bytes.Clone(ndb)
	copy(bad[32+16*5:], "Xlot")
	tree["var/lib/rpm/Packages.db"] = &fstest.MapFile{Data: bad, Mode: 0o644}
	if fs := runRule(t, testGuest(t, tree), "ssh.server", rules.Options{}); len(fs) != 1 || fs[0].Level != rules.Error {
		t.Errorf("bad slot magic: %+v, want ERROR", fs)
	}
}

func TestRPMDatabaseFaults(t *testing.T) {
	cases := []struct {
		name string
		tree fstest.MapFS
	}{
		{"corrupt Packages", rockyTree("var/lib/rpm/Packages", fixtures.File(strings.Repeat("not a berkeley db ", 300), 0o644))},
		{"no database", rockyTree()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "ssh.server", rules.Options{})
			if len(fs) != 1 || fs[0].Level != rules.Error {
				t.Fatalf("got %+v, want ERROR", fs)
			}
		})
	}
}

func TestDpkgJournalAndReinstall(t *testing.T) {
	tree := ubuntuTree(stanza("cloud-init", "0.7.5-0ubuntu1", installed), stanza("broken", "1.0", "install reinstreq half-installed"))
	tree["var/lib/dpkg/updates/0002"] = fixtures.File(stanza("cloud-init", "24.1-0ubuntu1", installed), 0o644)
	tree["var/lib/dpkg/updates/0001"] = fixtures.File(stanza("cloud-init", "0.7.7-1", installed), 0o644)
	tree["var/lib/dpkg/updates/tmp.i"] = fixtures.File("garbage that is not read", 0o644)
	g := testGuest(t, tree)
	// The journal is applied in numeric order: 0002 wins.
	expectOne(t, runRule(t, g, "cloudinit.version", rules.Options{}), rules.Pass, "cloud-init 24.1 is recent enough")
	fs := runRule(t, g, "pkg.security-updates", rules.Options{})
	var journal, reinstall bool
	for _, f := range fs {
		journal = journal || f.Message == "dpkg journal not applied (interrupted dpkg run)"
		reinstall = reinstall || (f.Message == "package needs reinstall" && f.Subject == "broken")
	}
	if !journal || !reinstall {
		t.Errorf("want journal and reinstall INFO findings, got %+v", fs)
	}
}

func TestDpkgStatusMissingIsError(t *testing.T) {
	tree := ubuntuTree()
	delete(tree, "var/lib/dpkg/status")
	fs := runRule(t, testGuest(t, tree), "ssh.server", rules.Options{})
	if len(fs) != 1 || fs[0].Level != rules.Error {
		t.Fatalf("deb image without dpkg status: %+v, want ERROR", fs)
	}
}

// TestMissingVarMount: fstab puts /var on a filesystem that is not in the
// image. Rules that read below /var report ERROR; the others still decide.
func TestMissingVarMount(t *testing.T) {
	tree := with(ubuntuTree(stanza("openssh-server", "1:8.9p1-3", installed)), "usr/bin/cloud-init", exe)
	g := testGuest(t, tree)
	if err := g.Mount("/var", fsinspect.FaultBackend(&fsinspect.MountError{Point: "/var", Err: errors.New("no filesystem with UUID 1234")})); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]rules.Level{
		"pkg.security-updates": rules.Error,
		"ssh.server":           rules.Error,
		"cloudinit.installed":  rules.Pass, // the command decides; the database fault is evidence
		"os.supported":         rules.Pass,
	} {
		if fs := runRule(t, g, id, rules.Options{}); fs[0].Level != want {
			t.Errorf("%s: %+v, want %s", id, fs, want)
		}
	}
}

// Without /var/lib/dpkg/arch and without a dpkg package, the native
// architecture is the one most installed packages carry, so the apt
// indexes of that architecture are still used.
func TestNativeArchFromInstalledPackages(t *testing.T) {
	stanza := func(name, arch, state string) string {
		return "Package: " + name + "\nStatus: install ok " + state + "\nArchitecture: " + arch + "\nVersion: 1.0-1\n\n"
	}
	status := stanza("libc6", "arm64", "installed") + stanza("bash", "arm64", "installed") +
		stanza("tzdata", "all", "installed") + stanza("wine32", "i386", "installed") +
		stanza("gone", "amd64", "config-files") + stanza("gone2", "amd64", "config-files")
	g := testGuest(t, fstest.MapFS{"var/lib/dpkg/status": fixtures.File(status, 0o644)})
	db, err := facts.New(g, facts.Options{}).Packages()
	if err != nil {
		t.Fatal(err)
	}
	if db.NativeArch != "arm64" {
		t.Errorf("NativeArch = %q, want arm64", db.NativeArch)
	}
}
