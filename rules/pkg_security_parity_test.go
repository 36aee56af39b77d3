package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

// g16 is parity golden G16: Debian 12 with a file: source whose Release says
// Debian-Security / stable-security, offering newer versions of the
// installed A, B (which needs python3:any) and C (which needs a package
// that is not installed).
func g16(t *testing.T, label, suite string, configured bool) fstest.MapFS {
	status := strings.Join([]string{
		stanza("dpkg", "1.21.22", installed),
		stanza("python3", "3.11.2-1+b1", installed),
		stanza("pkg-a", "1.0-1", installed),
		stanza("pkg-b", "2.0-1", installed),
		stanza("pkg-c", "3.0-1", installed),
	}, "\n")
	idx := pkgIndex(
		entry("pkg-a", "1.0-2"),
		entry("pkg-b", "2.0-2", "Depends: python3:any (>= 3.11~), pkg-a (>= 1.0)"),
		entry("pkg-c", "3.0-2", "Depends: libmissing1 | libmissing2"),
		entry("unrelated", "9.9"),
	)
	prefix := listsDir + "_var_local_repo_dists_stable-security_"
	tree := fstest.MapFS{
		"etc/os-release":                         fixtures.File("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nVERSION_CODENAME=bookworm\n", 0o644),
		"var/lib/dpkg/status":                    fixtures.File(status, 0o644),
		"var/lib/dpkg/arch":                      fixtures.File("amd64\n", 0o644),
		prefix + "Release":                       fixtures.File(release("Debian", label, suite, "bookworm-security", "12"), 0o644),
		prefix + "main_binary-amd64_Packages.xz": data(compress(t, ".xz", idx)),
	}
	if configured {
		tree["etc/apt/sources.list.d/local.list"] = fixtures.File("# local mirror\ndeb [trusted=yes arch=amd64] file:/var/local/repo stable-security main\ndeb-src file:/var/local/repo stable-security main\n", 0o644)
	}
	return tree
}

func TestSecurityUpdatesParityG16(t *testing.T) {
	fs := runRule(t, testGuest(t, g16(t, "Debian-Security", "stable-security", true)), "pkg.security-updates", parity)
	f := expectOne(t, fs, rules.Fail, "There are 2 security updates available for this image that have not been installed.")
	var names []string
	for _, kv := range f.Evidence {
		if kv.Key == "package" {
			names = append(names, kv.Value)
		}
	}
	if strings.Join(names, " ") != "pkg-a pkg-b" || !imgcheck.Counted(f) {
		t.Errorf("listed %v counted=%v, want [pkg-a pkg-b] (pkg-c kept back) counted", names, imgcheck.Counted(f))
	}
	// Lists without a configured source are ignored by apt.
	p := expectOne(t, runRule(t, testGuest(t, g16(t, "Debian-Security", "stable-security", false)), "pkg.security-updates", parity),
		rules.Pass, "There are no pending security updates for this image.")
	if !imgcheck.Counted(p) || !p.Approximate {
		t.Errorf("offline PASS must be counted and approximate: %+v", p)
	}
	// Label and Suite without "security": the upgrades do not count.
	expectOne(t, runRule(t, testGuest(t, g16(t, "Debian", "stable", true)), "pkg.security-updates", parity),
		rules.Pass, "There are no pending security updates for this image.")
}

func TestSecurityUpdatesParityG15(t *testing.T) {
	tree := with(ubuntuTree(stanza("libfoo", "1.0-1", installed)),
		"etc/apt/sources.list", fixtures.File("deb http://archive.ubuntu.com/ubuntu jammy main\ndeb http://security.ubuntu.com/ubuntu jammy-security main\n", 0o644),
		"var/lib/apt/lists/lock", fixtures.File("", 0o640),
		"var/lib/apt/lists/partial", fixtures.Dir(0o700))
	f := expectOne(t, runRule(t, testGuest(t, tree), "pkg.security-updates", parity), rules.Pass, "There are no pending security updates for this image.")
	if !imgcheck.Counted(f) || !f.Approximate || !strings.Contains(f.Get("reason"), "network") {
		t.Errorf("G15: %+v", f)
	}
}

