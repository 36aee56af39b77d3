package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

// Evidence keys of the OS findings that the parity renderer reads.
const (
	KeyOS      = "os"      // the script's OS string, printed as "Distribution:"
	KeyRelease = "version" // the script's VER string, printed as "Version:"
)

var osSupportedRule = Rule{
	ID: "os.supported", Title: "The operating system is one DigitalOcean supports",
	Check: checkOSSupported,
}

var osReleaseRule = Rule{
	ID: "os.release", Title: "The release is one DigitalOcean supports",
	Check: checkOSRelease,
}

var osEolRule = Rule{
	ID: "os.eol", Title: "The release is past its end of standard support",
	Check: checkOSEOL,
}

// osEvidence is the evidence every OS finding carries.
func osEvidence(r *facts.OSRelease) []KV {
	return []KV{{KeyOS, r.Name}, {KeyRelease, r.VersionID}, {KeySource, r.Source}}
}

// checkOSSupported is os.supported.
func checkOSSupported(in *Input) []Finding {
	r, err := in.Facts.OSRelease()
	if err != nil {
		return []Finding{in.Fault("os-release", err)}
	}
	if marketSupportedOS(r.Name) {
		return []Finding{in.New(Pass, r.Name, "Supported Operating System Detected: "+r.Name, osEvidence(r)...)}
	}
	f := in.New(Fail, r.Name, fmt.Sprintf("%s is not a supported Operating System", quoteEmpty(r.Name)), osEvidence(r)...)
	f.Fix = "Build on Ubuntu LTS, Debian 9-13, CentOS, Rocky Linux, AlmaLinux or CloudLinux 8/9"
	return []Finding{f}
}

// quoteEmpty shows an empty name as "(unknown)" in marketplace messages.
func quoteEmpty(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// checkOSRelease is os.release: the supported-OS column of the profile.
func checkOSRelease(in *Input) []Finding {
	r, err := in.Facts.OSRelease()
	if err != nil {
		return []Finding{in.Fault("os-release", err)}
	}
	if !marketSupportedOS(r.Name) {
		return []Finding{in.Skip(NotApplicable, "the operating system is not supported (os.supported)")}
	}
	var out []Finding
	key := releaseKey(r.Name, r.VersionID)
	switch {
	case !marketSupportedRelease(r.Name, r.VersionID):
		f := in.New(Fail, r.VersionID, fmt.Sprintf("%s %s is not a supported Operating System Version", r.Name, quoteEmpty(r.VersionID)), osEvidence(r)...)
		f.Fix = "Rebuild the image on a supported release (see imgcheck rules explain os.release)"
		out = append(out, f)
	case readmeUnlisted[key]:
		out = append(out, in.New(Info, r.VersionID, key+" is accepted by img_check.sh but not listed in DigitalOcean's README", osEvidence(r)...))
	default:
		out = append(out, in.New(Pass, r.VersionID, "Supported Release Detected: "+r.VersionID, osEvidence(r)...))
	}
	if len(r.Disagree) > 0 {
		out = append(out, in.New(Info, "release files", "release files disagree: "+strings.Join(r.Disagree, "; "),
			append(osEvidence(r), KV{KeyReason, strings.Join(r.Disagree, "; ")})...))
	}
	return out
}

// checkOSEOL is os.eol.
func checkOSEOL(in *Input) []Finding {
	r, err := in.Facts.OSRelease()
	if err != nil {
		return []Finding{in.Fault("os-release", err)}
	}
	key := releaseKey(r.Name, r.VersionID)
	if when, ok := endOfLifeRelease[key]; ok {
		return []Finding{in.New(Info, key, fmt.Sprintf("%s is past its end of standard support (%s)", key, when),
			append(osEvidence(r), KV{KeyDate, when})...)}
	}
	return []Finding{in.New(Pass, key, key+" is not in the end-of-life table", osEvidence(r)...)}
}

// Supported-release tables.
var (
	ubuntuReleases   = []string{"16.04", "18.04", "20.04", "22.04", "22.10", "24.04"}
	debianReleases   = []string{"9", "10", "11", "12", "13"}
	centosReleases   = []string{"6", "7", "8"}
	streamReleases   = []string{"8", "9"}
	rhelLikeNames    = []string{"CentOS Linux", "CentOS Stream", "Rocky Linux", "AlmaLinux", "CloudLinux"}
	readmeUnlisted   = map[string]bool{"Ubuntu 22.10": true, "CentOS Linux 6": true}
	endOfLifeRelease = map[string]string{
		"Ubuntu 16.04": "April 2021", "Ubuntu 18.04": "May 2023", "Ubuntu 20.04": "May 2025",
		"Ubuntu 22.10": "July 2023", "Debian 9": "July 2020", "Debian 10": "September 2022",
		"CentOS Linux 6": "November 2020", "CentOS Linux 7": "June 2024", "CentOS Linux 8": "December 2021",
		"CentOS Stream 8": "May 2024",
	}
)

// marketSupportedOS is the marketplace OS test: the script's names, with
// Debian anchored at the start.
func marketSupportedOS(name string) bool {
	return name == "Ubuntu" || strings.HasPrefix(name, "Debian") || slices.Contains(rhelLikeNames, name)
}

// marketSupportedRelease is the "marketplace" column of the supported-OS table.
func marketSupportedRelease(name, ver string) bool {
	switch {
	case name == "Ubuntu":
		return slices.Contains(ubuntuReleases, ver)
	case strings.HasPrefix(name, "Debian"):
		return slices.Contains(debianReleases, ver)
	case name == "CentOS Linux":
		return slices.Contains(centosReleases, ver)
	case name == "CentOS Stream":
		return slices.Contains(streamReleases, ver)
	case name == "Rocky Linux", name == "AlmaLinux", name == "CloudLinux":
		m := facts.MajorVersion(ver)
		return m == "8" || m == "9"
	}
	return false
}

// releaseKey names a release for the README and end-of-life tables:
// "Ubuntu 22.10", "Debian 12", "CentOS Linux 6".
func releaseKey(name, ver string) string {
	if strings.HasPrefix(name, "Debian") {
		name = "Debian"
	}
	if name == "CentOS Linux" || name == "CentOS Stream" {
		ver = facts.MajorVersion(ver)
	}
	return name + " " + ver
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
