package facts

import (
	"cmp"
	"net/netip"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// StaticConfig is one static address or MAC-pinned interface in network
// configuration that cloud-init does not regenerate.
type StaticConfig struct {
	Path    string // guest path of the file
	Line    int    // 1-based line, 0 when unknown
	Iface   string // interface, connection or match name
	Address string // the static address, "" for a MAC pin
	MAC     string // the pinned MAC address, "" for an address
}

// cloudInitNetplan is the netplan file cloud-init writes on every boot.
const cloudInitNetplan = "50-cloud-init.yaml"

// StaticConfigs returns the static addresses and MAC pins of ifupdown
// (following source), netplan (but cloud-init's own file), NetworkManager
// keyfiles, systemd-networkd and RHEL ifcfg files.
func (f *Facts) StaticConfigs() ([]StaticConfig, error) {
	return Memo(f, "static-configs", func() ([]StaticConfig, error) {
		var out []StaticConfig
		for _, read := range []func() ([]StaticConfig, error){f.ifupdownStatic, f.netplanStatic, f.keyfileStatic, f.networkdStatic, f.ifcfgStatic} {
			c, err := read()
			if err != nil {
				return nil, err
			}
			out = append(out, c...)
		}
		return out, nil
	})
}

func (f *Facts) ifupdownStatic() ([]StaticConfig, error) {
	var out []StaticConfig
	var cur *StaticConfig // the open "inet static" stanza
	err := f.IfupdownStanzas(func(p string, line int, fields []string) {
		switch fields[0] {
		case "iface":
			cur = nil
			if len(fields) >= 4 && fields[3] == "static" {
				out = append(out, StaticConfig{Path: p, Line: line, Iface: fields[1]})
				cur = &out[len(out)-1]
			}
		case "auto", "mapping", "rename", "no-auto-down", "no-scripts":
			cur = nil
		case "address":
			if cur != nil && len(fields) > 1 && cur.Address == "" {
				cur.Address = fields[1]
			}
		case "hwaddress":
			if cur != nil && len(fields) > 1 {
				cur.MAC = fields[len(fields)-1]
			}
		default:
			if strings.HasPrefix(fields[0], "allow-") {
				cur = nil
			}
		}
	})
	return out, err
}

// netplanStaticDoc is the part of a netplan file static detection reads.
type netplanStaticDoc struct {
	Network map[string]yaml.Node `yaml:"network"`
}

// netplanIface is one device of a netplan file.
type netplanIface struct {
	Addresses yaml.Node `yaml:"addresses"`
	Match     struct {
		MAC yaml.Node `yaml:"macaddress"`
	} `yaml:"match"`
	MAC yaml.Node `yaml:"macaddress"`
}

// netplanSections are the device kinds of a netplan file.
var netplanSections = []string{"ethernets", "bonds", "bridges", "vlans", "wifis"}

func (f *Facts) netplanStatic() ([]StaticConfig, error) {
	files, err := f.configFiles("etc/netplan", ".yaml")
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(p string) bool { return path.Base(p) == cloudInitNetplan })
	var out []StaticConfig
	err = f.configEach(files, func(p string, b []byte) {
		var d netplanStaticDoc
		if yaml.Unmarshal(b, &d) != nil {
			return
		}
		for _, sec := range netplanSections {
			n, ok := d.Network[sec]
			if !ok {
				continue
			}
			var devs map[string]netplanIface
			if n.Decode(&devs) != nil {
				continue
			}
			ids := slices.Sorted(func(yield func(string) bool) {
				for id := range devs {
					if !yield(id) {
						return
					}
				}
			})
			for _, id := range ids {
				dev := devs[id]
				for _, a := range dev.Addresses.Content {
					addr := a.Value
					if a.Kind == yaml.MappingNode && len(a.Content) > 0 { // "- 10.0.0.5/24: {lifetime: 0}"
						addr = a.Content[0].Value
					}
					out = append(out, StaticConfig{Path: "/" + p, Line: a.Line, Iface: id, Address: addr})
				}
				for _, m := range []yaml.Node{dev.Match.MAC, dev.MAC} {
					if m.Value != "" {
						out = append(out, StaticConfig{Path: "/" + p, Line: m.Line, Iface: id, MAC: m.Value})
					}
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// keyfileDir holds NetworkManager's connection profiles.
const keyfileDir = "etc/NetworkManager/system-connections"

func (f *Facts) keyfileStatic() ([]StaticConfig, error) {
	files, err := f.configFiles(keyfileDir, "")
	if err != nil {
		return nil, err
	}
	var out []StaticConfig
	err = f.configEach(files, func(p string, b []byte) {
		var id, ifname string
		var found []StaticConfig
		manual := map[string]int{} // section -> line of method=manual
		addrs := map[string]StaticConfig{}
		IniLines(b, func(sec, k, v string, line int) {
			switch {
			case sec == "connection" && k == "id":
				id = v
			case sec == "connection" && k == "interface-name":
				ifname = v
			case (sec == "ipv4" || sec == "ipv6") && k == "method" && v == "manual":
				manual[sec] = line
			case (sec == "ipv4" || sec == "ipv6") && strings.HasPrefix(k, "address") && v != "":
				if _, dup := addrs[sec]; !dup {
					a, _, _ := strings.Cut(v, ",") // address1=10.0.0.5/24,10.0.0.1
					addrs[sec] = StaticConfig{Path: "/" + p, Line: line, Address: a}
				}
			case (sec == "ethernet" || sec == "802-3-ethernet") && k == "mac-address" && v != "":
				found = append(found, StaticConfig{Path: "/" + p, Line: line, MAC: v})
			}
		})
		for _, sec := range []string{"ipv4", "ipv6"} {
			if line, ok := manual[sec]; ok {
				c := addrs[sec]
				if c.Path == "" {
					c = StaticConfig{Path: "/" + p, Line: line}
				}
				found = append(found, c)
			}
		}
		name := cmp.Or(ifname, id, strings.TrimSuffix(path.Base(p), ".nmconnection"))
		for i := range found {
			found[i].Iface = name
		}
		slices.SortFunc(found, func(a, b StaticConfig) int { return a.Line - b.Line })
		out = append(out, found...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (f *Facts) networkdStatic() ([]StaticConfig, error) {
	files, err := f.NetworkdFiles()
	if err != nil {
		return nil, err
	}
	var out []StaticConfig
	err = f.configEach(files, func(p string, b []byte) {
		name := strings.TrimSuffix(path.Base(p), ".network")
		var found []StaticConfig
		IniLines(b, func(sec, k, v string, line int) {
			switch {
			case sec == "Match" && k == "Name" && v != "":
				name = v
			case (sec == "Network" || sec == "Address") && k == "Address" && v != "" && !poolAddress(v):
				found = append(found, StaticConfig{Path: "/" + p, Line: line, Address: v})
			case sec == "Match" && k == "MACAddress" && v != "":
				found = append(found, StaticConfig{Path: "/" + p, Line: line, MAC: v})
			}
		})
		for i := range found {
			found[i].Iface = name
		}
		out = append(out, found...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// poolAddress reports whether a networkd Address= asks for a range from
// the system-wide pool (0.0.0.0/N or ::/N, as systemd's own
// 80-container-ve.network does) rather than naming a static address.
func poolAddress(v string) bool {
	p, err := netip.ParsePrefix(v)
	return err == nil && p.Addr().IsUnspecified()
}

func (f *Facts) ifcfgStatic() ([]StaticConfig, error) {
	files, err := f.IfcfgFiles()
	if err != nil {
		return nil, err
	}
	var out []StaticConfig
	err = f.configEach(files, func(p string, b []byte) {
		v := ShellVars(b)
		dev := cmp.Or(v["DEVICE"].Value, strings.TrimPrefix(path.Base(p), "ifcfg-"))
		proto := strings.ToLower(v["BOOTPROTO"].Value)
		if ip := v["IPADDR"]; ip.Value != "" && (proto == "static" || proto == "none" || proto == "") {
			out = append(out, StaticConfig{Path: "/" + p, Line: ip.Line, Iface: dev, Address: ip.Value})
		}
		if hw := v["HWADDR"]; hw.Value != "" {
			out = append(out, StaticConfig{Path: "/" + p, Line: hw.Line, Iface: dev, MAC: hw.Value})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
