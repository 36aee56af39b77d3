package facts

import (
	"io"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// ReleaseChain is the distribution as a shell script learns it by trying,
// in order, /etc/os-release, lsb_release, /etc/lsb-release,
// /etc/debian_version, /etc/SuSe-release, /etc/redhat-release and uname:
// img_check.sh v1.8.1's OS and VER, and
// OSRelease's fallback when the image has no os-release file.
type ReleaseChain struct {
	OS, Version string
	Source      string // the step that decided, e.g. "/etc/os-release", "lsb_release (minimal)"
	Approximate bool   // the emulation may differ from the live script
}

// ReleaseChain runs the release chain once.
func (f *Facts) ReleaseChain() (*ReleaseChain, error) {
	return Memo(f, "release-chain", func() (*ReleaseChain, error) {
		r := &ReleaseChain{}
		if err := f.releaseChain(r); err != nil {
			return nil, err
		}
		return r, nil
	})
}

func (f *Facts) releaseChain(r *ReleaseChain) error {
	g := f.guest
	// 1. /etc/os-release
	if ok, err := IsRegular(g, "etc/os-release"); err != nil {
		return err
	} else if ok {
		b, err := g.ReadFileLimit("etc/os-release", CapConfig)
		if err != nil {
			return err
		}
		v, exp := ParseOSRelease(b)
		r.OS, r.Version, r.Source, r.Approximate = v["NAME"], v["VERSION_ID"], "/etc/os-release", exp
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
		v, exp := ParseOSRelease(b)
		r.OS, r.Version, r.Source, r.Approximate = v["DISTRIB_ID"], v["DISTRIB_RELEASE"], "/etc/lsb-release", exp
		return nil
	}
	// 4. /etc/debian_version
	if b, err := readRegular(f, "etc/debian_version"); err != nil {
		return err
	} else if b != nil {
		r.OS, r.Version, r.Source = "Debian", strings.TrimRight(string(b), "\n"), "/etc/debian_version"
		return nil
	}
	// 5. /etc/SuSe-release
	if ok, err := IsRegular(g, "etc/SuSe-release"); err != nil {
		return err
	} else if ok {
		r.Source = "/etc/SuSe-release"
		return nil
	}
	// 6. /etc/redhat-release
	if b, err := readRegular(f, "etc/redhat-release"); err != nil {
		return err
	} else if b != nil {
		fields := strings.Split(strings.TrimRight(string(b), "\n"), " ")
		if len(fields) > 2 {
			r.Version, _, _ = strings.Cut(fields[2], ".")
		}
		if first, _, _ := strings.Cut(fields[0], "."); first == "CentOS" {
			r.OS = "CentOS Linux"
		}
		r.Source = "/etc/redhat-release"
		return nil
	}
	// 7. uname fallback: the newest kernel's module directory.
	r.OS, r.Source, r.Approximate = "Linux", "/lib/modules", true
	ents, err := ReadDir(g, "lib/modules")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() && (r.Version == "" || DebCompare(r.Version, e.Name()) < 0) {
			r.Version = e.Name()
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
	ok, err := IsRegular(f.guest, name)
	if err != nil || !ok {
		return nil, err
	}
	return f.guest.ReadFileLimit(name, CapConfig)
}

// lsbRelease emulates `lsb_release -si` / `-sr` for the implementation the
// image ships, recognised by content.
func (f *Facts) lsbRelease(r *ReleaseChain, cmd string) error {
	body, err := readHead(f.guest, strings.TrimPrefix(cmd, "/"), 64<<10)
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(body), "\n")
	switch {
	case strings.HasPrefix(first, "#!") && strings.Contains(first, "python"):
		r.Source, r.Approximate = "lsb_release (python)", true
		return f.lsbPython(r)
	case strings.HasPrefix(first, "#!") && strings.HasSuffix(strings.TrimSpace(first), "/sh") &&
		strings.Contains(string(body), "/usr/lib/os-release") && !strings.Contains(string(body), "/etc/lsb-release"):
		// lsb-release-minimal sources os-release only; the older shell
		// implementations (FSG, redhat-lsb) read /etc/lsb-release.
		r.Source = "lsb_release (minimal)"
		b, err := ReadIfPresent(f.guest, "usr/lib/os-release", CapConfig)
		if err != nil {
			return err
		}
		v, exp := ParseOSRelease(b)
		id, name := v["ID"], v["NAME"]
		osName := id
		if id != "" {
			osName = strings.ToUpper(id[:1]) + id[1:]
		}
		if name != "" && strings.EqualFold(name, id) {
			osName = name
		}
		r.OS, r.Version, r.Approximate = orNA(osName), orNA(v["VERSION_ID"]), exp
		return nil
	default:
		r.Source, r.Approximate = "lsb_release (unrecognised)", true
		b, err := ReadIfPresent(f.guest, "etc/lsb-release", CapConfig)
		if err != nil {
			return err
		}
		v, _ := ParseOSRelease(b)
		r.OS, r.Version = v["DISTRIB_ID"], v["DISTRIB_RELEASE"]
		return nil
	}
}

// orNA is lsb_release's rendering of an empty value.
func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// lsbPython emulates the Python lsb_release of Debian ≤ 11 and Ubuntu ≤ 22.04.
func (f *Facts) lsbPython(r *ReleaseChain) error {
	b, err := ReadIfPresent(f.guest, "etc/lsb-release", CapConfig)
	if err != nil {
		return err
	}
	lsb, _ := ParseOSRelease(b)
	id, rel := lsb["DISTRIB_ID"], lsb["DISTRIB_RELEASE"]
	if id == "" || rel == "" {
		b, err := ReadIfPresent(f.guest, "usr/lib/os-release", CapConfig)
		if err != nil {
			return err
		}
		osr, _ := ParseOSRelease(b)
		if id == "" && osr["ID"] != "" {
			id = strings.ToUpper(osr["ID"][:1]) + osr["ID"][1:]
		}
		if rel == "" {
			rel = osr["VERSION_ID"]
		}
	}
	if id == "" || rel == "" {
		b, err := ReadIfPresent(f.guest, "etc/debian_version", CapConfig)
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
	r.OS, r.Version = orNA(id), orNA(rel)
	return nil
}
