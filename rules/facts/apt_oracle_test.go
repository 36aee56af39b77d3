package facts

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// oracleStatus, oracleIndexes and oracleSources are one scenario for
// TestUpgradeSetMatchesApt: held, Breaks, Provides, python3:any, a missing
// dependency, a ButAutomaticUpgrades backport, a NotAutomatic archive and
// a foreign architecture.
const oracleStatus = `Package: dpkg
Status: install ok installed
Architecture: amd64
Version: 1.21.22

Package: python3
Status: install ok installed
Architecture: amd64
Multi-Arch: allowed
Version: 3.11.2-1+b1

Package: pkg-a
Status: install ok installed
Architecture: amd64
Version: 1.0-1

Package: pkg-b
Status: install ok installed
Architecture: amd64
Version: 2.0-1

Package: pkg-c
Status: install ok installed
Architecture: amd64
Version: 3.0-1

Package: held
Status: hold ok installed
Architecture: amd64
Version: 1.0

Package: victim
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: breaker
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: virt-user
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: provider
Status: install ok installed
Architecture: amd64
Version: 1.0
Provides: mail-transport-agent

Package: backported
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: experimental
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: libbar
Status: install ok installed
Architecture: i386
Multi-Arch: same
Version: 1.0
`

var oracleIndexes = map[string]string{
	"deb.example.org_debian-security_dists_bookworm-security_Release": "Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: bookworm-security\nVersion: 12\nDate: Sat, 10 Feb 2024 10:02:56 UTC\nArchitectures: amd64 i386 all\nComponents: main\n",
	"deb.example.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages": "Package: pkg-a\nVersion: 1.0-2\nArchitecture: amd64\n\n" +
		"Package: pkg-b\nVersion: 2.0-2\nArchitecture: amd64\nDepends: python3:any (>= 3.11~), pkg-a (>= 1.0)\n\n" +
		"Package: pkg-c\nVersion: 3.0-2\nArchitecture: amd64\nDepends: libmissing1 | libmissing2\n\n" +
		"Package: held\nVersion: 1.1\nArchitecture: amd64\n\n" +
		"Package: breaker\nVersion: 2.0\nArchitecture: amd64\nBreaks: victim (<< 2.0)\n\n" +
		"Package: virt-user\nVersion: 1.1\nArchitecture: amd64\nDepends: mail-transport-agent\n",
	"deb.example.org_debian-security_dists_bookworm-security_main_binary-i386_Packages": "Package: libbar\nVersion: 1.1\nArchitecture: i386\nMulti-Arch: same\n",
	"deb.example.org_debian_dists_bookworm-backports_Release":                           "Origin: Debian Backports\nLabel: Debian Backports\nSuite: stable-backports\nCodename: bookworm-backports\nDate: Sat, 10 Feb 2024 10:02:56 UTC\nNotAutomatic: yes\nButAutomaticUpgrades: yes\nArchitectures: amd64 all\nComponents: main\n",
	"deb.example.org_debian_dists_bookworm-backports_main_binary-amd64_Packages":        "Package: backported\nVersion: 1.5\nArchitecture: amd64\n\nPackage: experimental\nVersion: 1.2\nArchitecture: amd64\n",
	"deb.example.org_debian_dists_experimental_Release":                                 "Origin: Debian\nLabel: Debian\nSuite: experimental\nCodename: rc-buggy\nDate: Sat, 10 Feb 2024 10:02:56 UTC\nNotAutomatic: yes\nArchitectures: amd64 all\nComponents: main\n",
	"deb.example.org_debian_dists_experimental_main_binary-amd64_Packages":              "Package: experimental\nVersion: 2.0\nArchitecture: amd64\n",
}

const oracleSources = "deb http://deb.example.org/debian-security bookworm-security main\n" +
	"deb http://deb.example.org/debian bookworm-backports main\n" +
	"deb http://deb.example.org/debian experimental main\n"

