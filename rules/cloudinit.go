package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var cloudinitInstalledRule = Rule{
	ID: "cloudinit.installed", Title: "cloud-init is installed",
	Check: checkCloudInitInstalled,
}

var cloudinitVersionRule = Rule{
	ID: "cloudinit.version", Title: "cloud-init is version 0.7.9 or later",
	Check: checkCloudInitVersion,
}

var cloudinitEnabledRule = Rule{
	ID: "cloudinit.enabled", Title: "cloud-init is not disabled",
	Check: checkCloudInitEnabled,
}

// cloudInit is what the image holds of cloud-init.
type cloudInit struct {
	pkg     *facts.Package // installed package, or nil
	command string         // guest path of the command, or ""
	pkgErr  error          // the package database fault, if any
}

// cloudInitFacts looks up the cloud-init command and package; a package
// database fault is kept in pkgErr, since the command alone may decide.
func cloudInitFacts(in *Input) (cloudInit, error) {
	var c cloudInit
	cmd, err := in.Facts.LookPath("cloud-init")
	if err != nil {
		return c, err
	}
	c.command = cmd
	db, err := in.Facts.Packages()
	if err != nil {
		c.pkgErr = err
		return c, nil
	}
	if p := db.Installed("cloud-init"); len(p) > 0 {
		c.pkg = p[0]
	}
	return c, nil
}

// checkCloudInitInstalled is cloudinit.installed: the package or the
// command.
func checkCloudInitInstalled(in *Input) []Finding {
	c, err := cloudInitFacts(in)
	if err != nil {
		return []Finding{in.Fault("cloud-init command", err)}
	}
	switch {
	case c.pkg != nil:
		return []Finding{in.New(Pass, "cloud-init", "cloud-init is installed", KV{KeyPackage, c.pkg.Name}, KV{KeyVersion, c.pkg.Version}, KV{KeyPath, c.command})}
	case c.command != "":
		ev := []KV{{KeyPath, c.command}}
		if c.pkgErr != nil {
			ev = append(ev, KV{KeyReason, "package database unreadable: " + c.pkgErr.Error()})
		}
		return []Finding{in.New(Pass, "cloud-init", "cloud-init is installed (command found, no package)", ev...)}
	case c.pkgErr != nil:
		return []Finding{in.Fault("package database", c.pkgErr)}
	}
	f := in.New(Fail, "cloud-init", "cloud-init is not installed: no package and no cloud-init command")
	f.Fix = "install cloud-init (apt-get install cloud-init / yum install cloud-init)"
	return []Finding{f}
}

// cloud-init version thresholds.
const (
	cloudInitMin         = "0.7.6"
	cloudInitRecommended = "0.7.9"
)

var versionPyRE = lazyRegexp(`(?m)^__VERSION__\s*=\s*["']([^"']+)["']`)

// checkCloudInitVersion is cloudinit.version.
func checkCloudInitVersion(in *Input) []Finding {
	c, err := cloudInitFacts(in)
	if err != nil {
		return []Finding{in.Fault("cloud-init command", err)}
	}
	if c.pkg == nil && c.command == "" {
		if c.pkgErr != nil {
			return []Finding{in.Fault("package database", c.pkgErr)}
		}
		return []Finding{in.Skip(NotApplicable, "cloud-init is not installed (cloudinit.installed)")}
	}
	var ver string
	var ev []KV
	if c.pkg != nil {
		ver = c.pkg.Upstream()
		ev = []KV{{KeyPackage, c.pkg.Name}, {KeyVersion, c.pkg.Version}}
	} else {
		v, p, err := cloudInitVersionPy(in)
		if err != nil {
			return []Finding{in.Fault("cloudinit/version.py", err)}
		}
		ver = v
		if p != "" {
			ev = append(ev, KV{KeyPath, p})
		}
		if v != "" {
			ev = append(ev, KV{KeyVersion, v})
		}
	}
	fix := "upgrade cloud-init to " + cloudInitRecommended + " or later"
	var f Finding
	switch {
	case ver == "":
		f = in.New(Warn, "cloud-init", "cloud-init version could not be determined", ev...)
	case facts.DebCompare(ver, cloudInitMin) < 0:
		f = in.New(Fail, "cloud-init", fmt.Sprintf("cloud-init %s is older than %s", ver, cloudInitMin), ev...)
	case facts.DebCompare(ver, cloudInitRecommended) < 0:
		f = in.New(Warn, "cloud-init", fmt.Sprintf("cloud-init %s is older than the recommended %s", ver, cloudInitRecommended), ev...)
	default:
		return []Finding{in.New(Pass, "cloud-init", "cloud-init "+ver+" is recent enough", ev...)}
	}
	f.Fix = fix
	return []Finding{f}
}

