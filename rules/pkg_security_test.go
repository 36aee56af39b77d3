package rules_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

const listsDir = "var/lib/apt/lists/"

// release is the text of a Release file.
func release(origin, label, suite, codename, version string, extra ...string) string {
	s := "Origin: " + origin + "\nLabel: " + label + "\nSuite: " + suite + "\nCodename: " + codename + "\n"
	if version != "" {
		s += "Version: " + version + "\n"
	}
	s += "Date: Sat, 10 Feb 2024 10:02:56 UTC\nArchitectures: amd64 i386 all\nComponents: main\n"
	for _, e := range extra {
		s += e + "\n"
	}
	return s + "SHA256:\n 0123456789abcdef 1234 main/binary-amd64/Packages\n"
}

// inRelease wraps a Release text in a clear-signed message.
func inRelease(rel string) string {
	return "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + rel + "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n"
}

// pkgIndex is the text of a Packages index.
func pkgIndex(stanzas ...string) string { return strings.Join(stanzas, "\n") }

// entry is one Packages stanza.
func entry(name, version string, extra ...string) string {
	s := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: x <x@example.org>\nDescription: test\n long description\n", name, version)
	for _, e := range extra {
		s += e + "\n"
	}
	return s
}

// compress returns data compressed for the list-file suffix.
func compress(t *testing.T, suffix, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch suffix {
	case "":
		return []byte(data)
	case ".gz":
		return gz(t, data)
	case ".xz":
		w, e := xz.NewWriter(&b)
		if e != nil {
			t.Fatal(e)
		}
		w.Write([]byte(data))
		err = w.Close()
	case ".lz4":
		w := lz4.NewWriter(&b)
		w.Write([]byte(data))
		err = w.Close()
	case ".zst":
		w, e := zstd.NewWriter(&b)
		if e != nil {
			t.Fatal(e)
		}
		w.Write([]byte(data))
		err = w.Close()
	default:
		t.Fatalf("no compressor for %q", suffix)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func data(b []byte) *fstest.MapFile { return &fstest.MapFile{Data: b, Mode: 0o644} }

// jammyLists adds an Ubuntu security and updates archive to tree.
func jammyLists(t *testing.T, tree fstest.MapFS, suffix string, security, updates []string) fstest.MapFS {
	sec := "security.ubuntu.com_ubuntu_dists_jammy-security_"
	upd := "archive.ubuntu.com_ubuntu_dists_jammy-updates_"
	return with(tree,
		listsDir+sec+"InRelease", fixtures.File(inRelease(release("Ubuntu", "Ubuntu", "jammy-security", "jammy", "22.04")), 0o644),
		listsDir+sec+"main_binary-amd64_Packages"+suffix, data(compress(t, suffix, pkgIndex(security...))),
		listsDir+upd+"InRelease", fixtures.File(inRelease(release("Ubuntu", "Ubuntu", "jammy-updates", "jammy", "22.04")), 0o644),
		listsDir+upd+"main_binary-amd64_Packages"+suffix, data(compress(t, suffix, pkgIndex(updates...))),
	)
}

func findingKeys(fs []rules.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Level.String()+":"+f.Subject)
	}
	return strings.Join(s, " ")
}

func TestSecurityUpdatesMarketplace(t *testing.T) {
	base := ubuntuTree(stanza("libfoo", "1.0-1", installed), stanza("libbar", "1.0~rc1", installed),
		stanza("tool", "2.0", installed), stanza("held", "1.0", "hold ok installed"),
		stanza("needy", "1.0", installed))
	cases := []struct {
		name     string
		tree     fstest.MapFS
		want     string // levels:subjects
		keptBack string // package expected to carry the kept-back tag
	}{
		{"security newer", jammyLists(t, base, ".xz", []string{entry("libfoo", "1.0-2")}, nil), "fail:libfoo", ""},
		{"security holds the installed version", jammyLists(t, base, ".gz", []string{entry("libfoo", "1.0-1")}, nil), "pass:security updates", ""},
		{"only -updates is newer", jammyLists(t, base, ".lz4", []string{entry("libfoo", "1.0-1")}, []string{entry("libfoo", "1.0-3")}), "pass:security updates", ""},
		{"-updates newer than -security", jammyLists(t, base, ".xz", []string{entry("libfoo", "1.0-2")}, []string{entry("libfoo", "1.0-3")}), "pass:security updates", ""},
		{"~rc sorts before the release", jammyLists(t, base, ".zst", []string{entry("libbar", "1.0")}, nil), "fail:libbar", ""},
		{"epoch wins", jammyLists(t, base, "", []string{entry("tool", "1:0.9")}, nil), "fail:tool", ""},
		{"older without epoch", jammyLists(t, base, "", []string{entry("tool", "1.9")}, nil), "pass:security updates", ""},
		{"held is reported and tagged", jammyLists(t, base, ".xz", []string{entry("held", "1.1")}, nil), "fail:held", ""},
		{"kept back is reported and tagged", jammyLists(t, base, ".xz", []string{entry("needy", "1.1", "Depends: libnew (>= 1), libc6")}, nil), "fail:needy", "needy"},
		{"lists absent", base, "skip:", ""},
		{"lists for another codename", with(base, listsDir+"security.ubuntu.com_ubuntu_dists_focal-security_InRelease",
			fixtures.File(inRelease(release("Ubuntu", "Ubuntu", "focal-security", "focal", "20.04")), 0o644),
			listsDir+"security.ubuntu.com_ubuntu_dists_focal-security_main_binary-amd64_Packages", fixtures.File(entry("libfoo", "9"), 0o644)), "skip:", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "pkg.security-updates", rules.Options{})
			if got := findingKeys(fs); got != c.want {
				t.Fatalf("got %s, want %s\n%+v", got, c.want, fs)
			}
			f := fs[0]
			if f.Level == rules.Fail {
				if f.Get("suite") != "jammy-security" || f.Get("date") != "Sat, 10 Feb 2024 10:02:56 UTC" || f.Get("candidate") == "" || f.Get("version") == "" {
					t.Errorf("evidence: %+v", f.Evidence)
				}
				if tags := f.Get("tags"); (c.keptBack != "") != strings.Contains(tags, "kept-back") || (f.Subject == "held") != strings.Contains(tags, "held") {
					t.Errorf("tags %q for %s", tags, f.Subject)
				}
			}
			if f.Level == rules.Pass && !strings.Contains(f.Message, "as of Sat, 10 Feb 2024") {
				t.Errorf("PASS must carry the index date: %q", f.Message)
			}
			if f.Level == rules.Skip && !strings.Contains(f.Message, "--apt-lists") {
				t.Errorf("SKIP must name --apt-lists: %q", f.Message)
			}
		})
	}
}

