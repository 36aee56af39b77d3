package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

// osTree is a tree with /etc/os-release holding the given lines.
func osTree(lines ...string) fstest.MapFS {
	return fstest.MapFS{"etc/os-release": fixtures.File(strings.Join(lines, "\n")+"\n", 0o644)}
}

// with returns a copy of tree plus the given entries (name, file pairs).
func with(tree fstest.MapFS, kv ...any) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range tree {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(*fstest.MapFile)
	}
	return out
}

// expectOne checks that fs holds exactly one finding with level and message.
func expectOne(t *testing.T, fs []rules.Finding, level rules.Level, msg string) rules.Finding {
	t.Helper()
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(fs), fs)
	}
	if fs[0].Level != level || fs[0].Message != msg {
		t.Fatalf("got %s %q, want %s %q (%+v)", fs[0].Level, fs[0].Message, level, msg, fs[0])
	}
	return fs[0]
}

var parity = rules.Options{Profile: rules.ImgCheck}

func TestOSSupportedAndRelease(t *testing.T) {
	pass := rules.Pass
	fail := rules.Fail
	cases := []struct {
		name        string
		tree        fstest.MapFS
		opts        rules.Options
		supLevel    rules.Level
		supMsg      string
		relLevel    rules.Level
		relMsg      string
		distro, ver string // parity evidence
	}{
		{"ubuntu 22.04", osTree(`NAME="Ubuntu"`, `VERSION_ID="22.04"`), parity, pass, "Supported Operating System Detected: Ubuntu", pass, "Supported Release Detected: 22.04", "Ubuntu", "22.04"},
		{"ubuntu 24.10 parity", osTree(`NAME="Ubuntu"`, `VERSION_ID="24.10"`), parity, pass, "Supported Operating System Detected: Ubuntu", fail, "Ubuntu 24.10 is not a supported Operating System Version", "Ubuntu", "24.10"},
		{"ubuntu 24.10 marketplace", osTree(`NAME="Ubuntu"`, `VERSION_ID="24.10"`), rules.Options{}, pass, "Supported Operating System Detected: Ubuntu", fail, "Ubuntu 24.10 is not a supported Operating System Version", "", ""},
		{"debian 12", osTree(`NAME="Debian GNU/Linux"`, `VERSION_ID="12"`), rules.Options{}, pass, "Supported Operating System Detected: Debian GNU/Linux", pass, "Supported Release Detected: 12", "", ""},
		{"centos 7", osTree(`NAME="CentOS Linux"`, `VERSION_ID="7"`), rules.Options{}, pass, "Supported Operating System Detected: CentOS Linux", pass, "Supported Release Detected: 7", "", ""},
		{"centos stream 9", osTree(`NAME="CentOS Stream"`, `VERSION_ID="9"`), parity, pass, "Supported Operating System Detected: CentOS Stream", pass, "Supported Release Detected: 9", "CentOS Stream", "9"},
		{"rocky 9.3", osTree(`NAME="Rocky Linux"`, `VERSION_ID="9.3"`), parity, pass, "Supported Operating System Detected: Rocky Linux", pass, "Supported Release Detected: 9.3", "Rocky Linux", "9.3"},
		{"alma 10.8 parity (P1)", osTree(`NAME="AlmaLinux"`, `VERSION_ID="10.8"`), parity, pass, "Supported Operating System Detected: AlmaLinux", pass, "Supported Release Detected: 10.8", "AlmaLinux", "10.8"},
		{"alma 10.8 marketplace", osTree(`NAME="AlmaLinux"`, `VERSION_ID="10.8"`), rules.Options{}, pass, "Supported Operating System Detected: AlmaLinux", fail, "AlmaLinux 10.8 is not a supported Operating System Version", "", ""},
		{"alma 10.0 parity (P1)", osTree(`NAME="AlmaLinux"`, `VERSION_ID="10.0"`), parity, pass, "Supported Operating System Detected: AlmaLinux", fail, "AlmaLinux 10.0 is not a supported Operating System Version", "AlmaLinux", "10.0"},
		{"G9 cloudlinux 7.9", osTree(`NAME="CloudLinux"`, `VERSION_ID="7.9"`), parity, pass, "Supported Operating System Detected: CloudLinux", pass, "Supported Release Detected: 7.9", "CloudLinux", "7.9"},
		{"G13 debian testing", osTree(`PRETTY_NAME="Debian GNU/Linux trixie/sid"`, `NAME="Debian GNU/Linux"`, `ID=debian`), parity, pass, "Supported Operating System Detected: Debian GNU/Linux", fail, "Debian GNU/Linux  is not a supported Operating System Version", "Debian GNU/Linux", ""},
		{"redhat-release CentOS 6", fstest.MapFS{"etc/redhat-release": fixtures.File("CentOS release 6.10 (Final)\n", 0o644)}, parity, pass, "Supported Operating System Detected: CentOS Linux", pass, "Supported Release Detected: 6", "CentOS Linux", "6"},
		{"redhat-release CentOS 6 marketplace", fstest.MapFS{"etc/redhat-release": fixtures.File("CentOS release 6.10 (Final)\n", 0o644)}, rules.Options{}, pass, "Supported Operating System Detected: CentOS Linux", rules.Info, "CentOS Linux 6 is accepted by img_check.sh but not listed in DigitalOcean's README", "", ""},
		{"G14 relative link", fstest.MapFS{
			"etc/os-release":     fixtures.Symlink("../usr/lib/os-release"),
			"usr/lib/os-release": fixtures.File("NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n", 0o644),
		}, parity, pass, "Supported Operating System Detected: Ubuntu", pass, "Supported Release Detected: 24.04", "Ubuntu", "24.04"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testGuest(t, c.tree)
			f := expectOne(t, runRule(t, g, "os.supported", c.opts), c.supLevel, c.supMsg)
			if c.opts.Profile == rules.ImgCheck && (!imgcheck.Counted(f) || f.Get("os") != c.distro || f.Get("version") != c.ver) {
				t.Errorf("parity evidence os=%q version=%q counted=%v, want %q %q true", f.Get("os"), f.Get("version"), imgcheck.Counted(f), c.distro, c.ver)
			}
			rel := runRule(t, g, "os.release", c.opts)
			if rel[0].Level != c.relLevel || rel[0].Message != c.relMsg {
				t.Errorf("os.release: got %s %q, want %s %q", rel[0].Level, rel[0].Message, c.relLevel, c.relMsg)
			}
		})
	}
}

