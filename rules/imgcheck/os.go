package imgcheck

import (
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// paritySupportedOS is the script's OS test.
func paritySupportedOS(os string) bool {
	return os == "Ubuntu" || strings.Contains(os, "Debian") || slices.Contains(rhelLikeNames, os)
}

// paritySupportedRelease is the script's release test for a supported OS.
func paritySupportedRelease(os, ver string) bool {
	switch {
	case os == "Ubuntu":
		return slices.Contains(ubuntuReleases, ver)
	case strings.Contains(os, "Debian"):
		return slices.Contains(debianReleases, ver)
	case os == "CentOS Linux":
		return slices.Contains(centosReleases, ver)
	case os == "CentOS Stream":
		return slices.Contains(streamReleases, ver)
	case os == "Rocky Linux":
		return strings.Contains(ver, "8.") || strings.Contains(ver, "9.")
	case os == "AlmaLinux", os == "CloudLinux":
		return strings.ContainsAny(ver, "89")
	}
	return false
}

// parityOSSupported is the script's OS test.
func parityOSSupported(in *rules.Input) []rules.Finding {
	r, err := release(in)
	if err != nil {
		return []rules.Finding{in.Fault("os-release", err)}
	}
	var f rules.Finding
	if paritySupportedOS(r.OS) {
		f = in.New(rules.Pass, r.OS, "Supported Operating System Detected: "+r.OS, osEvidence(r)...)
	} else {
		f = in.New(rules.Fail, r.OS, r.OS+" is not a supported Operating System",
			append(osEvidence(r), rules.KV{Key: KeyExiting, Value: "yes"})...)
		f.Fix = "Rebuild the image from a supported distribution's cloud image (see imgcheck rules explain os.supported)"
	}
	f.Approximate = r.Approximate
	return []rules.Finding{f}
}

// parityOSRelease is the script's release test.
func parityOSRelease(in *rules.Input) []rules.Finding {
	r, err := release(in)
	if err != nil {
		return []rules.Finding{in.Fault("os-release", err)}
	}
	if !paritySupportedOS(r.OS) {
		return []rules.Finding{in.Skip(rules.NotApplicable, "the script exits after the unsupported OS")}
	}
	var f rules.Finding
	if paritySupportedRelease(r.OS, r.Version) {
		f = in.New(rules.Pass, r.Version, "Supported Release Detected: "+r.Version, osEvidence(r)...)
	} else {
		f = in.New(rules.Fail, r.Version, r.OS+" "+r.Version+" is not a supported Operating System Version", osEvidence(r)...)
		f.Fix = "Rebuild the image on a supported release (see imgcheck rules explain os.release)"
	}
	f.Approximate = r.Approximate
	return []rules.Finding{f}
}

// release is the script's OS and VER: the facts' release chain. It reads
// the whole release fact first, so that a fault on any release file makes
// the check an ERROR as in the marketplace profile.
func release(in *rules.Input) (*facts.ReleaseChain, error) {
	if _, err := in.Facts.OSRelease(); err != nil {
		return nil, err
	}
	return in.Facts.ReleaseChain()
}

// osEvidence is the evidence every OS finding carries.
func osEvidence(r *facts.ReleaseChain) []rules.KV {
	return []rules.KV{{Key: rules.KeyOS, Value: r.OS}, {Key: rules.KeyRelease, Value: r.Version}, {Key: rules.KeySource, Value: r.Source}}
}
