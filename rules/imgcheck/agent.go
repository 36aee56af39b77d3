package imgcheck

import (
	"slices"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// parityAgent is img_check's agent test with its OS-dependent hint (P3).
func parityAgent(in *rules.Input, dir bool) rules.Finding {
	if !dir {
		f := in.New(rules.Pass, "/opt/digitalocean", "DigitalOcean Monitoring agent was not found")
		return f
	}
	r, err := release(in)
	if err != nil {
		return in.Fault("os-release", err)
	}
	ev := []rules.KV{{Key: rules.KeyPath, Value: "/opt/digitalocean"}}
	switch {
	case slices.Contains(rhelLikeNames, r.OS):
		ev = append(ev, rules.KV{Key: KeyHint, Value: "To uninstall the agent: 'sudo yum remove droplet-agent'"},
			rules.KV{Key: KeyHint, Value: "To remove the DO directory: 'find /opt/digitalocean/ -type d -empty -delete'"})
	case r.OS == "Ubuntu" || r.OS == "Debian":
		ev = append(ev, rules.KV{Key: KeyHint, Value: "To uninstall the agent and remove the DO directory: 'sudo apt-get purge droplet-agent'"})
	}
	f := in.New(rules.Fail, "/opt/digitalocean", "DigitalOcean directory detected.", ev...)
	f.Fix = agentFix(in)
	return f
}

// parityAgentDir is the script's agent test.
func parityAgentDir(in *rules.Input) []rules.Finding {
	dir, err := facts.IsDir(in.Guest, doDir)
	if err != nil {
		return []rules.Finding{in.Fault("/opt/digitalocean", err)}
	}
	return []rules.Finding{parityAgent(in, dir)}
}
