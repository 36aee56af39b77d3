package rules_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// stanza is one dpkg status stanza; extra lines are added verbatim.
func stanza(name, version, status string, extra ...string) string {
	s := fmt.Sprintf("Package: %s\nStatus: %s\nArchitecture: amd64\nVersion: %s\n", name, status, version)
	for _, e := range extra {
		s += e + "\n"
	}
	return s
}

const installed = "install ok installed"

// ubuntuTree is an Ubuntu 22.04 tree whose dpkg status holds stanzas.
func ubuntuTree(stanzas ...string) fstest.MapFS {
	return fstest.MapFS{
		"etc/os-release":      fixtures.File("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n", 0o644),
		"var/lib/dpkg/status": fixtures.File(strings.Join(append([]string{stanza("dpkg", "1.21.1ubuntu2", installed)}, stanzas...), "\n"), 0o644),
		"var/lib/dpkg/arch":   fixtures.File("amd64\n", 0o644),
	}
}

func TestCloudInitInstalled(t *testing.T) {
	cmd := fixtures.File("#!/usr/bin/python3\n", 0o755)
	cases := []struct {
		name  string
		tree  fstest.MapFS
		opts  rules.Options
		level rules.Level
		msg   string
	}{
		{"neither", ubuntuTree(), rules.Options{}, rules.Fail, "cloud-init is not installed: no package and no cloud-init command"},
		{"package", ubuntuTree(stanza("cloud-init", "24.1.3-0ubuntu1~22.04.1", installed)), rules.Options{}, rules.Pass, "cloud-init is installed"},
		{"config-files only", ubuntuTree(stanza("cloud-init", "24.1.3-0ubuntu1~22.04.1", "deinstall ok config-files")), rules.Options{}, rules.Fail, "cloud-init is not installed: no package and no cloud-init command"},
		{"command without package", with(ubuntuTree(), "usr/bin/cloud-init", cmd), rules.Options{}, rules.Pass, "cloud-init is installed (command found, no package)"},
		{"non-executable command", with(ubuntuTree(), "usr/bin/cloud-init", fixtures.File("x", 0o644)), rules.Options{}, rules.Fail, "cloud-init is not installed: no package and no cloud-init command"},
		{"parity command", with(ubuntuTree(), "usr/local/bin/cloud-init", cmd), parity, rules.Pass, "Cloud-init is installed."},
		{"parity package only", ubuntuTree(stanza("cloud-init", "24.1.3-0ubuntu1~22.04.1", installed)), parity, rules.Fail, "No valid verison of cloud-init was found."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := expectOne(t, runRule(t, testGuest(t, c.tree), "cloudinit.installed", c.opts), c.level, c.msg)
			if c.opts.Profile == rules.ImgCheck && !imgcheck.Counted(f) {
				t.Error("parity finding not counted")
			}
		})
	}
}

func TestCloudInitInstalledCorruptStatus(t *testing.T) {
	tree := ubuntuTree()
	tree["var/lib/dpkg/status"] = fixtures.File("Package: x\nthis is not a field\n", 0o644)
	fs := runRule(t, testGuest(t, tree), "cloudinit.installed", rules.Options{})
	if fs[0].Level != rules.Error {
		t.Fatalf("corrupt status without command: %+v, want ERROR", fs)
	}
}

func TestCloudInitVersion(t *testing.T) {
	versionPy := "usr/local/lib/python3.10/dist-packages/cloudinit/version.py"
	cases := []struct {
		name  string
		tree  fstest.MapFS
		level rules.Level
	}{
		{"0.7.5 fails", ubuntuTree(stanza("cloud-init", "0.7.5-0ubuntu1", installed)), rules.Fail},
		{"0.7.7 warns", ubuntuTree(stanza("cloud-init", "0.7.7", installed)), rules.Warn},
		{"24.1.3 passes", ubuntuTree(stanza("cloud-init", "24.1.3-0ubuntu1~22.04.1", installed)), rules.Pass},
		{"epoch stripped", ubuntuTree(stanza("cloud-init", "1:0.7.5-1", installed)), rules.Fail},
		{"pip install", with(ubuntuTree(), "usr/local/bin/cloud-init", fixtures.File("#!/usr/bin/python3\n", 0o755),
			versionPy, fixtures.File("__VERSION__ = \"23.4.1\"\n_PACKAGED_VERSION = '@@PACKAGED_VERSION@@'\n", 0o644)), rules.Pass},
		{"pip install old", with(ubuntuTree(), "usr/local/bin/cloud-init", fixtures.File("#!/usr/bin/python3\n", 0o755),
			versionPy, fixtures.File("__VERSION__ = '0.7.8'\n", 0o644)), rules.Warn},
		{"unknown version", with(ubuntuTree(), "usr/bin/cloud-init", fixtures.File("#!/usr/bin/python3\n", 0o755)), rules.Warn},
		{"not installed", ubuntuTree(), rules.Skip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "cloudinit.version", rules.Options{})
			if len(fs) != 1 || fs[0].Level != c.level {
				t.Fatalf("got %+v, want one %s", fs, c.level)
			}
		})
	}
}

func TestCloudInitEnabled(t *testing.T) {
	cases := []struct {
		name  string
		tree  fstest.MapFS
		level rules.Level
		n     int
	}{
		{"stock", with(ubuntuTree(), "etc/default/grub", fixtures.File("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n", 0o644)), rules.Pass, 1},
		{"disabled marker", with(ubuntuTree(), "etc/cloud/cloud-init.disabled", fixtures.File("", 0o644)), rules.Fail, 1},
		{"kernel command line", with(ubuntuTree(), "etc/default/grub.d/50-cloudimg.cfg", fixtures.File("GRUB_CMDLINE_LINUX=\"console=ttyS0 cloud-init=disabled\"\n", 0o644)), rules.Fail, 1},
		{"cloud-final masked", with(ubuntuTree(), "etc/systemd/system/cloud-final.service", fixtures.Symlink("/dev/null")), rules.Fail, 1},
		{"cloud-init-local masked by empty file, plus marker", with(ubuntuTree(),
			"etc/systemd/system/cloud-init-local.service", fixtures.File("", 0o644),
			"etc/cloud/cloud-init.disabled", fixtures.File("", 0o644)), rules.Fail, 2},
		{"directory inside grub.d", with(ubuntuTree(), "etc/default/grub.d/old", fixtures.Dir(0o755)), rules.Pass, 1},
		{"unrelated unit masked", with(ubuntuTree(), "etc/systemd/system/apt-daily.service", fixtures.Symlink("/dev/null")), rules.Pass, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "cloudinit.enabled", rules.Options{})
			if len(fs) != c.n {
				t.Fatalf("got %d findings, want %d: %+v", len(fs), c.n, fs)
			}
			for _, f := range fs {
				if f.Level != c.level {
					t.Errorf("got %s %q, want %s", f.Level, f.Message, c.level)
				}
			}
		})
	}
}
