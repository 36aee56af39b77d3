package imgcheck

import (
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// The script's fixed lists and paths (img_check.sh v1.8.1). The marketplace profile keeps its own tables: these change only
// with the script.
var (
	ubuntuReleases = []string{"16.04", "18.04", "20.04", "22.04", "22.10", "24.04"}
	debianReleases = []string{"9", "10", "11", "12", "13"}
	centosReleases = []string{"6", "7", "8"}
	streamReleases = []string{"8", "9"}
	rhelLikeNames  = []string{"CentOS Linux", "CentOS Stream", "Rocky Linux", "AlmaLinux", "CloudLinux"}
)

const (
	doDir        = "opt/digitalocean"
	varLog       = "var/log"
	cpanelLog    = "cpanel-install.log"
	lfdLog       = "lfd.log"
	parityLogMin = 50 // the script's loop 3: size > 50
)

// Fixes attached to the script's failures.
const (
	firewallFix = "enable a firewall that loads at boot (ufw enable; systemctl enable firewalld)"
	securityFix = "apt-get update && apt-get -y upgrade (or yum -y update --security) before the snapshot"
)

// agentFix is step D2 worded for the family.
func agentFix(in *rules.Input) string {
	if fam, _ := in.Facts.Family(); fam == facts.RPM {
		return "yum remove droplet-agent do-agent, then find /opt/digitalocean/ -type d -empty -delete (or build with the Packer droplet-agent option off)"
	}
	return "apt-get purge droplet-agent do-agent (or build with the Packer droplet-agent option off)"
}

// quoteEmpty shows an empty name as "(unknown)".
func quoteEmpty(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
