package facts

import (
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// DHCPConfig is one place where the image's own network configuration
// (not cloud-init's) brings an interface up by DHCP.
type DHCPConfig struct {
	Path  string // guest path of the configuration file
	Line  int    // 1-based line, 0 when the format has none to give
	Iface string // interface name or pattern, "*" for every interface
	// Every is set when the configuration matches any interface name (a
	// glob, or NetworkManager's automatic wired connection): a Droplet's
	// interface names are not known offline.
	Every bool
}

// DHCPConfigs returns the image's own DHCP configurations: netplan
// (every file, cloud-init's included, since a disabled cloud-init no
// longer rewrites it), ifupdown (following source), systemd-networkd,
// RHEL ifcfg files and NetworkManager's automatic wired connection.
func (f *Facts) DHCPConfigs() ([]DHCPConfig, error) {
	return Memo(f, "dhcp-configs", func() ([]DHCPConfig, error) {
		var out []DHCPConfig
		for _, read := range []func() ([]DHCPConfig, error){f.netplanDHCP, f.ifupdownDHCP, f.networkdDHCP, f.ifcfgDHCP, f.networkManagerDHCP} {
			c, err := read()
			if err != nil {
				return nil, err
			}
			out = append(out, c...)
		}
		return out, nil
	})
}

// globbed reports whether an interface name is a pattern.
func globbed(s string) bool { return strings.ContainsAny(s, "*?[") }

// configFiles lists the regular files of dir whose names end in suffix,
// in byte order, as guest paths without the leading slash.
func (f *Facts) configFiles(dir, suffix string) ([]string, error) {
	ents, err := ReadDir(f.guest, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) && !e.IsDir() {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// netplanDoc is the part of a netplan file DHCP detection reads.
type netplanDoc struct {
	Network struct {
		Ethernets map[string]struct {
			DHCP4 yaml.Node `yaml:"dhcp4"`
			DHCP6 yaml.Node `yaml:"dhcp6"`
			Match struct {
				Name string `yaml:"name"`
			} `yaml:"match"`
		} `yaml:"ethernets"`
	} `yaml:"network"`
}

// yamlTrue reports whether a YAML scalar is a boolean true (netplan
// accepts true/yes/on).
func yamlTrue(n yaml.Node) bool {
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on", "y":
		return n.Kind == yaml.ScalarNode
	}
	return false
}

func (f *Facts) netplanDHCP() ([]DHCPConfig, error) {
	files, err := f.configFiles("etc/netplan", ".yaml")
	if err != nil {
		return nil, err
	}
	var out []DHCPConfig
	err = f.configEach(files, func(p string, b []byte) {
		var d netplanDoc
		if yaml.Unmarshal(b, &d) != nil { // netplan refuses the file; nothing comes up from it
			return
		}
		for id, e := range d.Network.Ethernets {
			if !yamlTrue(e.DHCP4) && !yamlTrue(e.DHCP6) {
				continue
			}
			name := id
			if e.Match.Name != "" {
				name = e.Match.Name
			}
			line := e.DHCP4.Line
			if line == 0 {
				line = e.DHCP6.Line
			}
			out = append(out, DHCPConfig{Path: "/" + p, Line: line, Iface: name, Every: globbed(name)})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b DHCPConfig) int { return strings.Compare(a.Path+a.Iface, b.Path+b.Iface) })
	return out, nil
}

func (f *Facts) ifupdownDHCP() ([]DHCPConfig, error) {
	var out []DHCPConfig
	err := f.IfupdownStanzas(func(p string, line int, fields []string) {
		if len(fields) >= 4 && fields[0] == "iface" && fields[3] == "dhcp" {
			out = append(out, DHCPConfig{Path: p, Line: line, Iface: fields[1]})
		}
	})
	return out, err
}

// maxIfupdownFiles bounds how many files `source` may pull in.
const maxIfupdownFiles = 256

// IfupdownStanzas calls each with the fields of every line of
// /etc/network/interfaces and the files it sources (source and
// source-directory, globs expanded in byte order), each file read once.
func (f *Facts) IfupdownStanzas(each func(path string, line int, fields []string)) error {
	seen := map[string]bool{}
	var read func(p string) error
	read = func(p string) error {
		p = strings.TrimPrefix(path.Clean("/"+p), "/")
		if seen[p] || len(seen) >= maxIfupdownFiles {
			return nil
		}
		seen[p] = true
		b, err := ReadIfPresent(f.guest, p, CapConfig)
		if err != nil {
			return err
		}
		n := 0
		for line := range strings.Lines(string(b)) {
			n++
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			switch {
			case fields[0] == "source" && len(fields) > 1:
				if err := f.sourceGlob(fields[1], p, read); err != nil {
					return err
				}
			case fields[0] == "source-directory" && len(fields) > 1:
				if err := f.sourceGlob(path.Join(fields[1], "*"), p, read); err != nil {
					return err
				}
			default:
				each("/"+p, n, fields)
			}
		}
		return nil
	}
	return read("etc/network/interfaces")
}

// sourceGlob expands an ifupdown source pattern (relative to the file's
// directory when not absolute; the glob only in the last element) and
// reads each match.
func (f *Facts) sourceGlob(pattern, from string, read func(string) error) error {
	if !path.IsAbs(pattern) {
		pattern = path.Join("/", path.Dir(from), pattern)
	}
	dir, base := path.Split(pattern)
	if !globbed(base) {
		return read(pattern)
	}
	ents, err := ReadDir(f.guest, strings.TrimPrefix(path.Clean(dir), "/"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if ok, _ := path.Match(base, e.Name()); ok && !e.IsDir() {
			if err := read(path.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// networkdDirs are systemd-networkd's .network directories.
var networkdDirs = []string{"etc/systemd/network", "usr/lib/systemd/network", "lib/systemd/network"}

// NetworkdFiles returns the .network files of systemd-networkd, a name in
// /etc hiding the same name below /usr/lib and /lib.
func (f *Facts) NetworkdFiles() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, dir := range networkdDirs {
		files, err := f.configFiles(dir, ".network")
		if err != nil {
			return nil, err
		}
		for _, p := range files {
			if !seen[path.Base(p)] {
				seen[path.Base(p)] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// IniLines calls each with the section, key, value and line of every
// key=value line of an INI-style file (systemd units, NetworkManager
// keyfiles).
func IniLines(b []byte, each func(section, key, value string, line int)) {
	section, n := "", 0
	for line := range strings.Lines(string(b)) {
		n++
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#' || t[0] == ';':
		case t[0] == '[' && strings.HasSuffix(t, "]"):
			section = t[1 : len(t)-1]
		default:
			if k, v, ok := strings.Cut(t, "="); ok {
				each(section, strings.TrimSpace(k), strings.TrimSpace(v), n)
			}
		}
	}
}

func (f *Facts) networkdDHCP() ([]DHCPConfig, error) {
	files, err := f.NetworkdFiles()
	if err != nil {
		return nil, err
	}
	var out []DHCPConfig
	err = f.configEach(files, func(p string, b []byte) {
		var name string
		var otherMatch bool
		dhcpLine := 0
		IniLines(b, func(sec, k, v string, line int) {
			switch {
			case sec == "Match" && k == "Name":
				name = strings.TrimSpace(name + " " + v)
			case sec == "Match" && k != "Type":
				otherMatch = true // Virtualization=, Driver=...: not for a Droplet's plain interfaces
			case sec == "Network" && k == "DHCP" && slices.Contains([]string{"yes", "true", "ipv4", "both", "ipv6"}, strings.ToLower(v)):
				dhcpLine = line
			}
		})
		if dhcpLine == 0 || otherMatch {
			return
		}
		every := name == "" || globbed(name)
		if name == "" {
			name = "*"
		}
		out = append(out, DHCPConfig{Path: "/" + p, Line: dhcpLine, Iface: name, Every: every})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (f *Facts) ifcfgDHCP() ([]DHCPConfig, error) {
	files, err := f.IfcfgFiles()
	if err != nil {
		return nil, err
	}
	var out []DHCPConfig
	err = f.configEach(files, func(p string, b []byte) {
		vars := ShellVars(b)
		if strings.EqualFold(vars["BOOTPROTO"].Value, "dhcp") {
			dev := vars["DEVICE"].Value
			if dev == "" {
				dev = strings.TrimPrefix(path.Base(p), "ifcfg-")
			}
			out = append(out, DHCPConfig{Path: "/" + p, Line: vars["BOOTPROTO"].Line, Iface: dev})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// configEach reads the network configuration files (each capped at
// CapConfig, a missing one as nil) ReadInOrder's way, a few at a time
// ahead, and hands each to each with its path, in order.
func (f *Facts) configEach(files []string, each func(p string, b []byte)) error {
	return ReadInOrder(f.guest, files, CapConfig, func(i int, b []byte) error {
		each(files[i], b)
		return nil
	})
}

// IfcfgFiles returns RHEL's /etc/sysconfig/network-scripts/ifcfg-* files
// but the loopback's.
func (f *Facts) IfcfgFiles() ([]string, error) {
	files, err := f.configFiles("etc/sysconfig/network-scripts", "")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(files, func(p string) bool {
		b := path.Base(p)
		return !strings.HasPrefix(b, "ifcfg-") || b == "ifcfg-lo"
	}), nil
}

// ShellVar is one NAME=value assignment of a shell-style file.
type ShellVar struct {
	Value string
	Line  int
}

// ShellVars reads the NAME=value lines of a shell-style file (ifcfg,
// /etc/default/*), quotes removed; a later assignment wins.
func ShellVars(b []byte) map[string]ShellVar {
	out := map[string]ShellVar{}
	n := 0
	for line := range strings.Lines(string(b)) {
		n++
		t := strings.TrimSpace(line)
		k, v, ok := strings.Cut(t, "=")
		if !ok || strings.HasPrefix(t, "#") || strings.ContainsAny(k, " \t") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = ShellVar{Value: v, Line: n}
	}
	return out
}

// networkManagerDHCP reports NetworkManager's automatic wired connection:
// an enabled NetworkManager brings every Ethernet interface up by DHCP
// unless no-auto-default=* is set in its configuration.
func (f *Facts) networkManagerDHCP() ([]DHCPConfig, error) {
	u, err := f.Unit("NetworkManager.service")
	if err != nil || !u.Active() {
		return nil, err
	}
	confs := []string{"etc/NetworkManager/NetworkManager.conf"}
	for _, dir := range []string{"usr/lib/NetworkManager/conf.d", "etc/NetworkManager/conf.d"} {
		c, err := f.configFiles(dir, ".conf")
		if err != nil {
			return nil, err
		}
		confs = append(confs, c...)
	}
	noAuto := false
	err = f.configEach(confs, func(_ string, b []byte) {
		IniLines(b, func(sec, k, v string, _ int) {
			if sec == "main" && k == "no-auto-default" {
				noAuto = slices.Contains(strings.Split(v, ","), "*")
			}
		})
	})
	if err != nil {
		return nil, err
	}
	if noAuto {
		return nil, nil
	}
	return []DHCPConfig{{Path: u.Link, Iface: "*", Every: true}}, nil
}
