package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

// cloud-init configuration rules: whether a Droplet's metadata (SSH keys,
// user data, network) will be read, and whether the network comes up
// when cloud-init's networking is switched off.

var cloudinitDatasourceRule = Rule{
	ID: "cloudinit.datasource", Title: "cloud-init's datasources reach DigitalOcean's metadata",
	Check: checkCloudInitDatasource,
}

var cloudinitNetworkRule = Rule{
	ID: "cloudinit.network", Title: "The network comes up by DHCP when cloud-init's networking is disabled",
	Check: checkCloudInitNetwork,
}

// doDatasources are the datasources that read a Droplet's metadata.
var doDatasources = []string{"ConfigDrive", "DigitalOcean"}

// dsIndex returns the position of the first of names in list, or -1.
// Names compare exactly: cloud-init imports DataSource<name> by that name.
func dsIndex(list []string, names ...string) int {
	return slices.IndexFunc(list, func(s string) bool { return slices.Contains(names, s) })
}

// dsEvidence is the evidence every cloudinit.datasource finding carries.
func dsEvidence(c *facts.CloudConfig) []KV {
	ev := []KV{{"datasource_list", "built-in default"}, {KeySource, "built-in default of the installed cloud-init"}}
	if c.DatasourcesFrom != "" {
		ev = []KV{{"datasource_list", "[" + strings.Join(c.Datasources, ", ") + "]"}, {KeySource, c.DatasourcesFrom}}
	}
	for _, p := range c.Invalid {
		ev = append(ev, KV{"ignored", p + " (not a YAML mapping: cloud-init ignores it)"})
	}
	return ev
}

func checkCloudInitDatasource(in *Input) []Finding {
	c, err := in.Facts.CloudConfig()
	if err != nil {
		return []Finding{in.Fault("/etc/cloud", err)}
	}
	seeds, err := in.Facts.NoCloudSeeds()
	if err != nil {
		return []Finding{in.Fault("NoCloud seed", err)}
	}
	ev := dsEvidence(c)
	if c.DatasourcesFrom == "" {
		return []Finding{in.New(Pass, "datasource_list", "no datasource_list is set: the installed cloud-init's built-in list (ConfigDrive and DigitalOcean included) applies and ds-identify picks the platform", ev...)}
	}
	list := "[" + strings.Join(c.Datasources, ", ") + "]"
	do := dsIndex(c.Datasources, doDatasources...)
	if do < 0 {
		f := in.New(Fail, c.DatasourcesFrom, fmt.Sprintf("datasource_list %s set by %s has neither ConfigDrive nor DigitalOcean: a Droplet's metadata, SSH keys and user data are never read", list, c.DatasourcesFrom), ev...)
		f.Fix = "rm " + c.DatasourcesFrom + " (or set datasource_list: [ ConfigDrive, DigitalOcean, None ] in it)"
		return []Finding{f}
	}
	nc := dsIndex(c.Datasources, "NoCloud", "NoCloudNet")
	if nc >= 0 && nc < do && len(seeds) > 0 {
		var out []Finding
		for _, s := range seeds {
			sev := append(slices.Clone(ev), KV{"seed", s.Path})
			if s.Line > 0 {
				sev = append(sev, KV{KeyLine, strconv.Itoa(s.Line)})
			}
			what := "a NoCloud seed " + s.Path
			fix := "rm -r " + s.Path[:strings.LastIndex(s.Path, "/")]
			if s.Line > 0 {
				what = fmt.Sprintf("ds=nocloud on the kernel command line (%s:%d)", s.Path, s.Line)
				fix = "remove ds=nocloud from the kernel command line in " + s.Path + " and run update-grub"
			}
			f := in.New(Fail, s.Path, fmt.Sprintf("%s is in the image and NoCloud comes before %s in datasource_list %s (%s): the seed wins on first boot and the Droplet's metadata is never read",
				what, c.Datasources[do], list, c.DatasourcesFrom), sev...)
			f.Fix = fix
			out = append(out, f)
		}
		return out
	}
	msg := fmt.Sprintf("datasource_list %s set by %s includes %s", list, c.DatasourcesFrom, c.Datasources[do])
	if nc >= 0 && nc < do {
		msg += "; NoCloud comes first but the image holds no NoCloud seed, so it finds nothing and cloud-init moves on (the Debian/Ubuntu packaging default)"
	}
	return []Finding{in.New(Pass, c.DatasourcesFrom, msg, ev...)}
}

func checkCloudInitNetwork(in *Input) []Finding {
	c, err := in.Facts.CloudConfig()
	if err != nil {
		return []Finding{in.Fault("/etc/cloud", err)}
	}
	if !c.NetworkDisabled() {
		ev := []KV{{"network_config", "enabled"}}
		if c.NetworkFrom != "" {
			ev = append(ev, KV{KeySource, c.NetworkFrom})
		}
		return []Finding{in.New(Pass, "network", "cloud-init configures the network from the Droplet's metadata", ev...)}
	}
	dhcp, err := in.Facts.DHCPConfigs()
	if err != nil {
		return []Finding{in.Fault("network configuration", err)}
	}
	ev := []KV{{"network_config", "disabled"}, {KeySource, c.NetworkFrom}}
	var named []string
	for _, d := range dhcp {
		v := d.Path
		if d.Line > 0 {
			v += ":" + strconv.Itoa(d.Line)
		}
		ev = append(ev, KV{"dhcp", v + " " + d.Iface})
		if d.Every {
			f := in.New(Pass, c.NetworkFrom, fmt.Sprintf("cloud-init's networking is disabled by %s, and %s brings every interface (%s) up by DHCP", c.NetworkFrom, d.Path, d.Iface), ev...)
			f.Approximate = true
			return []Finding{f}
		}
		named = append(named, d.Iface)
	}
	fix := "rm " + c.NetworkFrom + " (cloud-init then writes the Droplet's network configuration), or configure DHCP for every interface (netplan: match: {name: \"e*\"}, dhcp4: true)"
	msg := fmt.Sprintf("cloud-init's networking is disabled by %s and the image's own configuration brings no interface up by DHCP: the Droplet will have no network", c.NetworkFrom)
	if len(named) > 0 {
		slices.Sort(named)
		msg = fmt.Sprintf("cloud-init's networking is disabled by %s and the image's own configuration uses DHCP only on %s: a Droplet's interfaces may have other names and stay down", c.NetworkFrom, strings.Join(slices.Compact(named), ", "))
	}
	f := in.New(Warn, c.NetworkFrom, msg, ev...)
	f.Fix, f.Approximate = fix, true
	return []Finding{f}
}
