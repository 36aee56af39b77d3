package main

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// Roots without os-release: the root is
// found by its Linux-root evidence, the OS by the parity chain, and the
// scan goes on in both profiles, on a raw GPT disk and as qcow2.

// debianLegacyTree is cleanTree as a Debian 12 without os-release: the
// release is only in /etc/lsb-release and /etc/debian_version.
func debianLegacyTree() fstest.MapFS {
	t := cleanTree()
	delete(t, "etc/os-release")
	t["etc/debian_version"] = fixtures.File("12.5\n", 0o644)
	t["etc/lsb-release"] = fixtures.File("DISTRIB_ID=Debian\nDISTRIB_RELEASE=12\nDISTRIB_CODENAME=bookworm\nDISTRIB_DESCRIPTION=\"Debian GNU/Linux 12 (bookworm)\"\n", 0o644)
	t["var/lib/dpkg/status"] = fixtures.File(dpkgEntry("cloud-init", "22.4.2-1", "all")+
		dpkgEntry("openssh-server", "1:9.2p1-2+deb12u3", "amd64")+dpkgEntry("ufw", "0.36.2-1", "all"), 0o644)
	return t
}

// centosPackages are the packages of centosLegacyTree's rpm database.
var centosPackages = []fixtures.RPMPackage{
	{Name: "cloud-init", Version: "0.7.5", Release: "10.el6.centos.2"},
	{Name: "openssh-server", Version: "5.3p1", Release: "124.el6_10"},
	{Name: "bash", Version: "4.1.2", Release: "48.el6"},
}

// centosLegacyTree is a CentOS 6 root, which had no os-release: the
// release in /etc/redhat-release, an rpm database, sysvinit's /sbin/init,
// cloud-init and sshd.
func centosLegacyTree(t *testing.T) fstest.MapFS {
	rpmdb := fixtures.MustRPMDB(t, centosPackages...)
	return fstest.MapFS{
		"boot/vmlinuz-2.6.32-754.35.1.el6.x86_64": fixtures.File("MZ kernel stand-in", 0o755),
		"etc/redhat-release":                      fixtures.File("CentOS release 6.10 (Final)\n", 0o644),
		"etc/system-release":                      fixtures.Symlink("redhat-release"),
		"etc/passwd":                              fixtures.File("root:x:0:0:root:/root:/bin/bash\nnobody:x:99:99:Nobody:/:/sbin/nologin\n", 0o644),
		"etc/shadow":                              fixtures.File("root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0o000),
		"etc/group":                               fixtures.File("root:x:0:\n", 0o644),
		"etc/fstab":                               fixtures.File("LABEL=cloudimg-rootfs / ext4 defaults 1 1\n", 0o644),
		"etc/ssh/sshd_config":                     fixtures.File("PermitRootLogin without-password\n", 0o600),
		"sbin/init":                               fixtures.File("\x7fELF", 0o755),
		"usr/bin/cloud-init":                      fixtures.File("#!/usr/bin/python\n", 0o755),
		"usr/sbin/sshd":                           fixtures.File("\x7fELF", 0o755),
		"var/lib/rpm/rpmdb.sqlite":                &fstest.MapFile{Data: rpmdb, Mode: 0o644},
		"var/log":                                 fixtures.Dir(0o755),
		"root":                                    fixtures.Dir(0o550),
		"tmp":                                     fixtures.Dir(0o1777),
		"var/tmp":                                 fixtures.Dir(0o1777),
		"home":                                    fixtures.Dir(0o755),
	}
}

// TestScanWithoutOSRelease: the img_check profile prints what
// img_check.sh v1.8.1 prints on such a system (its chain: /etc/lsb-release
// names Debian 12, /etc/redhat-release's third field CentOS Linux 6), the
// marketplace profile names the same OS, raw and qcow2 alike.
func TestScanWithoutOSRelease(t *testing.T) {
	for _, tc := range []struct {
		name, os, source string
		tree             fstest.MapFS
		// the marketplace verdict and exit code: CentOS 6's cloud-init
		// 0.7.5 is too old
		verdict string
		code    int
	}{
		{"debian", "Debian 12 (deb)", "/etc/lsb-release", debianLegacyTree(), "PASS: 0 FAIL, 0 ERROR,", 0},
		{"centos", "CentOS Linux 6 (rpm)", "/etc/redhat-release", centosLegacyTree(t), "FAIL: 1 FAIL, 0 ERROR,", 1},
	} {
		raw := gptImage(t, tc.tree)
		qcow := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})
		for _, img := range []string{raw, qcow} {
			out, stderr, code := runCmd(t, "scan", "--color", "never", "--profile", "img_check", img)
			golden(t, "imgcheck-"+tc.name+"-no-os-release.txt", normalize(out, nil))
			if code != 0 || !strings.Contains(stderr, "no os-release; partition 1 is the root") {
				t.Errorf("%s img_check: exit %d, want 0; stderr %q", img, code, stderr)
			}

			out, _, code = runCmd(t, "scan", "--color", "never", "-v", img)
			if code != tc.code || !strings.Contains(out, "\nOS:      "+tc.os+"\n") || !strings.Contains(out, img+": "+tc.verdict) {
				t.Errorf("%s marketplace: exit %d, want %d, OS %q, verdict %s:\n%s", img, code, tc.code, tc.os, tc.verdict, out)
			}
			for _, rule := range []string{"os.supported", "disk.fs-state"} {
				if !strings.Contains(out, "[PASS] "+rule+":") {
					t.Errorf("%s marketplace: %s did not pass:\n%s", img, rule, out)
				}
			}
			js, _, _ := runCmd(t, "scan", "--format", "json", img)
			var doc struct {
				Images []struct {
					RootError string `json:"root_error"`
					Findings  []struct {
						Rule     string
						Evidence map[string]string
					}
				}
			}
			if err := json.Unmarshal([]byte(js), &doc); err != nil {
				t.Fatal(err)
			}
			for _, f := range doc.Images[0].Findings {
				if f.Rule == "os.supported" && f.Evidence["source"] != tc.source {
					t.Errorf("%s: os.supported source %q, want %q", img, f.Evidence["source"], tc.source)
				}
			}
			if doc.Images[0].RootError != "" {
				t.Errorf("%s: root_error %q", img, doc.Images[0].RootError)
			}
		}
	}
}

