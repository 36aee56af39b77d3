package facts

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// CloudConfig is what cloud-init's merged system configuration says about
// its datasources and networking: /etc/cloud/cloud.cfg, then
// /etc/cloud/cloud.cfg.d/*.cfg in byte order, a later key replacing an
// earlier one whole, as cloud-init merges them.
type CloudConfig struct {
	// Files are the guest paths read, in merge order.
	Files []string
	// Datasources is the effective datasource_list; nil when no file sets
	// one (the installed cloud-init's built-in default applies).
	Datasources []string
	// DatasourcesFrom is the guest path of the file that set Datasources.
	DatasourcesFrom string
	// NetworkConfig is the effective network: {config: ...} value
	// ("disabled"), "" when no file sets it; NetworkFrom is its file.
	NetworkConfig string
	NetworkFrom   string
	// Invalid lists the files that are not YAML mappings: cloud-init
	// ignores them, with a warning in its log.
	Invalid []string
}

// NetworkDisabled reports whether cloud-init's network configuration is
// switched off.
func (c *CloudConfig) NetworkDisabled() bool {
	return strings.EqualFold(c.NetworkConfig, "disabled")
}

// cloudCfgDoc is the part of one configuration file the rules read.
type cloudCfgDoc struct {
	hasList       bool
	datasources   []string
	hasNetwork    bool
	networkConfig string
}

// parseCloudCfg reads one cloud-init configuration file. An empty file
// or one holding only comments sets nothing; anything but a mapping is an
// error.
func parseCloudCfg(b []byte) (cloudCfgDoc, error) {
	var d cloudCfgDoc
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		return d, err
	}
	if n, ok := top["datasource_list"]; ok {
		d.hasList = true
		switch n.Kind {
		case yaml.SequenceNode:
			for _, e := range n.Content {
				if e.Kind == yaml.ScalarNode && strings.TrimSpace(e.Value) != "" {
					d.datasources = append(d.datasources, strings.TrimSpace(e.Value))
				}
			}
		case yaml.ScalarNode: // "NoCloud, ConfigDrive": cloud-init splits a string on commas
			for _, s := range strings.Split(n.Value, ",") {
				if s = strings.TrimSpace(s); s != "" {
					d.datasources = append(d.datasources, s)
				}
			}
		default:
			return d, fmt.Errorf("datasource_list is not a list (line %d)", n.Line)
		}
	}
	if n, ok := top["network"]; ok && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "config" {
				d.hasNetwork = true
				d.networkConfig = n.Content[i+1].Value // a mapping (a v1/v2 config) leaves ""
			}
		}
	}
	return d, nil
}

// cloudCfgDir is where cloud-init's drop-in configuration lives.
const cloudCfgDir = "etc/cloud/cloud.cfg.d"

// CloudConfig returns cloud-init's merged system configuration. Missing
// files are guest facts; an unreadable file is a fault.
func (f *Facts) CloudConfig() (*CloudConfig, error) {
	return Memo(f, "cloudcfg", func() (*CloudConfig, error) {
		files := []string{"etc/cloud/cloud.cfg"}
		ents, err := ReadDir(f.guest, cloudCfgDir)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".cfg") {
				names = append(names, e.Name())
			}
		}
		slices.Sort(names)
		for _, n := range names {
			files = append(files, path.Join(cloudCfgDir, n))
		}
		c := &CloudConfig{}
		err = ReadInOrder(f.guest, files, CapConfig, func(i int, b []byte) error {
			p := files[i]
			if b == nil {
				return nil
			}
			c.Files = append(c.Files, "/"+p)
			d, err := parseCloudCfg(b)
			if err != nil {
				c.Invalid = append(c.Invalid, "/"+p)
				return nil
			}
			if d.hasList {
				c.Datasources, c.DatasourcesFrom = d.datasources, "/"+p
			}
			if d.hasNetwork {
				c.NetworkConfig, c.NetworkFrom = d.networkConfig, "/"+p
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

// NoCloudSeed is where a NoCloud seed was found in the image.
type NoCloudSeed struct {
	Path string // guest path of the seed file or of the file with ds=nocloud
	Line int    // line of ds=nocloud, 0 for a seed directory
}

// seedDirs are NoCloud's seed directories inside the image.
var seedDirs = []string{"var/lib/cloud/seed/nocloud", "var/lib/cloud/seed/nocloud-net"}

// dsNoCloud matches ds=nocloud (or nocloud-net) as a kernel argument; it
// is compiled on first use, so that start-up does not pay for it.
var dsNoCloud = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(^|[\s"'])ds=nocloud(-net)?([;\s"']|$)`)
})

// NoCloudSeeds returns the NoCloud seeds of the image: a seed directory
// with user-data or meta-data, or ds=nocloud on the kernel command line
// in /etc/default/grub, /etc/default/grub.d/*.cfg or /boot/grub/grub.cfg.
func (f *Facts) NoCloudSeeds() ([]NoCloudSeed, error) {
	return Memo(f, "nocloud-seeds", func() ([]NoCloudSeed, error) {
		var seeds []string
		for _, dir := range seedDirs {
			seeds = append(seeds, path.Join(dir, "user-data"), path.Join(dir, "meta-data"))
		}
		fis, errs := StatEach(f.guest, seeds)
		var out []NoCloudSeed
		for i, p := range seeds {
			if errs[i] != nil {
				return nil, errs[i]
			}
			if fis[i] != nil && fis[i].Mode().IsRegular() {
				out = append(out, NoCloudSeed{Path: "/" + p})
			}
		}
		files := []string{"etc/default/grub"}
		ents, err := ReadDir(f.guest, "etc/default/grub.d")
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".cfg") {
				files = append(files, path.Join("etc/default/grub.d", e.Name()))
			}
		}
		files = append(files, "boot/grub/grub.cfg", "boot/grub2/grub.cfg")
		err = ReadInOrder(f.guest, files, CapConfig, func(k int, b []byte) error {
			for i, line := range slices.Collect(strings.Lines(string(b))) {
				t := strings.TrimSpace(line)
				if strings.HasPrefix(t, "#") || !kernelArgsLine(t) {
					continue
				}
				if dsNoCloud().MatchString(t) {
					out = append(out, NoCloudSeed{Path: "/" + files[k], Line: i + 1})
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	})
}

// kernelArgsLine reports whether a grub line carries kernel arguments:
// GRUB_CMDLINE_LINUX* in /etc/default/grub, a linux line in grub.cfg.
func kernelArgsLine(t string) bool {
	return strings.HasPrefix(t, "GRUB_CMDLINE_LINUX") || strings.HasPrefix(t, "linux") || strings.HasPrefix(t, "set default_kernelopts=")
}