func TestSecurityUpdatesParityRules(t *testing.T) {
	status := []string{
		stanza("libfoo", "1.0-1", installed),
		stanza("held", "1.0", "hold ok installed"),
		stanza("victim", "1.0", installed),
		stanza("breaker", "1.0", installed),
		stanza("virt-user", "1.0", installed),
		stanza("provider", "1.0", installed, "Provides: mail-transport-agent"),
		stanza("backported", "1.0", installed),
		stanza("experimental", "1.0", installed),
		"Package: libbar\nStatus: install ok installed\nArchitecture: i386\nVersion: 1.0\n",
	}
	secIdx := pkgIndex(
		entry("libfoo", "1.0-2"),
		entry("held", "1.1"),
		entry("breaker", "2.0", "Breaks: victim (<< 2.0)"),
		entry("virt-user", "1.1", "Depends: mail-transport-agent"),
	)
	secI386 := pkgIndex(strings.Replace(entry("libbar", "1.1"), "amd64", "i386", 1))
	bpoIdx := pkgIndex(entry("backported", "1.5"), entry("experimental", "2.0"))
	sec := listsDir + "deb.example.org_debian-security_dists_bookworm-security_"
	bpo := listsDir + "deb.example.org_debian_dists_bookworm-backports_"
	exp := listsDir + "deb.example.org_debian_dists_experimental_"
	tree := fstest.MapFS{
		"etc/os-release":      fixtures.File("NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nVERSION_CODENAME=bookworm\n", 0o644),
		"var/lib/dpkg/status": fixtures.File(strings.Join(status, "\n"), 0o644),
		"var/lib/dpkg/arch":   fixtures.File("amd64\ni386\n", 0o644),
		"etc/apt/sources.list.d/debian.sources": fixtures.File("Types: deb\nURIs: http://deb.example.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n"+
			"Types: deb deb-src\nURIs: http://deb.example.org/debian\nSuites: bookworm-backports experimental\nComponents: main\n\n"+
			"Types: deb\nURIs: http://disabled.example.org/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n", 0o644),
		sec + "InRelease":                      fixtures.File(inRelease(release("Debian", "Debian-Security", "stable-security", "bookworm-security", "12")), 0o644),
		sec + "main_binary-amd64_Packages.lz4": data(compress(t, ".lz4", secIdx)),
		sec + "main_binary-i386_Packages.gz":   data(compress(t, ".gz", secI386)),
		bpo + "InRelease":                      fixtures.File(inRelease(release("Debian Backports", "Debian Backports", "stable-backports", "bookworm-backports", "", "NotAutomatic: yes", "ButAutomaticUpgrades: yes")), 0o644),
		bpo + "main_binary-amd64_Packages.zst": data(compress(t, ".zst", bpoIdx)),
		exp + "InRelease":                      fixtures.File(inRelease(release("Debian", "Debian", "experimental", "rc-buggy", "", "NotAutomatic: yes")), 0o644),
		exp + "main_binary-amd64_Packages":     fixtures.File(bpoIdx, 0o644),
		"var/lib/apt/lists/disabled.example.org_debian_dists_bookworm_InRelease":                  fixtures.File(inRelease(release("Debian", "Debian-Security", "stable", "bookworm", "12")), 0o644),
		"var/lib/apt/lists/disabled.example.org_debian_dists_bookworm_main_binary-amd64_Packages": fixtures.File(entry("libfoo", "9.0"), 0o644),
	}
	g := testGuest(t, tree)
	f := expectOne(t, runRule(t, g, "pkg.security-updates", parity), rules.Fail, "There are 3 security updates available for this image that have not been installed.")
	var names []string
	for _, kv := range f.Evidence {
		if kv.Key == "package" {
			names = append(names, kv.Value)
		}
	}
	// held: excluded; breaker: would break victim, kept back; virt-user:
	// satisfied through Provides; libbar: foreign arch, written name:arch.
	if got := strings.Join(names, " "); got != "libbar:i386 libfoo virt-user" {
		t.Errorf("listed %q, want \"libbar:i386 libfoo virt-user\"", got)
	}
}

func TestSecurityUpdatesParityFileSourceWithoutLists(t *testing.T) {
	tree := g16(t, "Debian-Security", "stable-security", true)
	// Move the repository out of the lists into the guest path of the file: source.
	repo := "var/local/repo/dists/stable-security/"
	tree[repo+"Release"] = tree[listsDir+"_var_local_repo_dists_stable-security_Release"]
	tree[repo+"main/binary-amd64/Packages.xz"] = tree[listsDir+"_var_local_repo_dists_stable-security_main_binary-amd64_Packages.xz"]
	delete(tree, listsDir+"_var_local_repo_dists_stable-security_Release")
	delete(tree, listsDir+"_var_local_repo_dists_stable-security_main_binary-amd64_Packages.xz")
	expectOne(t, runRule(t, testGuest(t, tree), "pkg.security-updates", parity), rules.Fail,
		"There are 2 security updates available for this image that have not been installed.")
}

// TestSecurityUpdatesParitySkipsUnneededIndexes: the main archive's index
// is read only when a security-labelled index offers something newer.
func TestSecurityUpdatesParitySkipsUnneededIndexes(t *testing.T) {
	tree := func(secVersion string) fstest.MapFS {
		main := listsDir + "deb.example.org_debian_dists_bookworm_"
		sec := listsDir + "deb.example.org_debian-security_dists_bookworm-security_"
		return with(debianTree(),
			"var/lib/dpkg/status", fixtures.File(stanza("dpkg", "1.21.22", installed)+"\n"+stanza("libfoo", "1.0-1", installed), 0o644),
			"etc/apt/sources.list", fixtures.File("deb http://deb.example.org/debian bookworm main\ndeb http://deb.example.org/debian-security bookworm-security main\n", 0o644),
			main+"InRelease", fixtures.File(inRelease(release("Debian", "Debian", "stable", "bookworm", "12.5")), 0o644),
			main+"main_binary-amd64_Packages.xz", data([]byte("truncated xz")),
			sec+"InRelease", fixtures.File(inRelease(release("Debian", "Debian-Security", "stable-security", "bookworm-security", "12")), 0o644),
			sec+"main_binary-amd64_Packages", fixtures.File(entry("libfoo", secVersion), 0o644))
	}
	expectOne(t, runRule(t, testGuest(t, tree("1.0-1")), "pkg.security-updates", parity), rules.Pass, "There are no pending security updates for this image.")
	if fs := runRule(t, testGuest(t, tree("1.0-2")), "pkg.security-updates", parity); len(fs) != 1 || fs[0].Level != rules.Error {
		t.Errorf("security newer and the main index corrupt: %+v, want ERROR", fs)
	}
}
