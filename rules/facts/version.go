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
	va, err1 := debversion.NewVersion(a)
	vb, err2 := debversion.NewVersion(b)
	if err1 != nil || err2 != nil {
		return strings.Compare(a, b)
	}
	return cmp.Compare(va.Compare(vb), 0)
}

// RPMCompare orders two [epoch:]version-release strings (-1, 0, +1) with
// rpmvercmp.
func RPMCompare(a, b string) int {
	return cmp.Compare(rpmversion.NewVersion(a).Compare(rpmversion.NewVersion(b)), 0)
}
