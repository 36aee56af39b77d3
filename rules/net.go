package rules

import (
	"fmt"
	"strconv"

	"github.com/imgcheck/imgcheck/rules/facts"
)

// Network rules: configuration that pins a Droplet to the build
// machine's addresses or interfaces.

var netStaticConfigRule = Rule{
	ID: "net.static-config", Title: "No static addresses or MAC-pinned interfaces outside cloud-init's configuration",
	Check: checkStaticConfig,
}

func checkStaticConfig(in *Input) []Finding {
	cs, err := in.Facts.StaticConfigs()
	if err != nil {
		return []Finding{in.Fault("network configuration", err)}
	}
	if len(cs) == 0 {
		return []Finding{in.New(Pass, "network", "no static address or MAC-pinned interface outside cloud-init's configuration")}
	}
	out := make([]Finding, 0, len(cs))
	for _, c := range cs {
		out = append(out, staticFinding(in, c))
	}
	return out
}

func staticFinding(in *Input, c facts.StaticConfig) Finding {
	ev := []KV{{KeyPath, c.Path}, {KeyLine, strconv.Itoa(c.Line)}, {"interface", c.Iface}}
	var f Finding
	if c.MAC != "" {
		ev = append(ev, KV{"mac", c.MAC})
		f = in.New(Warn, c.Path, fmt.Sprintf("%s:%d pins %s to MAC address %s: a Droplet's interfaces have other MAC addresses, so this configuration never applies", c.Path, c.Line, c.Iface, c.MAC), ev...)
		f.Fix = "remove the MAC match (netplan match: macaddress, HWADDR=, mac-address=, MACAddress=) or the file, and let cloud-init write the Droplet's network configuration"
		return f
	}
	what := "a static address"
	if c.Address != "" {
		what = "the static address " + c.Address
		ev = append(ev, KV{"address", c.Address})
	}
	f = in.New(Warn, c.Path, fmt.Sprintf("%s:%d gives %s %s: every Droplet made from the image would claim the build machine's address", c.Path, c.Line, c.Iface, what), ev...)
	f.Fix = "switch the interface to DHCP (netplan dhcp4: true; ifupdown inet dhcp; BOOTPROTO=dhcp; method=auto; DHCP=yes) or delete the file and let cloud-init configure the network"
	return f
}
