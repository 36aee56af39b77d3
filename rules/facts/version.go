package facts

import (
	"cmp"
	"strings"

	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"
)

// DebCompare orders two Debian package versions (-1, 0, +1) as dpkg
// does; when either does not parse, they compare as text.
func DebCompare(a, b string) int {
	if c, ok := CompareVersions(Deb, a, b); ok {
		return c
	}
	return strings.Compare(a, b)
}

// RPMCompare orders two [epoch:]version-release strings (-1, 0, +1) with
// rpmvercmp.
func RPMCompare(a, b string) int {
	c, _ := CompareVersions(RPM, a, b)
	return c
}

// CompareVersions orders two package versions (-1, 0, +1) in the scheme
// of family f. ok is false when the family has no scheme or a Debian
// version does not parse.
func CompareVersions(f Family, a, b string) (c int, ok bool) {
	switch f {
	case Deb:
		va, err1 := debversion.NewVersion(a)
		vb, err2 := debversion.NewVersion(b)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return cmp.Compare(va.Compare(vb), 0), true
	case RPM:
		return cmp.Compare(rpmversion.NewVersion(a).Compare(rpmversion.NewVersion(b)), 0), true
	}
	return 0, false
}
