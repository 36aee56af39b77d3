package rules

import (
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var sshServerRule = Rule{
	ID: "ssh.server", Title: "An SSH server is installed and enabled",
	Check: checkSSHServer,
}

// sshUnits are the units that start sshd, per family.
func sshUnits(fam facts.Family) []string {
	switch fam {
	case facts.Deb:
		return []string{"ssh.service", "ssh.socket"}
	case facts.RPM:
		return []string{"sshd.service"}
	}
	return []string{"ssh.service", "ssh.socket", "sshd.service"}
}

// checkSSHServer is ssh.server.
func checkSSHServer(in *Input) []Finding {
	const subject = "openssh-server"
	db, err := in.Facts.Packages()
	if err != nil {
		return []Finding{in.Fault("package database", err)}
	}
	sshd, err := in.Facts.Executable("usr/sbin/sshd")
	if err != nil {
		return []Finding{in.Fault("/usr/sbin/sshd", err)}
	}
	pkgs := db.Installed("openssh-server")
	fix := "install openssh-server and enable its unit: customers reach Droplets over SSH"
	if len(pkgs) == 0 && !sshd {
		f := in.New(Fail, subject, "No SSH server: neither the openssh-server package nor /usr/sbin/sshd is present")
		f.Fix = fix
		return []Finding{f}
	}
	fam, err := in.Facts.Family()
	if err != nil {
		return []Finding{in.Fault("os family", err)}
	}
	var masked, enabled []string
	units := sshUnits(fam)
	for _, name := range units {
		u, err := in.Facts.Unit(name)
		if err != nil {
			return []Finding{in.Fault(name, err)}
		}
		if u.Masked {
			masked = append(masked, name)
		}
		if u.Active() {
			enabled = append(enabled, name)
		}
	}
	var out []Finding
	if len(pkgs) == 0 {
		f := in.New(Warn, subject, "/usr/sbin/sshd exists but no openssh-server package owns it", KV{KeyPath, "/usr/sbin/sshd"})
		f.Fix = fix
		out = append(out, f)
	}
	ev := []KV{{"units", strings.Join(units, " ")}}
	if len(pkgs) > 0 {
		ev = append(ev, KV{KeyPackage, pkgs[0].Name}, KV{KeyVersion, pkgs[0].Version})
	}
	var f Finding
	switch {
	case len(masked) == len(units):
		f = in.New(Fail, subject, "Every SSH server unit is masked: "+strings.Join(masked, ", "), ev...)
		f.Fix = "systemctl unmask " + strings.Join(masked, " ")
	case len(enabled) == 0:
		f = in.New(Warn, subject, "No SSH server unit is enabled ("+strings.Join(units, ", ")+")", ev...)
		f.Fix = "systemctl enable " + units[0]
	case len(pkgs) > 0:
		f = in.New(Pass, subject, "SSH server enabled: "+strings.Join(enabled, ", "), ev...)
	default:
		f = in.New(Info, subject, "SSH server unit enabled: "+strings.Join(enabled, ", "), ev...)
	}
	f.Approximate = true
	return append(out, f)
}