func TestSecurityUpdatesDebian10AndAptListsFlag(t *testing.T) {
	tree := fstest.MapFS{
		"etc/os-release":      fixtures.File("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"10\"\nVERSION=\"10 (buster)\"\n", 0o644),
		"var/lib/dpkg/status": fixtures.File(stanza("dpkg", "1.19.8", installed)+"\n"+stanza("openssl", "1.1.1n-0+deb10u3", installed), 0o644),
		"var/lib/dpkg/arch":   fixtures.File("amd64\n", 0o644),
	}
	lists := fstest.MapFS{
		"security.debian.org_debian-security_dists_buster_updates_InRelease":                     fixtures.File(inRelease(release("Debian", "Debian-Security", "oldoldstable", "buster", "10")), 0o644),
		"security.debian.org_debian-security_dists_buster_updates_main_binary-amd64_Packages.gz": data(gz(t, entry("openssl", "1.1.1n-0+deb10u6"))),
	}
	g := testGuest(t, tree)
	// The image has no lists: not evaluable. --apt-lists supplies them.
	if fs := runRule(t, g, "pkg.security-updates", rules.Options{}); fs[0].Level != rules.Skip {
		t.Fatalf("no lists: %+v", fs)
	}
	fs := runRule(t, g, "pkg.security-updates", rules.Options{AptLists: lists})
	if findingKeys(fs) != "fail:openssl" || fs[0].Get("suite") != "oldoldstable" {
		t.Fatalf("buster/updates via --apt-lists: %+v", fs)
	}
	// The same lists inside the image.
	inImage := with(tree)
	for n, f := range lists {
		inImage[listsDir+n] = f
	}
	if fs := runRule(t, testGuest(t, inImage), "pkg.security-updates", rules.Options{}); findingKeys(fs) != "fail:openssl" {
		t.Fatalf("buster/updates in the image: %+v", fs)
	}
}

func TestSecurityUpdatesCorruptIndex(t *testing.T) {
	full := compress(t, ".xz", pkgIndex(entry("libfoo", "1.0-2"), entry("other", "3")))
	tree := jammyLists(t, ubuntuTree(stanza("libfoo", "1.0-1", installed)), "", nil, nil)
	tree["etc/apt/sources.list"] = fixtures.File("deb http://security.ubuntu.com/ubuntu jammy-security main\n", 0o644)
	delete(tree, listsDir+"security.ubuntu.com_ubuntu_dists_jammy-security_main_binary-amd64_Packages")
	tree[listsDir+"security.ubuntu.com_ubuntu_dists_jammy-security_main_binary-amd64_Packages.xz"] = data(full[:len(full)/2])
	g := testGuest(t, tree)
	for _, o := range []rules.Options{{}, parity} {
		fs := runRule(t, g, "pkg.security-updates", o)
		if len(fs) != 1 || fs[0].Level != rules.Error || imgcheck.Counted(fs[0]) {
			t.Errorf("%s: truncated .xz: %+v, want one uncounted ERROR", o.Profile, fs)
		}
	}
}

// TestSecurityUpdatesReadsOtherIndexesOnlyWhenNeeded: a corrupt -updates
// index does not matter when no security index offers anything newer (it
// is not read), and is an ERROR when it must decide the candidate.
func TestSecurityUpdatesReadsOtherIndexesOnlyWhenNeeded(t *testing.T) {
	corrupt := func(security string) fstest.MapFS {
		tree := jammyLists(t, ubuntuTree(stanza("libfoo", "1.0-1", installed)), ".gz", []string{entry("libfoo", security)}, nil)
		tree[listsDir+"archive.ubuntu.com_ubuntu_dists_jammy-updates_main_binary-amd64_Packages.gz"] = data([]byte("not gzip"))
		return tree
	}
	if fs := runRule(t, testGuest(t, corrupt("1.0-1")), "pkg.security-updates", rules.Options{}); findingKeys(fs) != "pass:security updates" {
		t.Errorf("nothing newer in -security: %+v", fs)
	}
	if fs := runRule(t, testGuest(t, corrupt("1.0-2")), "pkg.security-updates", rules.Options{}); len(fs) != 1 || fs[0].Level != rules.Error {
		t.Errorf("-security newer, -updates corrupt: %+v, want ERROR", fs)
	}
}
