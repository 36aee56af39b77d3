package facts

import (
	"bytes"
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// Kernels in /boot and how each provides a driver: its config
// (/boot/config-<ver>) and its module lists (modules.builtin, modules.dep
// under /lib/modules/<ver> or /usr/lib/modules/<ver>), and which initramfs
// goes with it.

// capKernelList caps a kernel config or module list: a distribution
// kernel's modules.dep is under 1 MiB, its config under 300 KB.
const capKernelList = 16 << 20

// BootKernel is a kernel in /boot named with its version.
type BootKernel struct {
	Name    string // "vmlinuz-6.1.0-26-amd64"
	Version string // "6.1.0-26-amd64"
}

// BootKernels lists the non-empty regular files vmlinuz-<ver> and
// vmlinux-<ver> in /boot, one per version, newest first in version order
// (as grub-mkconfig orders its menu, the first entry being its default).
// Rescue kernels (vmlinuz-0-rescue-<machine-id>, dracut's generic
// fallback) are left out, as are unversioned names.
func BootKernels(g *fsinspect.Guest) ([]BootKernel, error) {
	ents, err := ReadDir(g, "boot")
	if err != nil {
		return nil, err
	}
	var out []BootKernel
	for _, e := range ents {
		name := e.Name()
		ver, ok := strings.CutPrefix(name, "vmlinuz-")
		if !ok {
			ver, ok = strings.CutPrefix(name, "vmlinux-")
		}
		if !ok || ver == "" || ver == "." || ver == ".." || strings.Contains(ver, "-rescue-") ||
			slices.ContainsFunc(out, func(k BootKernel) bool { return k.Version == ver }) {
			continue
		}
		fi, err := Stat(g, "boot/"+name)
		if err != nil {
			return nil, err
		}
		if fi != nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			out = append(out, BootKernel{Name: name, Version: ver})
		}
	}
	slices.SortFunc(out, func(a, b BootKernel) int { return -CompareKernelVersions(a.Version, b.Version) })
	return out, nil
}

// CompareKernelVersions orders kernel versions as sort -V (GRUB's
// version_find_latest) does: runs of digits by value, other runs by bytes.
func CompareKernelVersions(a, b string) int {
	for a != "" && b != "" {
		ra, rb := leadingRun(a), leadingRun(b)
		var c int
		if isDigit(ra[0]) && isDigit(rb[0]) {
			na, nb := strings.TrimLeft(ra, "0"), strings.TrimLeft(rb, "0")
			c = cmp.Compare(len(na), len(nb))
			if c == 0 {
				c = strings.Compare(na, nb)
			}
		} else {
			c = strings.Compare(ra, rb)
		}
		if c != 0 {
			return c
		}
		a, b = a[len(ra):], b[len(rb):]
	}
	return cmp.Compare(len(a), len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// leadingRun returns the run of digits, or of other bytes, s starts with.
func leadingRun(s string) string {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i]
}

// Driver names a kernel driver by its module and its config option.
type Driver struct {
	Module string // "virtio_blk"
	Option string // "CONFIG_VIRTIO_BLK"
}

// Provision is how a kernel provides a driver.
type Provision int

// Provisions, from nothing known to built in.
const (
	ProvisionUnknown Provision = iota // no config and no module lists
	ProvisionMissing                  // neither built in nor a module
	ProvisionModule                   // a loadable module
	ProvisionBuiltin                  // built into the kernel image
)

func (p Provision) String() string {
	return [...]string{"unknown", "missing", "module", "built-in"}[p]
}

// DriverState is how one kernel provides one driver, and what says so.
type DriverState struct {
	Driver
	Provision Provision
	Source    string // the guest file that says so: "/lib/modules/<ver>/modules.builtin", "/boot/config-<ver>"
	Path      string // the module as modules.dep names it, for a module
}

// KernelModules is what a kernel's config and module lists say.
type KernelModules struct {
	Version string
	Config  string // guest path of the config read, "" when there is none
	Modules string // guest path of the modules directory, "" when there is none
	Drivers []DriverState
}

// ReadKernelModules reads the config and module lists of kernel version
// ver and says how it provides each driver: built in when modules.builtin
// lists it or the config has =y; a module when modules.dep lists it, or
// the config has =m and there is no modules.dep; missing when any of
// these files exists and none says so; unknown when none exists.
func ReadKernelModules(g *fsinspect.Guest, ver string, drivers ...Driver) (*KernelModules, error) {
	k := &KernelModules{Version: ver}
	dirs := []string{"lib/modules/" + ver, "usr/lib/modules/" + ver}
	fis, errs := StatEach(g, dirs)
	for i, dir := range dirs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if fis[i] != nil && fis[i].IsDir() {
			k.Modules = "/" + dir
			break
		}
	}
	// /boot's config and the module lists are read side by side, and the
	// modules directory's config when /boot has none; they are taken, and
	// a fault reported, in that order.
	var config, builtin, dep []byte
	var configPath, builtinPath, depPath string
	type list struct {
		name string
		into *[]byte
		at   *string
		err  error
	}
	read := func(lists []list) {
		names := make([]string, len(lists))
		for i, l := range lists {
			names[i] = l.name
		}
		bs, errs := readEach(g, names, capKernelList)
		for i := range lists {
			l := &lists[i]
			if l.err = errs[i]; l.err != nil {
				l.err = fmt.Errorf("/%s: %w", l.name, l.err)
			} else if bs[i] != nil {
				*l.into, *l.at = bs[i], "/"+l.name
			}
		}
	}
	lists := []list{{name: "boot/config-" + ver, into: &config, at: &configPath}}
	mod := strings.TrimPrefix(k.Modules, "/")
	if mod != "" {
		lists = append(lists, list{name: mod + "/modules.builtin", into: &builtin, at: &builtinPath},
			list{name: mod + "/modules.dep", into: &dep, at: &depPath})
	}
	read(lists)
	if lists[0].err != nil {
		return nil, lists[0].err
	}
	if mod != "" && config == nil {
		own := []list{{name: mod + "/config", into: &config, at: &configPath}}
		read(own)
		if own[0].err != nil {
			return nil, own[0].err
		}
	}
	for _, l := range lists[1:] {
		if l.err != nil {
			return nil, l.err
		}
	}
	k.Config = configPath
	for _, d := range drivers {
		s := DriverState{Driver: d}
		opt := configValue(config, d.Option)
		switch p, ok := moduleListed(builtin, d.Module); {
		case ok:
			s.Provision, s.Source, s.Path = ProvisionBuiltin, builtinPath, p
		case opt == "y":
			s.Provision, s.Source = ProvisionBuiltin, configPath
		}
		if s.Provision == ProvisionUnknown {
			switch p, ok := moduleListed(dep, d.Module); {
			case ok:
				s.Provision, s.Source, s.Path = ProvisionModule, depPath, p
			case opt == "m" && dep == nil:
				s.Provision, s.Source = ProvisionModule, configPath
			case config != nil || builtin != nil || dep != nil:
				s.Provision, s.Source = ProvisionMissing, strings.Join(nonEmpty(configPath, builtinPath, depPath), ", ")
			}
		}
		k.Drivers = append(k.Drivers, s)
	}
	return k, nil
}

