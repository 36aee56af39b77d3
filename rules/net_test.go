package rules_test

import (
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestNetStaticConfig(t *testing.T) {
	type want struct{ path, line, iface, address, mac string }
	cases := []struct {
		name string
		tree fstest.MapFS
		want []want // none: PASS
	}{
		{"nothing", ubuntuTree(), nil},
		{"ifupdown dhcp", with(ubuntuTree(), "etc/network/interfaces", cfgFile("auto eth0\niface eth0 inet dhcp\n")), nil},
		{"ifupdown static via source", with(ubuntuTree(),
			"etc/network/interfaces", cfgFile("auto lo\niface lo inet loopback\nsource interfaces.d/*.cfg\n"),
			"etc/network/interfaces.d/eth0.cfg", cfgFile("auto eth0\niface eth0 inet static\n    address 203.0.113.7/24\n    gateway 203.0.113.1\niface eth0 inet6 static\n  address 2001:db8::7/64\n"),
			"etc/network/interfaces.d/eth0.bak", cfgFile("iface eth0 inet static\n address 10.9.9.9\n")),
			[]want{{"/etc/network/interfaces.d/eth0.cfg", "2", "eth0", "203.0.113.7/24", ""}, {"/etc/network/interfaces.d/eth0.cfg", "5", "eth0", "2001:db8::7/64", ""}}},
		{"netplan static and MAC match", with(ubuntuTree(),
			"etc/netplan/00-installer-config.yaml", cfgFile("network:\n  version: 2\n  ethernets:\n    ens3:\n      match:\n        macaddress: 52:54:00:12:34:56\n      addresses:\n        - 203.0.113.7/24\n      routes: [{to: default, via: 203.0.113.1}]\n"),
			"etc/netplan/50-cloud-init.yaml", cfgFile("network:\n  ethernets:\n    eth0:\n      addresses: [10.0.0.5/16]\n")),
			[]want{{"/etc/netplan/00-installer-config.yaml", "8", "ens3", "203.0.113.7/24", ""}, {"/etc/netplan/00-installer-config.yaml", "6", "ens3", "", "52:54:00:12:34:56"}}},
		{"networkd pool addresses (systemd's own container files)", with(ubuntuTree(),
			"usr/lib/systemd/network/80-container-ve.network", cfgFile("[Match]\nName=ve-*\nDriver=veth\n\n[Network]\nAddress=0.0.0.0/28\nLinkLocalAddressing=yes\nDHCPServer=yes\nIPMasquerade=both\n"),
			"usr/lib/systemd/network/80-6rd.network", cfgFile("[Network]\nAddress=::/64\n")), nil},
		{"netplan dhcp", with(ubuntuTree(), "etc/netplan/01-dhcp.yaml", cfgFile("network:\n  ethernets:\n    all:\n      match: {name: \"e*\"}\n      dhcp4: true\n")), nil},
		{"NetworkManager keyfile", with(ubuntuTree(),
			"etc/NetworkManager/system-connections/Wired.nmconnection", fixtures.File("[connection]\nid=Wired\ninterface-name=enp1s0\n\n[ethernet]\nmac-address=52:54:00:AA:BB:CC\n\n[ipv4]\naddress1=192.0.2.10/24,192.0.2.1\nmethod=manual\n", 0o600)),
			[]want{{"/etc/NetworkManager/system-connections/Wired.nmconnection", "6", "enp1s0", "", "52:54:00:AA:BB:CC"}, {"/etc/NetworkManager/system-connections/Wired.nmconnection", "9", "enp1s0", "192.0.2.10/24", ""}}},
		{"NetworkManager auto", with(ubuntuTree(), "etc/NetworkManager/system-connections/a.nmconnection", fixtures.File("[connection]\nid=a\n[ipv4]\nmethod=auto\n", 0o600)), nil},
		{"networkd", with(ubuntuTree(),
			"etc/systemd/network/10-static.network", cfgFile("[Match]\nMACAddress=52:54:00:00:00:01\n\n[Network]\nAddress=198.51.100.4/24\nGateway=198.51.100.1\n")),
			[]want{{"/etc/systemd/network/10-static.network", "2", "10-static", "", "52:54:00:00:00:01"}, {"/etc/systemd/network/10-static.network", "5", "10-static", "198.51.100.4/24", ""}}},
		{"ifcfg", with(ubuntuTree(),
			"etc/sysconfig/network-scripts/ifcfg-eth0", cfgFile("DEVICE=eth0\nBOOTPROTO=none\nIPADDR=192.0.2.44\nPREFIX=24\nHWADDR=52:54:00:de:ad:01\n"),
			"etc/sysconfig/network-scripts/ifcfg-eth1", cfgFile("DEVICE=eth1\nBOOTPROTO=dhcp\n"),
			"etc/sysconfig/network-scripts/ifcfg-lo", cfgFile("DEVICE=lo\nIPADDR=127.0.0.1\n")),
			[]want{{"/etc/sysconfig/network-scripts/ifcfg-eth0", "3", "eth0", "192.0.2.44", ""}, {"/etc/sysconfig/network-scripts/ifcfg-eth0", "5", "eth0", "", "52:54:00:de:ad:01"}}},
		{"broken netplan ignored", with(ubuntuTree(), "etc/netplan/99-bad.yaml", cfgFile("network: [\n")), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := runRule(t, testGuest(t, c.tree), "net.static-config", rules.Options{})
			if len(c.want) == 0 {
				if len(fs) != 1 || fs[0].Level != rules.Pass {
					t.Fatalf("%+v, want one PASS", fs)
				}
				return
			}
			if len(fs) != len(c.want) {
				t.Fatalf("%d findings, want %d: %+v", len(fs), len(c.want), fs)
			}
			for i, w := range c.want {
				f := fs[i]
				got := want{f.Get("path"), f.Get("line"), f.Get("interface"), f.Get("address"), f.Get("mac")}
				if f.Level != rules.Warn || got != w || f.Fix == "" {
					t.Errorf("finding %d: %s %+v, want WARN %+v", i, f.Level, got, w)
				}
			}
		})
	}
}

func TestNetStaticConfigQuietOnSamples(t *testing.T) {
	for name, tree := range map[string]fstest.MapFS{"demo": fixtures.DemoTree(), "realistic": fixtures.RealisticTree(fixtures.RealisticOptions{})} {
		if fs := runRule(t, testGuest(t, tree), "net.static-config", rules.Options{}); len(fs) != 1 || fs[0].Level != rules.Pass {
			t.Errorf("%s: %+v, want one PASS", name, fs)
		}
	}
}
