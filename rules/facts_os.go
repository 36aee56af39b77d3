package rules

import (
	"fmt"
	"io"
	"slices"
	"strings"

	debversion "github.com/knqyf263/go-deb-version"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// OSRelease is what the image says about its distribution (RULES.md §3.2),
// read two ways: as the marketplace profile reads it (os-release fields)
// and as img_check.sh v1.8.1 would print it (ParityOS, ParityVersion).
type OSRelease struct {
	// Marketplace view: /etc/os-release, else /usr/lib/os-release, else
	// the parity chain's OS and VER as Name and VersionID.
	Name, ID, IDLike, VersionID, PrettyName string
	Codename                                string // VERSION_CODENAME, UBUNTU_CODENAME or the word in VERSION's parentheses
	Source                                  string // guest path read, "" when the parity chain was used

	// Parity view: the script's OS and VER (§3.2 "Parity chain").
	ParityOS, ParityVersion string
	ParitySource            string // the step that decided, e.g. "/etc/os-release", "lsb_release (minimal)"
	ParityApproximate       bool   // the emulation may differ from the live script

	// Disagree names release files whose major versions disagree with
	// os-release, e.g. "/etc/debian_version says 11"; empty when consistent.
	Disagree []string
}

// OSRelease reads the guest's release files once (RULES.md §3.2).
func (f *Facts) OSRelease() (*OSRelease, error) {
	return memo(f, "os-release", func() (*OSRelease, error) {
		r := &OSRelease{}
		if err := f.parityChain(r); err != nil {
			return nil, err
		}
		if err := f.marketplaceRelease(r); err != nil {
			return nil, err
		}
		return r, nil
	})
}

// Family decides the OS family (RULES.md §0.2).
func (f *Facts) Family() (Family, error) {
	return memo(f, "family", func() (Family, error) {
		r, err := f.OSRelease()
		if err != nil {
			return Unknown, err
		}
		ids := strings.ToLower(r.ID + " " + r.IDLike)
		for _, w := range []string{"debian", "ubuntu"} {
			if strings.Contains(ids, w) {
				return Deb, nil
			}
		}
		for _, w := range []string{"rhel", "centos", "fedora", "rocky", "almalinux", "cloudlinux"} {
			if strings.Contains(ids, w) {
				return RPM, nil
			}
		}
		ok, err := isRegular(f.guest, dpkgStatus)
		if err != nil || ok {
			return Deb, err
		}
		db, err := f.rpmDBPath()
		if err != nil {
			return Unknown, err
		}
		if db != "" {
			return RPM, nil
		}
		return Unknown, nil
	})
}

// parseOSRelease reads KEY=VALUE lines with shell quoting and no expansion
// (RULES.md §3.2). It reports whether any value relied on shell expansion
// the parser does not perform.
func parseOSRelease(b []byte) (vals map[string]string, expands bool) {
	vals = map[string]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		val, exp := shellWord(v)
		vals[k] = val
		expands = expands || exp
	}
	return vals, expands
}

// shellWord unquotes one shell word: "…" with \" \\ \$ \` escapes, '…'
// literally, and bare text up to the first blank. It reports an unquoted
// or double-quoted $ or backquote, which the shell would expand.
func shellWord(s string) (string, bool) {
	var b strings.Builder
	exp := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				return b.String(), exp
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				} else if s[i] == '$' || s[i] == '`' {
					exp = true
				}
				b.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ' ' || c == '\t' || c == ';':
			return b.String(), exp
		default:
			if c == '$' || c == '`' {
				exp = true
			}
			b.WriteByte(c)
		}
	}
	return b.String(), exp
}

// marketplaceRelease fills the os-release view (RULES.md §3.2 "Marketplace").
func (f *Facts) marketplaceRelease(r *OSRelease) error {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := readIfPresent(f.guest, p, capConfig)
		if err != nil {
			return err
		}
		if b == nil {
			continue
		}
		v, _ := parseOSRelease(b)
		r.Source = "/" + p
		r.Name, r.ID, r.IDLike = v["NAME"], v["ID"], v["ID_LIKE"]
		r.VersionID, r.PrettyName = v["VERSION_ID"], v["PRETTY_NAME"]
		r.Codename = firstNonEmpty(v["VERSION_CODENAME"], v["UBUNTU_CODENAME"], parenWord(v["VERSION"]))
		return f.crossCheck(r)
	}
	r.Name, r.VersionID = r.ParityOS, r.ParityVersion
	return nil
}

