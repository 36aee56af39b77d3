package imgcheck

import (
	"github.com/imgcheck/imgcheck/rules"
)

// The img_check profile's rules in the script's order,
// after disk.integrity, which both profiles run first. The script's own
// checks are wrapped in counts when their lines change its counters; the
// user-created accounts' are not counted (Q1), and the disk and API rules
// are imgcheck's additions, shared with the marketplace profile.
func init() {
	for _, r := range []rules.Rule{
		shared("disk.integrity"), // first, as in the marketplace profile; the notes print it
		counts(script("os.supported", parityOSSupported)),
		counts(script("os.release", parityOSRelease)),
		counts(script("cloudinit.installed", parityCloudInitInstalled)),
		counts(script("fw.active", parityFirewall)),
		counts(script("pkg.security-updates", paritySecurityUpdates)),
		counts(logsArchiveDatedRule),
		counts(logsArchiveNumberedRule),
		counts(script("logs.uncleared", checkUnclearedParity)),
		usersPasswordRule,
		usersSshRule,
		usersHistoryRule,
		counts(rootPasswordRule),
		counts(rootSshRule),
		counts(rootHistoryRule),
		counts(script("agent.do-dir", parityAgentDir)),
		shared("disk.layout"),
		shared("disk.fs-state"),
		shared("disk.min-size"),
		shared("disk.plans"),
		shared("disk.shrink-hint"),
		shared("disk.upload-limit"),
		shared("disk.upload-format"),
		shared("disk.root-fs"),
		shared("do.image"),
	} {
		r.Uncapped = true
		if check, id := r.Check, r.ID; check != nil {
			r.Check = func(in *rules.Input) []rules.Finding { return fold(id, check(in)) }
		}
		rules.Register(rules.ImgCheck, r)
	}
}

// shared is the marketplace profile's rule id, run unchanged.
func shared(id string) rules.Rule {
	r, ok := rules.Lookup(id)
	if !ok {
		panic("imgcheck: no marketplace rule " + id)
	}
	r.Profiles = nil
	return r
}

// script is the marketplace profile's rule id (its title, family and
// inputs) with the script's own check.
func script(id string, check func(*rules.Input) []rules.Finding) rules.Rule {
	r := shared(id)
	r.Check = check
	return r
}

// counted holds the IDs whose PASS, WARN and FAIL lines the script counts.
var counted = map[string]bool{}

// counts marks r's printed lines as counted by the script.
func counts(r rules.Rule) rules.Rule {
	counted[r.ID] = true
	return r
}
