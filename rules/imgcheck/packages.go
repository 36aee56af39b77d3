package imgcheck

import (
	"fmt"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// parityPass is the script's PASS line, counted.
func parityPass(in *rules.Input, approximate bool, ev ...rules.KV) rules.Finding {
	f := in.New(rules.Pass, "security updates", "There are no pending security updates for this image.", ev...)
	f.Approximate = approximate
	return f
}

// parityFail is the script's FAIL line; the renderer prints the header
// "Here is a list of the security updates that are not installed:" and
// the KeyPackage values when it has them.
func parityFail(in *rules.Input, n int, approximate bool, ev ...rules.KV) rules.Finding {
	f := in.New(rules.Fail, "security updates", fmt.Sprintf("There are %d security updates available for this image that have not been installed.", n), ev...)
	f.Approximate, f.Fix = approximate, securityFix
	return f
}

// parityAptUpdates is the script's apt result from the emulation.
func parityAptUpdates(in *rules.Input) []rules.Finding {
	res, err := in.Facts.AptDryRun()
	if err != nil {
		return []rules.Finding{in.Fault("apt lists", err)}
	}
	ev := []rules.KV{{Key: rules.KeyCount, Value: fmt.Sprint(len(res.Indexes))}}
	if res.Date != "" {
		ev = append(ev, rules.KV{Key: rules.KeyDate, Value: res.Date})
	}
	if len(res.Indexes) == 0 {
		ev = append(ev, rules.KV{Key: rules.KeyReason, Value: "no index of a configured source in the image: a Droplet with network access would fetch current indexes first, so DigitalOcean's review may report updates published after the build"})
		return []rules.Finding{parityPass(in, true, ev...)}
	}
	if len(res.Security) == 0 {
		return []rules.Finding{parityPass(in, true, ev...)}
	}
	for _, u := range res.Security {
		ev = append(ev, rules.KV{Key: rules.KeyPackage, Value: u.Display()})
	}
	return []rules.Finding{parityFail(in, len(res.Security), true, ev...)}
}

// parityRPMUpdates is the script's yum result.
func parityRPMUpdates(in *rules.Input) []rules.Finding {
	res, err := in.Facts.RPMSecurity()
	if err != nil {
		return []rules.Finding{in.Fault("updateinfo", err)}
	}
	if !res.Evaluable || len(res.Pending) == 0 {
		ev := []rules.KV{{Key: rules.KeyReason, Value: "yum cannot reach a repository offline; a Droplet with network access may report updates published after the build"}}
		if res.Evaluable {
			ev = []rules.KV{{Key: rules.KeySource, Value: strings.Join(res.Sources, " ")}, {Key: rules.KeyDate, Value: res.Date}}
		}
		return []rules.Finding{parityPass(in, true, ev...)}
	}
	return []rules.Finding{parityFail(in, len(res.Pending), true, rules.KV{Key: rules.KeySource, Value: strings.Join(res.Sources, " ")}, rules.KV{Key: rules.KeyDate, Value: res.Date})}
}

// paritySecurityUpdates is the script's security update test, by family.
func paritySecurityUpdates(in *rules.Input) []rules.Finding {
	fam, err := in.Facts.Family()
	if err != nil {
		return []rules.Finding{in.Fault("os family", err)}
	}
	switch fam {
	case facts.RPM:
		return parityRPMUpdates(in)
	case facts.Deb:
		return parityAptUpdates(in)
	}
	return []rules.Finding{in.Skip(rules.NotApplicable, "unknown OS family")}
}
