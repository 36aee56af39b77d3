package facts

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"path"
	"slices"
	"strings"
)

// RPMUpdates is the rpm view of pending security updates.
type RPMUpdates struct {
	Evaluable bool     // an updateinfo source was found
	Sources   []string // where the advisories came from
	Pending   []PendingUpdate
	Date      string // newest advisory issued/updated date
}

// updateinfo.xml, as much of it as the update rules need.
type updateInfoDoc struct {
	Updates []struct {
		Type   string `xml:"type,attr"`
		ID     string `xml:"id"`
		Issued struct {
			Date string `xml:"date,attr"`
		} `xml:"issued"`
		Updated struct {
			Date string `xml:"date,attr"`
		} `xml:"updated"`
		Pkgs []struct {
			Name    string `xml:"name,attr"`
			Epoch   string `xml:"epoch,attr"`
			Version string `xml:"version,attr"`
			Release string `xml:"release,attr"`
			Arch    string `xml:"arch,attr"`
		} `xml:"pkglist>collection>package"`
	} `xml:"update"`
}

// parseUpdateInfo decodes one (decompressed) updateinfo.xml document.
func parseUpdateInfo(b []byte) (*updateInfoDoc, error) {
	var d updateInfoDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("updateinfo: %w", err)
	}
	return &d, nil
}

// rpmEVR is epoch:version-release with the epoch omitted when zero.
func rpmEVR(epoch, version, release string) string {
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch != "" && epoch != "0" {
		v = epoch + ":" + v
	}
	return v
}

// RPMSecurity evaluates the security advisories of --rpm-updateinfo, or
// the dnf/yum cache metadata left in the image, against the rpm database.
func (f *Facts) RPMSecurity() (*RPMUpdates, error) {
	return Memo(f, "rpm-security", func() (*RPMUpdates, error) {
		db, err := f.Packages()
		if err != nil {
			return nil, err
		}
		docs := f.opts.RPMUpdateInfo
		if len(docs) == 0 {
			docs, err = f.cachedUpdateInfo()
			if err != nil {
				return nil, err
			}
		}
		u := &RPMUpdates{}
		type key struct{ name, arch string }
		pending := map[key]PendingUpdate{}
		for _, d := range docs {
			plain, err := decompressIndex(d.Name, d.Data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", d.Name, err)
			}
			doc, err := parseUpdateInfo(plain)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", d.Name, err)
			}
			u.Evaluable = true
			u.Sources = append(u.Sources, d.Name)
			for _, up := range doc.Updates {
				if up.Type != "security" {
					continue
				}
				for _, dt := range []string{up.Issued.Date, up.Updated.Date} {
					if dt > u.Date {
						u.Date = dt
					}
				}
				for _, ap := range up.Pkgs {
					evr := rpmEVR(ap.Epoch, ap.Version, ap.Release)
					for _, p := range db.Installed(ap.Name) {
						if ap.Arch != p.Arch && ap.Arch != "noarch" {
							continue
						}
						if RPMCompare(p.Version, evr) >= 0 {
							continue
						}
						k := key{p.Name, p.Arch}
						if old, ok := pending[k]; ok && RPMCompare(old.Candidate, evr) >= 0 {
							continue
						}
						pending[k] = PendingUpdate{Name: p.Name, Arch: p.Arch, Installed: p.Version, Candidate: evr, Suite: up.ID}
					}
				}
			}
		}
		for _, p := range pending {
			u.Pending = append(u.Pending, p)
		}
		slices.SortFunc(u.Pending, func(a, b PendingUpdate) int { return strings.Compare(a.Name+"."+a.Arch, b.Name+"."+b.Arch) })
		return u, nil
	})
}

// cachedUpdateInfo collects updateinfo files from the dnf and yum caches:
// /var/cache/dnf/*/repodata/*updateinfo* and /var/cache/yum/**/*updateinfo*
// (four levels deep at most).
func (f *Facts) cachedUpdateInfo() ([]NamedData, error) {
	var out []NamedData
	repos, err := ReadDir(f.guest, "var/cache/dnf")
	if err != nil {
		return nil, err
	}
	for _, r := range repos {
		if !r.IsDir() {
			continue
		}
		if err := f.collectUpdateInfo(path.Join("var/cache/dnf", r.Name(), "repodata"), 0, &out); err != nil {
			return nil, err
		}
	}
	if err := f.collectUpdateInfo("var/cache/yum", 3, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// collectUpdateInfo adds the updateinfo files below dir, depth levels deep.
func (f *Facts) collectUpdateInfo(dir string, depth int, out *[]NamedData) error {
	ents, err := ReadDir(f.guest, dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := path.Join(dir, e.Name())
		switch {
		case e.IsDir() && depth > 0:
			if err := f.collectUpdateInfo(p, depth-1, out); err != nil {
				return err
			}
		case e.Type().IsRegular() && strings.Contains(e.Name(), "updateinfo"):
			b, err := f.guest.ReadFileLimit(p, capIndex)
			if err != nil {
				return err
			}
			*out = append(*out, NamedData{Name: "/" + p, Data: b})
		}
	}
	return nil
}