func nonEmpty(s ...string) []string {
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}

// configValue returns the value of option in a kernel config ("y", "m",
// a string), "n" when it says "# OPTION is not set", "" when it does not
// name it.
func configValue(config []byte, option string) string {
	for line := range bytes.Lines(config) {
		line = bytes.TrimSpace(line)
		if v, ok := bytes.CutPrefix(line, []byte(option+"=")); ok {
			return string(v)
		}
		if string(line) == "# "+option+" is not set" {
			return "n"
		}
	}
	return ""
}

// moduleListed finds module in modules.builtin or modules.dep (the path
// before the colon of each line) and returns that path.
func moduleListed(list []byte, module string) (string, bool) {
	for line := range bytes.Lines(list) {
		p, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(":"))
		if ModuleName(string(p)) == module {
			return string(p), true
		}
	}
	return "", false
}

// ModuleName returns the module name of a module file's path: its base
// name without .ko and a compression suffix, '-' read as '_' as modprobe
// reads it ("kernel/drivers/block/virtio_blk.ko.zst" → "virtio_blk"); ""
// when the path is not a module's.
func ModuleName(p string) string {
	base := path.Base(p)
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if name, ok := strings.CutSuffix(base, ext); ok && name != "" {
			return strings.ReplaceAll(name, "-", "_")
		}
	}
	return ""
}

// initramfsNames are the names an initramfs for kernel <ver> has in /boot:
// Debian and Ubuntu's, Fedora/RHEL/Arch's, SUSE's and older RHEL's.
var initramfsNames = []string{"initrd.img-%s", "initramfs-%s.img", "initrd-%s", "initrd-%s.img", "initramfs-%s"}

// Initramfs returns the guest path of the first regular file in /boot
// named as an initramfs for kernel version ver, "" when there is none.
func Initramfs(g *fsinspect.Guest, ver string) (string, error) {
	names := make([]string, len(initramfsNames))
	for i, f := range initramfsNames {
		names[i] = "boot/" + fmt.Sprintf(f, ver)
	}
	fis, errs := StatEach(g, names)
	for i, name := range names {
		if errs[i] != nil {
			return "", errs[i]
		}
		if fis[i] != nil && fis[i].Mode().IsRegular() {
			return "/" + name, nil
		}
	}
	return "", nil
}

// InitramfsNames lists the names Initramfs looks for, for messages.
func InitramfsNames(ver string) []string {
	out := make([]string, len(initramfsNames))
	for i, f := range initramfsNames {
		out[i] = "/boot/" + fmt.Sprintf(f, ver)
	}
	return out
}