// parenWord returns the first word inside parentheses, lower-cased:
// "11 (bullseye)" gives "bullseye", "20.04.6 LTS (Focal Fossa)" gives "focal".
func parenWord(s string) string {
	_, in, ok := strings.Cut(s, "(")
	if !ok {
		return ""
	}
	in, _, _ = strings.Cut(in, ")")
	w, _, _ := strings.Cut(strings.TrimSpace(in), " ")
	return strings.ToLower(strings.TrimRight(w, ","))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// major is the text before the first ".", if it is all digits.
func major(v string) string {
	m, _, _ := strings.Cut(strings.TrimSpace(v), ".")
	if m == "" || strings.Trim(m, "0123456789") != "" {
		return ""
	}
	return m
}

// crossCheck compares os-release's major version with the other release
// files (RULES.md §3.2): /etc/debian_version, /etc/lsb-release and
// /etc/redhat-release.
func (f *Facts) crossCheck(r *OSRelease) error {
	want := major(r.VersionID)
	if want == "" {
		return nil
	}
	check := func(p, ver string) {
		if m := major(ver); m != "" && m != want {
			r.Disagree = append(r.Disagree, fmt.Sprintf("/%s says %s", p, ver))
		}
	}
	if b, err := readIfPresent(f.guest, "etc/debian_version", capConfig); err != nil {
		return err
	} else if b != nil && strings.Contains(strings.ToLower(r.ID+" "+r.IDLike), "debian") && r.ID != "ubuntu" {
		check("etc/debian_version", strings.TrimSpace(string(b)))
	}
	if b, err := readIfPresent(f.guest, "etc/lsb-release", capConfig); err != nil {
		return err
	} else if b != nil {
		v, _ := parseOSRelease(b)
		check("etc/lsb-release", v["DISTRIB_RELEASE"])
	}
	if b, err := readIfPresent(f.guest, "etc/redhat-release", capConfig); err != nil {
		return err
	} else if b != nil {
		check("etc/redhat-release", redhatVersion(string(b)))
	}
	return nil
}

// redhatVersion returns the version word of a redhat-release line: the
// first field that starts with a digit ("Rocky Linux release 9.3 (Blue Onyx)" → "9.3").
func redhatVersion(s string) string {
	for _, w := range strings.Fields(s) {
		if w[0] >= '0' && w[0] <= '9' {
			return w
		}
	}
	return ""
}

// parityChain emulates the script's OS/VER detection (RULES.md §3.2).
func (f *Facts) parityChain(r *OSRelease) error {
	g := f.guest
	// 1. /etc/os-release
	if ok, err := isRegular(g, "etc/os-release"); err != nil {
		return err
	} else if ok {
		b, err := g.ReadFileLimit("etc/os-release", capConfig)
		if err != nil {
			return err
		}
		v, exp := parseOSRelease(b)
		r.ParityOS, r.ParityVersion, r.ParitySource, r.ParityApproximate = v["NAME"], v["VERSION_ID"], "/etc/os-release", exp
		return nil
	}
	// 2. lsb_release
	if p, err := f.LookPath("lsb_release"); err != nil {
		return err
	} else if p != "" {
		return f.lsbRelease(r, p)
	}
	// 3. /etc/lsb-release
	if b, err := readRegular(f, "etc/lsb-release"); err != nil {
		return err
	} else if b != nil {
		v, exp := parseOSRelease(b)
		r.ParityOS, r.ParityVersion, r.ParitySource, r.ParityApproximate = v["DISTRIB_ID"], v["DISTRIB_RELEASE"], "/etc/lsb-release", exp
		return nil
	}
	// 4. /etc/debian_version
	if b, err := readRegular(f, "etc/debian_version"); err != nil {
		return err
	} else if b != nil {
		r.ParityOS, r.ParityVersion, r.ParitySource = "Debian", strings.TrimRight(string(b), "\n"), "/etc/debian_version"
		return nil
	}
	// 5. /etc/SuSe-release
	if ok, err := isRegular(g, "etc/SuSe-release"); err != nil {
		return err
	} else if ok {
		r.ParitySource = "/etc/SuSe-release"
		return nil
	}
	// 6. /etc/redhat-release
	if b, err := readRegular(f, "etc/redhat-release"); err != nil {
		return err
	} else if b != nil {
		fields := strings.Split(strings.TrimRight(string(b), "\n"), " ")
		if len(fields) > 2 {
			r.ParityVersion, _, _ = strings.Cut(fields[2], ".")
		}
		if first, _, _ := strings.Cut(fields[0], "."); first == "CentOS" {
			r.ParityOS = "CentOS Linux"
		}
		r.ParitySource = "/etc/redhat-release"
		return nil
	}
	// 7. uname fallback: the newest kernel's module directory.
	r.ParityOS, r.ParitySource, r.ParityApproximate = "Linux", "/lib/modules", true
	ents, err := readDirFact(g, "lib/modules")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() && (r.ParityVersion == "" || debLess(r.ParityVersion, e.Name())) {
			r.ParityVersion = e.Name()
		}
	}
	return nil
}