// aptJustPrint runs the host's apt-get --just-print upgrade over the given
// status, sources.list and list files (no network, no update: apt reads the
// lists as given) and returns its Inst lines, sorted. It skips where apt is
// not installed, except under CI=true.
func aptJustPrint(t *testing.T, status, sources string, lists map[string]string) []string {
	t.Helper()
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "status"), status)
	write(filepath.Join(dir, "sources.list"), sources)
	for name, body := range lists {
		if strings.HasSuffix(name, "_Packages") {
			body = withFilenames(body) // apt refuses to print versions it could not download
		}
		write(filepath.Join(dir, "lists", name), body)
	}
	var args []string
	none := filepath.Join(dir, "none")
	for k, v := range map[string]string{
		"Dir::State::status": filepath.Join(dir, "status"), "Dir::State::Lists": filepath.Join(dir, "lists"),
		"Dir::Etc::SourceList": filepath.Join(dir, "sources.list"), "Dir::Etc::SourceParts": none,
		"Dir::Etc::Preferences": none, "Dir::Etc::PreferencesParts": none, "Dir::Etc::main": none, "Dir::Etc::Parts": none,
		"Dir::Cache": filepath.Join(dir, "cache"), "APT::Architecture": "amd64", "APT::Architectures": "amd64,i386",
		"Debug::NoLocking": "1",
	} {
		args = append(args, "-o", k+"="+v)
	}
	out, err := exec.Command(aptGet, append(args, "--just-print", "upgrade")...).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get: %v\n%s", err, out)
	}
	var inst []string
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "Inst ") {
			inst = append(inst, strings.TrimSpace(line))
		}
	}
	slices.Sort(inst)
	return inst
}

// TestUpgradeSetMatchesApt compares the emulation's Inst lines with apt's.
func TestUpgradeSetMatchesApt(t *testing.T) {
	want := aptJustPrint(t, oracleStatus, oracleSources, oracleIndexes)
	pkgs, err := parseDpkgStatus([]byte(oracleStatus))
	if err != nil {
		t.Fatal(err)
	}
	db := &PackageDB{Format: "dpkg", NativeArch: "amd64", ForeignArch: []string{"i386"}, Packages: pkgs}
	var idx []*aptIndex
	for name, body := range oracleIndexes {
		if !strings.HasSuffix(name, "_Packages") {
			continue
		}
		prefix, _, _ := strings.Cut(name, "_main_")
		rel, err := parseRelease([]byte(oracleIndexes[prefix+"_Release"]))
		if err != nil {
			t.Fatal(err)
		}
		entries, err := parsePackagesIndex([]byte(body), installedNames(db))
		if err != nil {
			t.Fatal(err)
		}
		idx = append(idx, &aptIndex{File: name, Arch: indexArch(name), Release: rel, Entries: entries})
	}
	slices.SortFunc(idx, func(a, b *aptIndex) int { return strings.Compare(a.File, b.File) })
	var got []string
	for _, u := range upgradeSet(db, idx) {
		got = append(got, fmt.Sprintf("Inst %s [%s] (%s %s [%s])", u.Display(), u.Installed, u.Candidate, u.Origins, u.Arch))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("emulation:\n%s\napt-get:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// withFilenames adds the download fields apt needs to each stanza.
func withFilenames(body string) string {
	var out []string
	for _, st := range strings.Split(strings.TrimSpace(body), "\n\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(st, "Package: "), "\n")
		out = append(out, st+"\nFilename: pool/"+name+".deb\nSize: 100\nSHA256: "+strings.Repeat("0", 64))
	}
	return strings.Join(out, "\n\n") + "\n"
}

// TestListFileNamesMatchApt proves uriToFileName by letting apt find list
// files named with it: a file: source and a URI with credentials, a port,
// "_" and "~".
func TestListFileNamesMatchApt(t *testing.T) {
	status := "Package: pkg-a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n"
	rel := "Origin: X\nLabel: X\nSuite: s\nCodename: s\nArchitectures: amd64\nComponents: main\n"
	for _, uri := range []string{"file:/srv/local_repo/deb", "https://user:secret@ppa.example:8443/a_b/~c"} {
		lists := map[string]string{
			uriToFileName(uri + "/dists/s/Release"):                    rel,
			uriToFileName(uri + "/dists/s/main/binary-amd64/Packages"): "Package: pkg-a\nVersion: 2.0\nArchitecture: amd64\n",
		}
		got := aptJustPrint(t, status, "deb "+uri+" s main\n", lists)
		if len(got) != 1 || !strings.HasPrefix(got[0], "Inst pkg-a [1.0] (2.0 X:s") {
			t.Errorf("%s: apt did not read %v: %q", uri, slices.Collect(maps.Keys(lists)), got)
		}
	}
}
