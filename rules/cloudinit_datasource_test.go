package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

const (
	installerCfg = "etc/cloud/cloud.cfg.d/99-installer.cfg"
	dpkgCfg      = "etc/cloud/cloud.cfg.d/90_dpkg.cfg"
	// debianDpkgCfg is what Debian's cloud-init package writes: NoCloud first.
	debianDpkgCfg = "# to update this file, run dpkg-reconfigure cloud-init\n" +
		"datasource_list: [ NoCloud, ConfigDrive, OpenNebula, DigitalOcean, Azure, AltCloud, OVF, MAAS, GCE, OpenStack, CloudSigma, SmartOS, Bigstep, Scaleway, AliYun, Ec2, CloudStack, Hetzner, IBMCloud, Oracle, Exoscale, RbxCloud, UpCloud, VMware, Vultr, LXD, NWCS, Akamai, None ]\n"
	subiquityNetCfg = "etc/cloud/cloud.cfg.d/subiquity-disable-cloudinit-networking.cfg"
)

func cfgFile(s string) *fstest.MapFile { return fixtures.File(s, 0o644) }

func TestCloudInitDatasource(t *testing.T) {
	seed := "var/lib/cloud/seed/nocloud-net/meta-data"
	cases := []struct {
		name     string
		tree     fstest.MapFS
		level    rules.Level
		msg      string // a part of the message
		list     string
		source   string
		evidence map[string]string
	}{
		{"no list anywhere", with(ubuntuTree(), "etc/cloud/cloud.cfg", cfgFile("users: [default]\n")), rules.Pass, "built-in list", "built-in default", "built-in default of the installed cloud-init", nil},
		{"installer None", with(ubuntuTree(), installerCfg, cfgFile("datasource_list: [ None ]\n")), rules.Fail, "has neither ConfigDrive nor DigitalOcean", "[None]", "/" + installerCfg, nil},
		{"installer Ec2, None", with(ubuntuTree(), installerCfg, cfgFile("datasource_list: [ Ec2, None ]\n")), rules.Fail, "never read", "[Ec2, None]", "/" + installerCfg, nil},
		{"block list", with(ubuntuTree(), installerCfg, cfgFile("# installer\ndatasource_list:\n  - ConfigDrive\n  - None\n")), rules.Pass, "includes ConfigDrive", "[ConfigDrive, None]", "/" + installerCfg, nil},
		{"string list", with(ubuntuTree(), installerCfg, cfgFile("datasource_list: 'Ec2, DigitalOcean'\n")), rules.Pass, "includes DigitalOcean", "[Ec2, DigitalOcean]", "/" + installerCfg, nil},
		{"packaging default, no seed", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg)), rules.Pass, "the image holds no NoCloud seed, so it finds nothing and cloud-init moves on (the Debian/Ubuntu packaging default)", "", "/" + dpkgCfg, nil},
		{"installer replaces packaging default", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg), installerCfg, cfgFile("datasource_list: [ None ]\n")), rules.Fail, "has neither", "[None]", "/" + installerCfg, nil},
		{"drop-in replaces cloud.cfg", with(ubuntuTree(), "etc/cloud/cloud.cfg", cfgFile("datasource_list: [ None ]\n"), dpkgCfg, cfgFile("datasource_list: [ DigitalOcean, None ]\n")), rules.Pass, "includes DigitalOcean", "[DigitalOcean, None]", "/" + dpkgCfg, nil},
		{"byte order: 9 after 10", with(ubuntuTree(), "etc/cloud/cloud.cfg.d/9-last.cfg", cfgFile("datasource_list: [ None ]\n"), "etc/cloud/cloud.cfg.d/10-first.cfg", cfgFile("datasource_list: [ DigitalOcean ]\n")), rules.Fail, "has neither", "[None]", "/etc/cloud/cloud.cfg.d/9-last.cfg", nil},
		{"not .cfg, not read", with(ubuntuTree(), installerCfg+".bak", cfgFile("datasource_list: [ None ]\n")), rules.Pass, "built-in list", "built-in default", "built-in default of the installed cloud-init", nil},
		{"invalid YAML ignored", with(ubuntuTree(), dpkgCfg, cfgFile("datasource_list: [ DigitalOcean ]\n"), installerCfg, cfgFile("datasource_list: [ None\n")), rules.Pass, "includes DigitalOcean", "[DigitalOcean]", "/" + dpkgCfg, map[string]string{"ignored": "/" + installerCfg + " (not a YAML mapping: cloud-init ignores it)"}},
		{"names are exact", with(ubuntuTree(), installerCfg, cfgFile("datasource_list: [ digitalocean ]\n")), rules.Fail, "has neither", "[digitalocean]", "/" + installerCfg, nil},
		{"seed and NoCloud first", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg), seed, cfgFile("instance-id: iid-local01\n")), rules.Fail, "a NoCloud seed /" + seed + " is in the image and NoCloud comes before ConfigDrive", "", "/" + dpkgCfg, map[string]string{"seed": "/" + seed}},
		{"ds=nocloud in grub and NoCloud first", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg), "etc/default/grub", cfgFile("GRUB_DEFAULT=0\n# GRUB_CMDLINE_LINUX=\"ds=nocloud\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0 ds=nocloud;s=http://10.0.0.1/\"\n")), rules.Fail, "ds=nocloud on the kernel command line (/etc/default/grub:3)", "", "/" + dpkgCfg, map[string]string{"seed": "/etc/default/grub", "line": "3"}},
		{"ds=nocloud in grub.cfg", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg), "boot/grub/grub.cfg", cfgFile("menuentry 'Debian' {\n\tlinux /vmlinuz root=UUID=x ro ds=nocloud-net\n}\n")), rules.Fail, "(/boot/grub/grub.cfg:2)", "", "/" + dpkgCfg, nil},
		{"seed but DigitalOcean first", with(ubuntuTree(), dpkgCfg, cfgFile("datasource_list: [ DigitalOcean, NoCloud, None ]\n"), seed, cfgFile("instance-id: x\n")), rules.Pass, "includes DigitalOcean", "[DigitalOcean, NoCloud, None]", "/" + dpkgCfg, nil},
		{"empty seed directory", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg), "var/lib/cloud/seed/nocloud", fixtures.Dir(0o755)), rules.Pass, "holds no NoCloud seed", "", "/" + dpkgCfg, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "cloudinit.datasource", rules.Options{})
			f := fs[0]
			if len(fs) != 1 || f.Level != c.level || !strings.Contains(f.Message, c.msg) {
				t.Fatalf("got %d findings, first %s %q; want %s containing %q", len(fs), f.Level, f.Message, c.level, c.msg)
			}
			if c.list != "" && f.Get("datasource_list") != c.list {
				t.Errorf("datasource_list = %q, want %q", f.Get("datasource_list"), c.list)
			}
			if f.Get(rules.KeySource) != c.source {
				t.Errorf("source = %q, want %q", f.Get(rules.KeySource), c.source)
			}
			for k, v := range c.evidence {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
			if c.level == rules.Fail && f.Fix == "" {
				t.Error("FAIL without a fix")
			}
		})
	}
}

