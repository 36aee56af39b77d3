package facts

import (
	"testing"
	"time"
)

// Fuzz targets for the guest-file parsers behind the facts: each must
// survive any bytes a stranger's image holds, without a panic and without
// output growing past its input.

// FuzzDpkgStatus parses arbitrary /var/lib/dpkg/status text and asks
// every package the questions the rules ask.
func FuzzDpkgStatus(f *testing.F) {
	f.Add([]byte(dpkgStanza("openssh-server", "1:8.9p1-3ubuntu0.10", "amd64") + dpkgStanza("ufw", "0.36.1-4ubuntu0.1", "all")))
	f.Add([]byte("Package: a\nStatus: hold ok installed\nVersion: 1:2.3~rc1-4+b1\nDepends: libc6 (>= 2.34) | x, y [amd64]\n continuation\n\n\n"))
	f.Add([]byte("Package:\nStatus:\nVersion: :-\n\nPackage: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := parseDpkgStatus(data)
		if err != nil {
			return
		}
		if len(pkgs) > len(data)/8+1 {
			t.Fatalf("%d packages from %d bytes", len(pkgs), len(data))
		}
		for _, p := range pkgs {
			p.Installed()
			p.Held()
			p.Upstream()
			parseRelations(p.Depends)
			parseRelations(p.PreDepends)
			DebCompare(p.Version, "1:2.3-4")
		}
	})
}

func dpkgStanza(name, version, arch string) string {
	return "Package: " + name + "\nStatus: install ok installed\nArchitecture: " + arch + "\nVersion: " + version + "\n\n"
}

// FuzzAptRelease parses arbitrary Release and InRelease files.
func FuzzAptRelease(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Ubuntu\nLabel: Ubuntu\nSuite: jammy-security\nCodename: jammy\nDate: Tue, 02 Jan 2024 10:00:00 UTC\nNotAutomatic: yes\nButAutomaticUpgrades: yes\nMD5Sum:\n abc 1 main/x\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n"))
	f.Add([]byte("Origin: Debian\nSuite: stable-security\nDate: Sat, 01 Jun 2024 00:00:00 +0000\n"))
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRelease(data)
		if err != nil {
			return
		}
		r.security()
		r.origin()
		r.priority()
		oldestDate([]*aptRelease{r}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	})
}

// FuzzAptPackages parses arbitrary Packages indexes, plain and through
// every decompressor the lists may use (each capped at capIndex).
func FuzzAptPackages(f *testing.F) {
	f.Add([]byte("Package: openssh-server\nArchitecture: amd64\nVersion: 1:8.9p1-3ubuntu0.11\nSource: openssh\nDepends: openssh-client (= 1:8.9p1-3ubuntu0.11), libc6 (>= 2.34)\nBreaks: x (<< 2)\n\nPackage: ufw\nVersion: 0.36.2\n"), "Packages")
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x0bH\x4c\xce\x4e\x4c\x4f\xb5R\x48\xe4\x02\x00"), "Packages.gz")
	f.Add([]byte("\xfd7zXZ\x00\x00"), "Packages.xz")
	f.Add([]byte("\x28\xb5\x2f\xfd"), "Packages.zst")
	f.Add([]byte("\x04\x22\x4d\x18"), "Packages.lz4")
	f.Add([]byte("BZh9"), "Packages.bz2")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		b, err := decompressIndex(name, data)
		if err != nil {
			return
		}
		if len(b) > capIndex {
			t.Fatalf("decompressIndex returned %d bytes, over the %d cap", len(b), capIndex)
		}
		for _, want := range []map[string]bool{{"openssh-server": true, "ufw": true}, {}} {
			idx, err := parsePackagesIndex(b, want)
			if err != nil {
				continue
			}
			for name, ps := range idx {
				if len(want) > 0 && !want[name] {
					t.Fatalf("parsePackagesIndex kept %q, not asked for", name)
				}
				for _, p := range ps {
					for _, alt := range parseRelations(p.Depends) {
						for _, r := range alt {
							r.versionOK(p.Version)
							r.archOK("amd64")
						}
					}
				}
			}
		}
	})
}

// FuzzAptSources parses arbitrary sources.list and deb822 .sources text.
func FuzzAptSources(f *testing.F) {
	f.Add([]byte("deb [arch=amd64 signed-by=/x] http://archive.ubuntu.com/ubuntu jammy main universe\ndeb-src http://x y z\n# c\ndeb cdrom:[Ubuntu 22.04]/ jammy main\n"))
	f.Add([]byte("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nArchitectures: amd64\nEnabled: yes\n\nTypes: deb\nURIs: https://user:pw@x/\nSuites: ./\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		srcs := parseSourcesList(data, "sources.list")
		deb822, err := parseDeb822Sources(data, "x.sources")
		if err == nil {
			srcs = append(srcs, deb822...)
		}
		for _, s := range srcs {
			uriToFileName(s.URI)
			uriHost(s.URI)
			distDir(s)
		}
	})
}

// FuzzAccounts parses arbitrary passwd, shadow, group and login.defs text
// and classifies every password field. A classification never carries
// the hash itself.
func FuzzAccounts(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"))
	f.Add([]byte("root:$6$Ym9ndXNzYWx0$0dY7dnkUq1nXTq5vX7m1HRxvGmW1QeZ8Hn4o6c2VnE0u:19000:0:99999:7:::\nu:!$y$j9T$abc$def:1::::::\nv::1:\nw:*LK*:::\n"))
	f.Add([]byte("sudo:x:27:alice,bob\nUID_MIN 1000\n#UID_MIN 5\nUID_MIN\t0x3e8\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, a := range ParsePasswd(data) {
			ClassifyPassword(a.Password)
		}
		for _, s := range ParseShadow(data) {
			if _, scheme := ClassifyPassword(s.Password); !knownScheme(scheme) {
				t.Fatalf("scheme %q is not a scheme name: it may carry the hash", scheme)
			}
		}
		ParseGroup(data)
		loginDefsUIDMin(data)
	})
}

// knownScheme reports whether s is "" or a crypt(3) scheme name.
func knownScheme(s string) bool {
	if s == "" || s == "descrypt" || s == "bsdicrypt" {
		return true
	}
	for _, name := range hashSchemes {
		if s == name {
			return true
		}
	}
	return false
}

// FuzzOSRelease parses arbitrary os-release text.
func FuzzOSRelease(f *testing.F) {
	f.Add([]byte("NAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n"))
	f.Add([]byte("# c\nNAME=\"Debian \\\"GNU\\\"/Linux\"\nVERSION='12 (bookworm)'\nX=$HOME\nY=\"a`b`\"\nZ=\"unterminated\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vals, _ := ParseOSRelease(data)
		for k, v := range vals {
			if len(k)+len(v) > len(data) {
				t.Fatalf("%q=%q is longer than the input", k, v)
			}
			parenWord(v)
			MajorVersion(v)
			redhatVersion(v)
		}
	})
}

// FuzzUpdateInfo decodes arbitrary updateinfo.xml documents.
func FuzzUpdateInfo(f *testing.F) {
	f.Add([]byte(`<updates><update type="security"><id>RLSA-2024:1</id><updated date="2024-01-02 00:00:00"/><pkglist><collection><package name="openssh" epoch="0" version="8.7p1" release="38.el9" arch="x86_64"/></collection></pkglist></update></updates>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><updates>&a;</updates>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseUpdateInfo(data)
		if err != nil {
			return
		}
		for _, u := range d.Updates {
			for _, p := range u.Pkgs {
				RPMCompare(rpmEVR(p.Epoch, p.Version, p.Release), "1:2-3")
			}
		}
	})
}