// readHead reads at most the first max bytes of a guest file: enough to
// recognise a script without a read cap on binaries.
func readHead(g *fsinspect.Guest, name string, max int) ([]byte, error) {
	f, err := g.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, max)
	n, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}

// readRegular reads name if it is a regular file in the guest, else returns nil.
func readRegular(f *Facts, name string) ([]byte, error) {
	ok, err := isRegular(f.guest, name)
	if err != nil || !ok {
		return nil, err
	}
	return f.guest.ReadFileLimit(name, capConfig)
}

// debLess compares two version strings with Debian ordering; unparsable
// versions compare as strings.
func debLess(a, b string) bool {
	va, err1 := debversion.NewVersion(a)
	vb, err2 := debversion.NewVersion(b)
	if err1 != nil || err2 != nil {
		return a < b
	}
	return va.LessThan(vb)
}

// lsbRelease emulates `lsb_release -si` / `-sr` for the implementation the
// image ships, recognised by content (RULES.md §3.2 step 2).
func (f *Facts) lsbRelease(r *OSRelease, cmd string) error {
	body, err := readHead(f.guest, strings.TrimPrefix(cmd, "/"), 64<<10)
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(body), "\n")
	switch {
	case strings.HasPrefix(first, "#!") && strings.Contains(first, "python"):
		r.ParitySource, r.ParityApproximate = "lsb_release (python)", true
		return f.lsbPython(r)
	case strings.HasPrefix(first, "#!") && strings.HasSuffix(strings.TrimSpace(first), "/sh") &&
		strings.Contains(string(body), "/usr/lib/os-release") && !strings.Contains(string(body), "/etc/lsb-release"):
		// lsb-release-minimal sources os-release only; the older shell
		// implementations (FSG, redhat-lsb) read /etc/lsb-release.
		r.ParitySource = "lsb_release (minimal)"
		b, err := readIfPresent(f.guest, "usr/lib/os-release", capConfig)
		if err != nil {
			return err
		}
		v, exp := parseOSRelease(b)
		id, name := v["ID"], v["NAME"]
		osName := id
		if id != "" {
			osName = strings.ToUpper(id[:1]) + id[1:]
		}
		if name != "" && strings.EqualFold(name, id) {
			osName = name
		}
		r.ParityOS, r.ParityVersion, r.ParityApproximate = orNA(osName), orNA(v["VERSION_ID"]), exp
		return nil
	default:
		r.ParitySource, r.ParityApproximate = "lsb_release (unrecognised)", true
		b, err := readIfPresent(f.guest, "etc/lsb-release", capConfig)
		if err != nil {
			return err
		}
		v, _ := parseOSRelease(b)
		r.ParityOS, r.ParityVersion = v["DISTRIB_ID"], v["DISTRIB_RELEASE"]
		return nil
	}
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// lsbPython emulates the Python lsb_release of Debian ≤ 11 and Ubuntu ≤ 22.04.
func (f *Facts) lsbPython(r *OSRelease) error {
	b, err := readIfPresent(f.guest, "etc/lsb-release", capConfig)
	if err != nil {
		return err
	}
	lsb, _ := parseOSRelease(b)
	id, rel := lsb["DISTRIB_ID"], lsb["DISTRIB_RELEASE"]
	if id == "" || rel == "" {
		b, err := readIfPresent(f.guest, "usr/lib/os-release", capConfig)
		if err != nil {
			return err
		}
		osr, _ := parseOSRelease(b)
		if id == "" && osr["ID"] != "" {
			id = strings.ToUpper(osr["ID"][:1]) + osr["ID"][1:]
		}
		if rel == "" {
			rel = osr["VERSION_ID"]
		}
	}
	if id == "" || rel == "" {
		b, err := readIfPresent(f.guest, "etc/debian_version", capConfig)
		if err != nil {
			return err
		}
		if b != nil {
			if id == "" {
				id = "Debian"
			}
			if rel == "" {
				rel = strings.TrimSpace(string(b))
			}
		}
	}
	r.ParityOS, r.ParityVersion = orNA(id), orNA(rel)
	return nil
}

// Supported-release tables (RULES.md §3.1).
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

// paritySupportedOS is the script's OS test (§3.1 "img_check" column).
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

// marketSupportedOS is the marketplace OS test: the script's names, with
// Debian anchored at the start.
func marketSupportedOS(name string) bool {
	return name == "Ubuntu" || strings.HasPrefix(name, "Debian") || slices.Contains(rhelLikeNames, name)
}

// marketSupportedRelease is the "marketplace" column of §3.1.
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
		m := major(ver)
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
		ver = major(ver)
	}
	return name + " " + ver
}