func TestCloudInitDatasourceOverCap(t *testing.T) {
	tree := with(ubuntuTree(), installerCfg, cfgFile("# "+strings.Repeat("x", 1<<20)+"\n"))
	fs := runRule(t, testGuest(t, tree), "cloudinit.datasource", rules.Options{})
	if len(fs) != 1 || fs[0].Level != rules.Error {
		t.Fatalf("config over the 1 MiB cap: %+v, want one ERROR", fs)
	}
}

func TestCloudInitNetwork(t *testing.T) {
	disabled := cfgFile("network: {config: disabled}\n")
	nmLink := "etc/systemd/system/multi-user.target.wants/NetworkManager.service"
	cases := []struct {
		name  string
		tree  fstest.MapFS
		level rules.Level
		msg   string
		dhcp  string // first dhcp evidence
	}{
		{"enabled", with(ubuntuTree(), dpkgCfg, cfgFile(debianDpkgCfg)), rules.Pass, "cloud-init configures the network", ""},
		{"disabled, nothing else", with(ubuntuTree(), subiquityNetCfg, disabled), rules.Warn, "brings no interface up by DHCP", ""},
		{"disabled in block style", with(ubuntuTree(), subiquityNetCfg, cfgFile("network:\n  config: disabled\n")), rules.Warn, "brings no interface up by DHCP", ""},
		{"disabled, installer netplan on ens3", with(ubuntuTree(), subiquityNetCfg, disabled,
			"etc/netplan/00-installer-config.yaml", cfgFile("network:\n  ethernets:\n    ens3:\n      dhcp4: true\n  version: 2\n")),
			rules.Warn, "uses DHCP only on ens3", "/etc/netplan/00-installer-config.yaml:4 ens3"},
		{"disabled, netplan match e*", with(ubuntuTree(), subiquityNetCfg, disabled,
			"etc/netplan/01-all.yaml", cfgFile("network:\n  version: 2\n  ethernets:\n    all:\n      match:\n        name: \"e*\"\n      dhcp4: yes\n")),
			rules.Pass, "brings every interface (e*) up by DHCP", "/etc/netplan/01-all.yaml:7 e*"},
		{"disabled, netplan without dhcp", with(ubuntuTree(), subiquityNetCfg, disabled,
			"etc/netplan/01-static.yaml", cfgFile("network:\n  ethernets:\n    eth0:\n      addresses: [10.0.0.5/24]\n")),
			rules.Warn, "brings no interface up by DHCP", ""},
		{"disabled, networkd Name=en*", with(ubuntuTree(), subiquityNetCfg, disabled,
			"etc/systemd/network/20-wired.network", cfgFile("[Match]\nName=en*\n\n[Network]\nDHCP=yes\n")),
			rules.Pass, "every interface (en*)", "/etc/systemd/network/20-wired.network:5 en*"},
		{"disabled, networkd container only", with(ubuntuTree(), subiquityNetCfg, disabled,
			"usr/lib/systemd/network/80-container-host0.network", cfgFile("[Match]\nVirtualization=container\nName=host0\n[Network]\nDHCP=yes\n")),
			rules.Warn, "brings no interface up by DHCP", ""},
		{"disabled, ifupdown via source", with(ubuntuTree(), subiquityNetCfg, disabled,
			"etc/network/interfaces", cfgFile("source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n"),
			"etc/network/interfaces.d/eth0", cfgFile("auto eth0\niface eth0 inet dhcp\n")),
			rules.Warn, "uses DHCP only on eth0", "/etc/network/interfaces.d/eth0:2 eth0"},
		{"disabled, ifcfg", with(ubuntuTree(), subiquityNetCfg, disabled,
			"etc/sysconfig/network-scripts/ifcfg-eth0", cfgFile("DEVICE=eth0\nBOOTPROTO=\"dhcp\"\nONBOOT=yes\n")),
			rules.Warn, "uses DHCP only on eth0", "/etc/sysconfig/network-scripts/ifcfg-eth0:2 eth0"},
		{"disabled, NetworkManager auto", with(ubuntuTree(), subiquityNetCfg, disabled,
			nmLink, fixtures.Symlink("/usr/lib/systemd/system/NetworkManager.service"),
			"usr/lib/systemd/system/NetworkManager.service", cfgFile("[Service]\n")),
			rules.Pass, "every interface (*)", "/" + nmLink + " *"},
		{"disabled, NetworkManager no-auto-default", with(ubuntuTree(), subiquityNetCfg, disabled,
			nmLink, fixtures.Symlink("/usr/lib/systemd/system/NetworkManager.service"),
			"usr/lib/systemd/system/NetworkManager.service", cfgFile("[Service]\n"),
			"etc/NetworkManager/conf.d/10-noauto.conf", cfgFile("[main]\nno-auto-default=*\n")),
			rules.Warn, "brings no interface up by DHCP", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "cloudinit.network", rules.Options{})
			f := fs[0]
			if len(fs) != 1 || f.Level != c.level || !strings.Contains(f.Message, c.msg) {
				t.Fatalf("got %d findings, first %s %q; want %s containing %q", len(fs), f.Level, f.Message, c.level, c.msg)
			}
			if f.Get("dhcp") != c.dhcp {
				t.Errorf("dhcp = %q, want %q", f.Get("dhcp"), c.dhcp)
			}
			if c.level == rules.Warn && (f.Get(rules.KeySource) != "/"+subiquityNetCfg || f.Fix == "") {
				t.Errorf("WARN source %q, fix %q", f.Get(rules.KeySource), f.Fix)
			}
		})
	}
}

// TestCloudInitQuietOnSamples: the sample image (make demo) and the
// realistic Debian image pass both rules.
func TestCloudInitQuietOnSamples(t *testing.T) {
	for name, tree := range map[string]fstest.MapFS{"demo": fixtures.DemoTree(), "realistic": fixtures.RealisticTree(fixtures.RealisticOptions{})} {
		g := testGuest(t, tree)
		for _, id := range []string{"cloudinit.datasource", "cloudinit.network"} {
			if fs := runRule(t, g, id, rules.Options{}); len(fs) != 1 || fs[0].Level != rules.Pass {
				t.Errorf("%s: %s: %+v, want one PASS", name, id, fs)
			}
		}
	}
}
