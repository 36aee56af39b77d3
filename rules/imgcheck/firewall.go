package imgcheck

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// parityFirewall follows the script's firewall check literally (Q3, Q4, Q5).
func parityFirewall(in *rules.Input) []rules.Finding {
	r, err := release(in)
	if err != nil {
		return []rules.Finding{in.Fault("os-release", err)}
	}
	os := r.OS
	result := func(pass bool, fw string, approximate bool, ev ...rules.KV) []rules.Finding {
		var f rules.Finding
		if pass {
			f = in.New(rules.Pass, fw, fmt.Sprintf("Firewall service (%s) is active", fw), ev...)
		} else {
			f = in.New(rules.Warn, fw, fmt.Sprintf("No firewall is configured. Ensure %s is installed and configured", fw), append(ev, rules.KV{Key: KeyStatus, Value: "no"})...)
			f.Fix = firewallFix
		}
		f.Approximate = approximate
		return []rules.Finding{f}
	}
	switch {
	case os == "Ubuntu":
		on, approx, err := rules.UFWActive(in)
		if err != nil {
			return []rules.Finding{in.Fault("ufw", err)}
		}
		return result(on, "ufw", approx)
	case slices.Contains(rhelLikeNames, os):
		csf, err := facts.IsRegular(in.Guest, "usr/lib/systemd/system/csf.service")
		if err != nil {
			return []rules.Finding{in.Fault("/usr/lib/systemd/system/csf.service", err)}
		}
		if !csf {
			return result(true, "firewalld", false, rules.KV{Key: rules.KeyReason, Value: "img_check's firewalld test always passes on this OS"})
		}
		cmd, err := in.Facts.LookPath("firewall-cmd")
		if err != nil {
			return []rules.Finding{in.Fault("firewall-cmd", err)}
		}
		return result(cmd != "", "csf", false, rules.KV{Key: rules.KeyReason, Value: "img_check's csf test: passes when firewall-cmd exists"})
	case strings.Contains(os, "Debian"):
		ufw, err := in.Facts.LookPath("ufw")
		if err != nil {
			return []rules.Finding{in.Fault("ufw", err)}
		}
		if ufw != "" {
			on, approx, err := rules.UFWActive(in)
			if err != nil {
				return []rules.Finding{in.Fault("ufw", err)}
			}
			return result(on, "ufw", approx)
		}
		fwcmd, err := in.Facts.LookPath("firewall-cmd")
		if err != nil {
			return []rules.Finding{in.Fault("firewall-cmd", err)}
		}
		if fwcmd != "" {
			return result(false, "firewalld", false, rules.KV{Key: rules.KeyReason, Value: "img_check's firewalld test always warns on Debian"})
		}
		on, err := ipTablesLoaded(in)
		if err != nil {
			return []rules.Finding{in.Fault("ip_tables", err)}
		}
		return result(on, "iptables", true)
	}
	return []rules.Finding{in.Skip(rules.NotApplicable, "img_check has no firewall test for "+quoteEmpty(os))}
}

// ipTablesLoaded is the offline stand-in for `lsmod | grep ip_tables`.
func ipTablesLoaded(in *rules.Input) (bool, error) {
	files := []string{"etc/modules"}
	for _, d := range []string{"etc/modules-load.d", "usr/lib/modules-load.d", "lib/modules-load.d"} {
		ents, err := facts.ReadDir(in.Guest, d)
		if err != nil {
			return false, err
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") {
				files = append(files, path.Join(d, e.Name()))
			}
		}
	}
	for _, p := range files {
		b, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
		if err != nil {
			return false, err
		}
		for line := range strings.Lines(string(b)) {
			if w := strings.Fields(line); len(w) > 0 && w[0] == "ip_tables" {
				return true, nil
			}
		}
	}
	active := false
	for _, u := range []string{"netfilter-persistent.service", "iptables-persistent.service"} {
		st, err := in.Facts.Unit(u)
		if err != nil {
			return false, err
		}
		active = active || st.Active()
	}
	if !active {
		return false, nil
	}
	b, err := facts.ReadIfPresent(in.Guest, "etc/iptables/rules.v4", facts.CapConfig)
	if err != nil {
		return false, err
	}
	if !iptablesTableWithRule(b) {
		return false, nil
	}
	alt, err := in.Guest.Resolve("etc/alternatives/iptables")
	if err != nil {
		return false, facts.IgnoreFact(err)
	}
	return strings.Contains(path.Base(alt), "iptables-legacy"), nil
}

// iptablesTableWithRule reports a table section (*filter, …) followed by an -A rule.
func iptablesTableWithRule(b []byte) bool {
	table := false
	for line := range strings.Lines(string(b)) {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "*") {
			table = true
		}
		if table && strings.HasPrefix(t, "-A ") {
			return true
		}
	}
	return false
}