// TestCatLsWithoutOSRelease: cat and ls read a root found without
// os-release.
func TestCatLsWithoutOSRelease(t *testing.T) {
	raw := gptImage(t, debianLegacyTree())
	for _, img := range []string{raw, fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})} {
		out, stderr, code := runCmd(t, "cat", img, "/etc/lsb-release")
		if code != 0 || out != string(debianLegacyTree()["etc/lsb-release"].Data) {
			t.Errorf("cat %s: exit %d %q %q", img, code, out, stderr)
		}
		out, stderr, code = runCmd(t, "ls", img, "/etc")
		if code != 0 || !strings.Contains(out, " debian_version") || !strings.Contains(out, " lsb-release") || strings.Contains(out, "os-release") {
			t.Errorf("ls %s /etc: exit %d\n%s%s", img, code, out, stderr)
		}
		out, _, code = runCmd(t, "info", img)
		if code != 0 || !strings.Contains(out, "Root:        partition 1 (ext4)") || !strings.Contains(out, "OS:          Debian (ID= VERSION_ID=12, family deb)") {
			t.Errorf("info %s: exit %d\n%s", img, code, out)
		}
	}
}

// TestPasswdOnlyIsNotRoot: /etc/passwd without a distribution marker or
// an init does not make a root.
func TestPasswdOnlyIsNotRoot(t *testing.T) {
	img := gptImage(t, fstest.MapFS{"etc/passwd": fixtures.File("root:x:0:0:root:/root:/bin/bash\n", 0o644), "srv/data": fixtures.File("x\n", 0o644)})
	out, _, code := runCmd(t, "scan", img)
	if code != 3 || !strings.Contains(out, "no Linux root filesystem found (partition 1: ext4, no os-release)") {
		t.Errorf("exit %d, want 3 and no root:\n%s", code, out)
	}
	if _, stderr, code := runCmd(t, "cat", img, "/etc/passwd"); code == 0 || !strings.Contains(stderr, "no Linux root filesystem found") {
		t.Errorf("cat: exit %d %q", code, stderr)
	}
}