// pythonLibDirs hold python3 site-packages and dist-packages directories.
var pythonLibDirs = []string{"usr/lib", "usr/local/lib", "usr/lib64", "usr/local/lib64"}

// cloudInitVersionPy finds __VERSION__ in cloudinit/version.py under any
// python3 site-packages or dist-packages directory.
func cloudInitVersionPy(in *Input) (version, where string, err error) {
	for _, base := range pythonLibDirs {
		ents, err := facts.ReadDir(in.Guest, base)
		if err != nil {
			return "", "", err
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "python3") {
				continue
			}
			for _, sub := range []string{"dist-packages", "site-packages"} {
				p := path.Join(base, e.Name(), sub, "cloudinit/version.py")
				b, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
				if err != nil {
					return "", "", err
				}
				if b == nil {
					continue
				}
				if m := versionPyRE().FindSubmatch(b); m != nil {
					return string(m[1]), "/" + p, nil
				}
				return "", "/" + p, nil
			}
		}
	}
	return "", "", nil
}

// cloudInitUnit matches the units whose mask disables cloud-init.
var cloudInitUnit = lazyRegexp(`^(cloud-init.*|cloud-config|cloud-final)\.service$`)

var grubDisabled = lazyRegexp(`(^|[\s"'])cloud-init=disabled($|[\s"'])`)

// checkCloudInitEnabled is cloudinit.enabled: the disabled marker, the
// kernel command line and masked units.
func checkCloudInitEnabled(in *Input) []Finding {
	var out []Finding
	fix := "Re-enable cloud-init: first-boot scripts and SSH key injection depend on it"
	if fi, err := facts.Lstat(in.Guest, "etc/cloud/cloud-init.disabled"); err != nil {
		return []Finding{in.Fault("/etc/cloud/cloud-init.disabled", err)}
	} else if fi != nil {
		f := in.New(Fail, "/etc/cloud/cloud-init.disabled", "cloud-init is disabled by /etc/cloud/cloud-init.disabled", KV{KeyPath, "/etc/cloud/cloud-init.disabled"})
		f.Fix = "delete /etc/cloud/cloud-init.disabled"
		out = append(out, f)
	}
	grubFiles := []string{"etc/default/grub"}
	ents, err := facts.ReadDir(in.Guest, "etc/default/grub.d")
	if err != nil {
		return []Finding{in.Fault("/etc/default/grub.d", err)}
	}
	for _, e := range ents {
		grubFiles = append(grubFiles, path.Join("etc/default/grub.d", e.Name()))
	}
	for _, p := range grubFiles {
		b, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
		if err != nil {
			return []Finding{in.Fault("/"+p, err)}
		}
		n := 0
		for line := range strings.Lines(string(b)) {
			n++
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "GRUB_CMDLINE_LINUX") && grubDisabled().MatchString(t) {
				f := in.New(Fail, "/"+p, fmt.Sprintf("cloud-init is disabled on the kernel command line in /%s:%d", p, n),
					KV{KeyPath, "/" + p}, KV{KeyLine, fmt.Sprint(n)})
				f.Fix = "remove cloud-init=disabled from GRUB_CMDLINE_LINUX and run update-grub"
				out = append(out, f)
			}
		}
	}
	units, err := facts.ReadDir(in.Guest, "etc/systemd/system")
	if err != nil {
		return []Finding{in.Fault("/etc/systemd/system", err)}
	}
	for _, e := range units {
		if !cloudInitUnit().MatchString(e.Name()) {
			continue
		}
		u, err := in.Facts.Unit(e.Name())
		if err != nil {
			return []Finding{in.Fault(e.Name(), err)}
		}
		if u.Masked {
			f := in.New(Fail, e.Name(), e.Name()+" is masked, so cloud-init will not run", KV{KeyPath, "/etc/systemd/system/" + e.Name()})
			f.Fix, f.Approximate = "systemctl unmask "+e.Name(), true
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		f := in.New(Pass, "cloud-init", "cloud-init is not disabled")
		f.Approximate = true
		out = append(out, f)
	}
	for i := range out {
		if out[i].Fix == "" {
			out[i].Fix = fix
		}
	}
	return out
}