func TestOSUnsupported(t *testing.T) {
	g := testGuest(t, osTree(`NAME="Fedora Linux"`, `VERSION_ID=40`, `ID=fedora`))
	f := expectOne(t, runRule(t, g, "os.supported", parity), rules.Fail, "Fedora Linux is not a supported Operating System")
	if f.Get("exiting") != "yes" || !imgcheck.Counted(f) {
		t.Errorf("G10: parity FAIL must be counted and mark exiting: %+v", f)
	}
	expectOne(t, runRule(t, g, "os.supported", rules.Options{}), rules.Fail, "Fedora Linux is not a supported Operating System")
	if rel := runRule(t, g, "os.release", rules.Options{}); rel[0].Level != rules.Skip {
		t.Errorf("marketplace os.release after an unsupported OS: %+v, want SKIP", rel)
	}
}

func TestOSMarketplaceInfo(t *testing.T) {
	g := testGuest(t, with(osTree(`NAME="Ubuntu"`, `ID=ubuntu`, `VERSION_ID="22.10"`),
		"etc/lsb-release", fixtures.File("DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\n", 0o644)))
	rel := runRule(t, g, "os.release", rules.Options{})
	if len(rel) != 2 || rel[0].Level != rules.Info || rel[1].Level != rules.Info || !strings.Contains(rel[1].Message, "release files disagree") {
		t.Fatalf("want README INFO and disagree INFO, got %+v", rel)
	}
	eol := runRule(t, g, "os.eol", rules.Options{})
	if eol[0].Level != rules.Info || !strings.Contains(eol[0].Message, "Ubuntu 22.10") {
		t.Errorf("os.eol: %+v", eol)
	}
	g2 := testGuest(t, osTree(`NAME="Ubuntu"`, `ID=ubuntu`, `VERSION_ID="24.04"`))
	expectOne(t, runRule(t, g2, "os.eol", rules.Options{}), rules.Pass, "Ubuntu 24.04 is not in the end-of-life table")
}

// minimalLSB is a stand-in for Debian 12's lsb-release-minimal script.
const minimalLSB = "#!/bin/sh\n# lsb_release emulation from os-release\n. /usr/lib/os-release\necho \"$ID\"\n"

