package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var fwActiveRule = Rule{
	ID: "fw.active", Title: "A firewall is active at boot",
	Check: checkFirewall,
}

const firewallFix = "enable a firewall that loads at boot (ufw enable; systemctl enable firewalld)"

// checkFirewall is fw.active in the marketplace profile.
func checkFirewall(in *Input) []Finding {
	fam, err := in.Facts.Family()
	if err != nil {
		return []Finding{in.Fault("os family", err)}
	}
	order := []string{"ufw", "firewalld", "nftables", "iptables", "csf"}
	if fam == facts.RPM {
		order = []string{"firewalld", "csf", "nftables", "iptables"}
	}
	for _, fw := range order {
		on, why, err := firewallActive(in, fw, fam)
		if err != nil {
			return []Finding{in.Fault(fw, err)}
		}
		if on {
			f := in.New(Pass, fw, fmt.Sprintf("Firewall service (%s) is active", fw), KV{KeyReason, why})
			f.Approximate = true
			return []Finding{f}
		}
	}
	f := in.New(Warn, "firewall", "No active firewall found (checked: "+strings.Join(order, ", ")+")")
	f.Approximate, f.Fix = true, firewallFix
	return []Finding{f}
}

// firewallActive applies the activity table to one firewall.
func firewallActive(in *Input, fw string, fam facts.Family) (bool, string, error) {
	switch fw {
	case "ufw":
		on, _, err := UFWActive(in)
		return on, "ufw ENABLED=yes and ufw.service enabled", err
	case "firewalld":
		u, err := in.Facts.Unit("firewalld.service")
		if err != nil || !u.Active() {
			return false, "", err
		}
		ok, err := in.Facts.Executable("usr/sbin/firewalld")
		return ok, "firewalld.service enabled and /usr/sbin/firewalld present", err
	case "nftables":
		u, err := in.Facts.Unit("nftables.service")
		if err != nil || !u.Active() {
			return false, "", err
		}
		conf := "etc/nftables.conf"
		if fam == facts.RPM {
			conf = "etc/sysconfig/nftables.conf"
		}
		ok, err := nftActive(in, conf, 0)
		return ok, "nftables.service enabled and /" + conf + " filters", err
	case "iptables":
		unit, files := "netfilter-persistent.service", []string{"etc/iptables/rules.v4", "etc/iptables/rules.v6"}
		if fam == facts.RPM {
			unit, files = "iptables.service", []string{"etc/sysconfig/iptables"}
		}
		u, err := in.Facts.Unit(unit)
		if err != nil || !u.Active() {
			return false, "", err
		}
		for _, p := range files {
			b, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
			if err != nil {
				return false, "", err
			}
			if iptablesFilters(b) {
				return true, unit + " enabled and /" + p + " has rules", nil
			}
		}
		return false, "", nil
	case "csf":
		b, err := facts.ReadIfPresent(in.Guest, "etc/csf/csf.conf", facts.CapConfig)
		if err != nil || b == nil {
			return false, "", err
		}
		vals, _ := facts.ParseOSRelease(csfConf(b))
		if vals["TESTING"] != "0" {
			return false, "", nil
		}
		u, err := in.Facts.Unit("csf.service")
		return err == nil && u.Active(), "csf TESTING=0 and csf.service enabled", err
	}
	return false, "", nil
}

// csfConf turns csf.conf's `KEY = "value"` lines into KEY="value".
func csfConf(b []byte) []byte {
	var out strings.Builder
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, "=")
		if ok {
			line = strings.TrimSpace(k) + "=" + strings.TrimSpace(v) + "\n"
		}
		out.WriteString(line)
	}
	return []byte(out.String())
}

// UFWActive is fw.active's ufw test in both profiles: it applies the
// three offline conditions of the script's firewall check. It also reports whether the
// answer is approximate: ENABLED=yes with the unit disabled or masked.
func UFWActive(in *Input) (active, approximate bool, err error) {
	cmd, err := in.Facts.LookPath("ufw")
	if err != nil || cmd == "" {
		return false, false, err
	}
	enabled := ""
	for _, p := range []string{"etc/default/ufw", "etc/ufw/ufw.conf"} {
		b, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
		if err != nil {
			return false, false, err
		}
		if v, ok := lastAssignment(b, "ENABLED"); ok {
			enabled = v
		}
	}
	if enabled != "yes" && enabled != "YES" {
		return false, false, nil
	}
	u, err := in.Facts.Unit("ufw.service")
	if err != nil {
		return false, false, err
	}
	return u.Active(), !u.Active(), nil
}

// lastAssignment returns the last shell assignment of key in b.
func lastAssignment(b []byte, key string) (string, bool) {
	v, ok := "", false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if k, val, found := strings.Cut(line, "="); found && k == key {
			v, _ = facts.ShellWord(val)
			ok = true
		}
	}
	return v, ok
}

// iptablesFilters reports whether an iptables-save file has at least one
// -A rule or a DROP/REJECT policy on INPUT.
func iptablesFilters(b []byte) bool {
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "-A" || (f[0] == ":INPUT" && len(f) > 1 && (f[1] == "DROP" || f[1] == "REJECT")) {
			return true
		}
	}
	return false
}

// nftActive reports whether an nftables file (and the files it includes)
// has a hooked chain with a rule statement or a drop policy.
func nftActive(in *Input, p string, depth int) (bool, error) {
	if depth > 8 {
		return false, fmt.Errorf("/%s: include nesting deeper than 8", p)
	}
	b, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
	if err != nil || b == nil {
		return false, err
	}
	if nftHookedChainFilters(string(b)) {
		return true, nil
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "include" {
			continue
		}
		inc := strings.Trim(f[1], `"`)
		if !strings.HasPrefix(inc, "/") {
			inc = path.Join("/", path.Dir(p), inc)
		}
		matches, err := facts.Glob(in.Guest, inc)
		if err != nil {
			return false, err
		}
		for _, m := range matches {
			if ok, err := nftActive(in, strings.TrimPrefix(m, "/"), depth+1); err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// nftHookedChainFilters scans `chain NAME { … }` blocks for a hook
// statement plus a rule statement or "policy drop".
func nftHookedChainFilters(s string) bool {
	var stmts []string
	split := strings.NewReplacer("{", "{;", "}", ";};")
	for line := range strings.Lines(s) {
		line, _, _ = strings.Cut(line, "#")
		for _, st := range strings.Split(split.Replace(line), ";") {
			if st = strings.TrimSpace(st); st != "" {
				stmts = append(stmts, st)
			}
		}
	}
	depth, chain := 0, -1 // chain is the depth of the open chain block, -1 outside
	hook, filters := false, false
	for _, st := range stmts {
		f := strings.Fields(st)
		switch {
		case st == "}":
			if depth == chain {
				if hook && filters {
					return true
				}
				chain = -1
			}
			depth--
		case strings.HasSuffix(st, "{"):
			depth++
			if chain < 0 && f[0] == "chain" {
				chain, hook, filters = depth, false, false
			} else if chain >= 0 {
				filters = true // a rule with an anonymous set or map
			}
		case chain < 0 || depth != chain:
		case f[0] == "type":
			hook = hook || slices.Contains(f, "hook")
		case f[0] == "policy":
			filters = filters || (len(f) > 1 && f[1] == "drop")
		case f[0] == "comment":
		default:
			filters = true
		}
	}
	return false
}
