package facts

import (
	"fmt"
	"strings"
)

// OSRelease is what the image says about its distribution:
// /etc/os-release, else /usr/lib/os-release, else the release chain's OS
// and VER as Name and VersionID.
type OSRelease struct {
	Name, ID, IDLike, VersionID, PrettyName string
	Codename                                string // VERSION_CODENAME, UBUNTU_CODENAME or the word in VERSION's parentheses
	Source                                  string // guest path read, or the release chain's step when no os-release file exists

	// Disagree names release files whose major versions disagree with
	// os-release, e.g. "/etc/debian_version says 11"; empty when consistent.
	Disagree []string
}

// OSRelease reads the guest's release files once.
func (f *Facts) OSRelease() (*OSRelease, error) {
	return Memo(f, "os-release", func() (*OSRelease, error) {
		c, err := f.ReleaseChain()
		if err != nil {
			return nil, err
		}
		r := &OSRelease{}
		if err := f.marketplaceRelease(r, c); err != nil {
			return nil, err
		}
		return r, nil
	})
}

// Family decides the OS family.
func (f *Facts) Family() (Family, error) {
	return Memo(f, "family", func() (Family, error) {
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
		ok, err := IsRegular(f.guest, dpkgStatus)
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

// ParseOSRelease reads KEY=VALUE lines with shell quoting and no expansion.
// It reports whether any value relied on shell expansion
// the parser does not perform.
func ParseOSRelease(b []byte) (vals map[string]string, expands bool) {
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
		val, exp := ShellWord(v)
		vals[k] = val
		expands = expands || exp
	}
	return vals, expands
}

// ShellWord unquotes one shell word: "…" with \" \\ \$ \` escapes, '…'
// literally, and bare text up to the first blank. It reports an unquoted
// or double-quoted $ or backquote, which the shell would expand.
func ShellWord(s string) (string, bool) {
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

// marketplaceRelease fills the os-release view.
func (f *Facts) marketplaceRelease(r *OSRelease, c *ReleaseChain) error {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := ReadIfPresent(f.guest, p, CapConfig)
		if err != nil {
			return err
		}
		if b == nil {
			continue
		}
		v, _ := ParseOSRelease(b)
		r.Source = "/" + p
		r.Name, r.ID, r.IDLike = v["NAME"], v["ID"], v["ID_LIKE"]
		r.VersionID, r.PrettyName = v["VERSION_ID"], v["PRETTY_NAME"]
		r.Codename = firstNonEmpty(v["VERSION_CODENAME"], v["UBUNTU_CODENAME"], parenWord(v["VERSION"]))
		return f.crossCheck(r)
	}
	r.Name, r.VersionID, r.Source = c.OS, c.Version, c.Source
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

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// MajorVersion is the text before the first ".", if it is all digits.
func MajorVersion(v string) string {
	m, _, _ := strings.Cut(strings.TrimSpace(v), ".")
	if m == "" || strings.Trim(m, "0123456789") != "" {
		return ""
	}
	return m
}

// crossCheck compares os-release's major version with the other release
// files: /etc/debian_version, /etc/lsb-release and
// /etc/redhat-release.
func (f *Facts) crossCheck(r *OSRelease) error {
	want := MajorVersion(r.VersionID)
	if want == "" {
		return nil
	}
	check := func(p, ver string) {
		if m := MajorVersion(ver); m != "" && m != want {
			r.Disagree = append(r.Disagree, fmt.Sprintf("/%s says %s", p, ver))
		}
	}
	if b, err := ReadIfPresent(f.guest, "etc/debian_version", CapConfig); err != nil {
		return err
	} else if b != nil && strings.Contains(strings.ToLower(r.ID+" "+r.IDLike), "debian") && r.ID != "ubuntu" {
		check("etc/debian_version", strings.TrimSpace(string(b)))
	}
	if b, err := ReadIfPresent(f.guest, "etc/lsb-release", CapConfig); err != nil {
		return err
	} else if b != nil {
		v, _ := ParseOSRelease(b)
		check("etc/lsb-release", v["DISTRIB_RELEASE"])
	}
	if b, err := ReadIfPresent(f.guest, "etc/redhat-release", CapConfig); err != nil {
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