func TestOSParityChainG19(t *testing.T) {
	debian := "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"
	cases := []struct {
		name            string
		tree            fstest.MapFS
		distro, ver     string
		supLevel        rules.Level
		relLevel        rules.Level
		exitingExpected bool
	}{
		{"both os-release removed, minimal lsb_release", fstest.MapFS{
			"usr/bin/lsb_release": fixtures.File(minimalLSB, 0o755),
			"etc/debian_version":  fixtures.File("12.5\n", 0o644),
		}, "n/a", "n/a", rules.Fail, rules.Skip, true},
		{"no lsb_release: debian_version", fstest.MapFS{
			"etc/debian_version": fixtures.File("12.5\n", 0o644),
		}, "Debian", "12.5", rules.Pass, rules.Fail, false},
		{"only /etc/os-release removed", fstest.MapFS{
			"usr/bin/lsb_release": fixtures.File(minimalLSB, 0o755),
			"usr/lib/os-release":  fixtures.File(debian, 0o644),
			"etc/debian_version":  fixtures.File("12.5\n", 0o644),
		}, "Debian", "12", rules.Pass, rules.Pass, false},
		{"dangling /etc/os-release", fstest.MapFS{
			"etc/os-release":      fixtures.Symlink("../usr/lib/os-release"),
			"usr/bin/lsb_release": fixtures.File(minimalLSB, 0o755),
			"etc/debian_version":  fixtures.File("12.5\n", 0o644),
		}, "n/a", "n/a", rules.Fail, rules.Skip, true},
		{"python lsb_release", fstest.MapFS{
			"usr/bin/lsb_release": fixtures.File("#!/usr/bin/python3 -Es\nimport lsb_release\n", 0o755),
			"etc/lsb-release":     fixtures.File("DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\n", 0o644),
		}, "Ubuntu", "20.04", rules.Pass, rules.Pass, false},
		{"python lsb_release guessing from debian_version", fstest.MapFS{
			"usr/bin/lsb_release": fixtures.File("#!/usr/bin/python3 -Es\nimport lsb_release\n", 0o755),
			"etc/debian_version":  fixtures.File("11.9\n", 0o644),
		}, "Debian", "11.9", rules.Pass, rules.Fail, false},
		{"FSG shell lsb_release reads lsb-release", fstest.MapFS{
			"bin/lsb_release": fixtures.File("#!/bin/sh\n# lsb_release - collect LSB conformance status\nINFO_LSB_FILE=/etc/lsb-release\n", 0o755),
			"etc/lsb-release": fixtures.File("DISTRIB_ID=\"Ubuntu\"\nDISTRIB_RELEASE=\"18.04\"\n", 0o644),
		}, "Ubuntu", "18.04", rules.Pass, rules.Pass, false},
		{"lsb-release file", fstest.MapFS{
			"etc/lsb-release": fixtures.File("DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n", 0o644),
		}, "Ubuntu", "22.04", rules.Pass, rules.Pass, false},
		{"SuSe-release", fstest.MapFS{
			"etc/SuSe-release":   fixtures.File("openSUSE 13.1\n", 0o644),
			"etc/redhat-release": fixtures.File("CentOS release 6.10 (Final)\n", 0o644),
		}, "", "", rules.Fail, rules.Skip, true},
		{"kernel fallback", fstest.MapFS{
			"lib/modules/5.15.0-91-generic/modules.dep":  fixtures.File("", 0o644),
			"lib/modules/5.15.0-101-generic/modules.dep": fixtures.File("", 0o644),
		}, "Linux", "5.15.0-101-generic", rules.Fail, rules.Skip, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testGuest(t, c.tree)
			sup := runRule(t, g, "os.supported", parity)
			if sup[0].Level != c.supLevel || sup[0].Get("os") != c.distro || sup[0].Get("version") != c.ver {
				t.Fatalf("got %s os=%q version=%q, want %s %q %q (%+v)", sup[0].Level, sup[0].Get("os"), sup[0].Get("version"), c.supLevel, c.distro, c.ver, sup[0])
			}
			if (sup[0].Get("exiting") == "yes") != c.exitingExpected {
				t.Errorf("exiting mark = %q", sup[0].Get("exiting"))
			}
			if rel := runRule(t, g, "os.release", parity); rel[0].Level != c.relLevel {
				t.Errorf("os.release: %+v, want %s", rel[0], c.relLevel)
			}
		})
	}
}
