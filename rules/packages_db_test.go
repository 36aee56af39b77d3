package rules_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

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
	db := fixtures.MustRPMDB(t,
		fixtures.RPMPackage{Name: "cloud-init", Version: "23.4", Release: "1.el9"},
		fixtures.RPMPackage{Name: "openssh-server", Version: "8.7p1", Release: "34.el9"},
		fixtures.RPMPackage{Name: "bash", Version: "5.1.8", Release: "6.el9"},
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
	bdb := fixtures.MustRPMBerkeleyDB(t, fixtures.RPMPackage{Name: "cloud-init", Epoch: "1", Version: "19.4", Release: "7.el8"}, fixtures.RPMPackage{Name: "openssh-server", Version: "8.0p1", Release: "10.el8"})
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
	ndb := fixtures.MustRPMNDB(t, fixtures.RPMPackage{Name: "cloud-init", Version: "23.3", Release: "1"}, fixtures.RPMPackage{Name: "openssh-server", Version: "9.3p1", Release: "150500.1"})
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
