package facts

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fsinspect"
)

func TestURIToFileName(t *testing.T) {
	cases := map[string]string{
		"http://mirror.example/debian/dists/bookworm/InRelease":             "mirror.example_debian_dists_bookworm_InRelease",
		"file:/var/local/repo/dists/stable-security/Release":                "_var_local_repo_dists_stable-security_Release",
		"file:///var/local/repo/dists/x/Release":                            "_var_local_repo_dists_x_Release",
		"https://user:secret@ppa.example:8443/a_b/~c/dists/jammy/InRelease": "ppa.example:8443_a%5fb_%7ec_dists_jammy_InRelease",
	}
	for in, want := range cases {
		if got := uriToFileName(in); got != want {
			t.Errorf("uriToFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRelations(t *testing.T) {
	got := parseRelations("libc6 (>= 2.34), python3:any (>= 3.11~) | python3-minimal, foo [amd64], bar <!nocheck>")
	if len(got) != 4 || got[0][0] != (depRelation{"libc6", "", ">=", "2.34"}) ||
		got[1][0] != (depRelation{"python3", "any", ">=", "3.11~"}) || got[1][1].name != "python3-minimal" ||
		got[2][0].name != "foo" || got[3][0].name != "bar" {
		t.Fatalf("parseRelations: %+v", got)
	}
	r := depRelation{name: "x", op: "<<", version: "2.0"}
	if !r.versionOK("1.9") || r.versionOK("2.0") || !r.versionOK("2.0~rc1") {
		t.Error("<< comparison")
	}
}

func TestParseOSReleaseQuoting(t *testing.T) {
	v, exp := ParseOSRelease([]byte("# c\nNAME=\"Debian \\\"GNU\\\"/Linux\"\nID=debian\nVERSION='12 (bookworm)'\nX=$HOME\nNAME2=\"a\" # comment\n"))
	if v["NAME"] != `Debian "GNU"/Linux` || v["ID"] != "debian" || v["VERSION"] != "12 (bookworm)" || v["NAME2"] != "a" || !exp {
		t.Fatalf("%q exp=%v", v, exp)
	}
	if parenWord(v["VERSION"]) != "bookworm" || parenWord("20.04.6 LTS (Focal Fossa)") != "focal" {
		t.Error("parenWord")
	}
}

func TestParseReleaseClearSigned(t *testing.T) {
	r, err := parseRelease([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Ubuntu\nLabel: Ubuntu\nSuite: jammy-security\nNotAutomatic: yes\nMD5Sum:\n abc 1 main/x\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n"))
	if err != nil || r.Suite != "jammy-security" || !r.NotAutomatic || !r.security() || r.priority() != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := parseRelease([]byte("\x00\x01garbage")); err == nil {
		t.Error("garbage Release accepted")
	}
}

func TestDecompressIndexCap(t *testing.T) {
	if _, err := decompressIndex("Packages.gz", []byte("not gzip")); err == nil {
		t.Error("corrupt gzip accepted")
	}
	big := make([]byte, capIndex+1)
	if _, err := decompressIndex("Packages", big); !errors.Is(err, fsinspect.ErrTooLarge) {
		t.Errorf("over-cap plain index: %v", err)
	}
}

func TestParseSources(t *testing.T) {
	l := parseSourcesList([]byte("deb [ arch=amd64,i386 signed-by=/k ] http://a/debian bookworm main contrib # x\n# deb http://b/ x main\ndeb-src http://a/debian bookworm main\n"), "/f")
	if len(l) != 1 || l[0].URI != "http://a/debian" || strings.Join(l[0].Components, ",") != "main,contrib" || strings.Join(l[0].Archs, ",") != "amd64,i386" {
		t.Fatalf("%+v", l)
	}
	d, err := parseDeb822Sources([]byte("Types: deb\nURIs: http://a/ http://b/\nSuites: s1 s2\nComponents: main\n\nTypes: deb\nURIs: http://c/\nSuites: s\nEnabled: no\n"), "/f")
	if err != nil || len(d) != 4 {
		t.Fatalf("%+v %v", d, err)
	}
}

// TestDecompressIndexBzip2 uses the bzip2 tool, since Go has no bzip2
// writer; apt may leave .bz2 indexes behind.
func TestDecompressIndexBzip2(t *testing.T) {
	bz, err := exec.LookPath("bzip2")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	cmd := exec.Command(bz, "-c")
	cmd.Stdin = strings.NewReader("Package: libfoo\nVersion: 1.0-2\nArchitecture: amd64\n")
	packed, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := decompressIndex("Packages.bz2", packed)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := parsePackagesIndex(plain, map[string]bool{"libfoo": true})
	if err != nil || len(idx["libfoo"]) != 1 || idx["libfoo"][0].Version != "1.0-2" {
		t.Fatalf("%+v %v", idx, err)
	}
	if _, err := decompressIndex("Packages.bz2", packed[:len(packed)/2]); err == nil {
		t.Error("truncated bzip2 accepted")
	}
}
