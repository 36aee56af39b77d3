package rules

import (
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

const doDir = "opt/digitalocean"

// Agent leftovers.
var (
	agentPackages  = []string{"droplet-agent", "do-agent"}
	agentUnits     = []string{"droplet-agent.service", "do-agent.service"}
	agentRepoFiles = []string{
		"etc/apt/sources.list.d/droplet-agent.list", "etc/apt/sources.list.d/digitalocean-agent.list",
		"etc/yum.repos.d/droplet-agent.repo", "etc/yum.repos.d/digitalocean-agent.repo",
	}
)

var agentDoDirRule = Rule{
	ID: "agent.do-dir", Title: "No DigitalOcean agent directory /opt/digitalocean",
	Check: checkAgentDir,
}

var agentDoLeftoversRule = Rule{
	ID: "agent.do-leftovers", Title: "No DigitalOcean agent packages, units or repositories",
	Check: checkAgentLeftovers,
}

// checkAgentDir is agent.do-dir.
func checkAgentDir(in *Input) []Finding {
	dir, err := facts.IsDir(in.Guest, doDir)
	if err != nil {
		return []Finding{in.Fault("/opt/digitalocean", err)}
	}
	if !dir {
		return []Finding{in.New(Pass, "/opt/digitalocean", "DigitalOcean Monitoring agent was not found")}
	}
	ev := []KV{{KeyPath, "/opt/digitalocean"}}
	ents, err := facts.ReadDir(in.Guest, doDir)
	if err != nil {
		return []Finding{in.Fault("/opt/digitalocean", err)}
	}
	for _, e := range ents {
		ev = append(ev, KV{"entry", e.Name()})
	}
	left, err := agentLeftovers(in)
	if err != nil {
		return []Finding{in.Fault("agent leftovers", err)}
	}
	ev = append(ev, left...)
	f := in.New(Fail, "/opt/digitalocean", "DigitalOcean directory detected.", ev...)
	f.Fix = agentFix(in)
	return []Finding{f}
}

// agentFix is step D2 worded for the family.
func agentFix(in *Input) string {
	if fam, _ := in.Facts.Family(); fam == facts.RPM {
		return "yum remove droplet-agent do-agent, then find /opt/digitalocean/ -type d -empty -delete (or build with the Packer droplet-agent option off)"
	}
	return "apt-get purge droplet-agent do-agent (or build with the Packer droplet-agent option off)"
}

// agentLeftovers lists installed agent packages, enabled agent units and
// agent repository files as evidence.
func agentLeftovers(in *Input) ([]KV, error) {
	var ev []KV
	db, err := in.Facts.Packages()
	if err != nil {
		return nil, err
	}
	for _, name := range agentPackages {
		for _, p := range db.Installed(name) {
			ev = append(ev, KV{KeyPackage, p.Name + " " + p.Version})
		}
	}
	for _, name := range agentUnits {
		u, err := in.Facts.Unit(name)
		if err != nil {
			return nil, err
		}
		if u.Enabled {
			ev = append(ev, KV{"unit", name})
		}
	}
	for _, p := range agentRepoFiles {
		fi, err := facts.Lstat(in.Guest, p)
		if err != nil {
			return nil, err
		}
		if fi != nil {
			ev = append(ev, KV{KeyPath, "/" + p})
		}
	}
	return ev, nil
}

// checkAgentLeftovers is agent.do-leftovers.
func checkAgentLeftovers(in *Input) []Finding {
	dir, err := facts.IsDir(in.Guest, doDir)
	if err != nil {
		return []Finding{in.Fault("/opt/digitalocean", err)}
	}
	if dir {
		return []Finding{in.Skip(NotApplicable, "/opt/digitalocean exists (agent.do-dir)")}
	}
	left, err := agentLeftovers(in)
	if err != nil {
		return []Finding{in.Fault("agent leftovers", err)}
	}
	if len(left) == 0 {
		return []Finding{in.New(Pass, "droplet-agent", "No DigitalOcean agent packages, units or repository files")}
	}
	var what []string
	for _, kv := range left {
		what = append(what, kv.Value)
	}
	f := in.New(Warn, "droplet-agent", "DigitalOcean agent leftovers: "+strings.Join(what, ", "), left...)
	f.Fix = agentFix(in)
	f.Approximate = true
	return []Finding{f}
}
