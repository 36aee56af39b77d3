package rules

import (
	"fmt"
	"slices"
	"strings"
)

// AptParity is the emulation of `apt-get --just-print upgrade` on the
// image's lists (RULES.md §4.4 "Parity").
type AptParity struct {
	Sources     int      // configured deb sources
	Indexes     []string // Packages indexes of configured sources that were read
	Upgrades    []PendingUpdate
	Security    []PendingUpdate // upgrades whose Inst line mentions security, sorted by display name
	Approximate bool            // a line-count artefact of the script could shift its number (P6)
	Date        string          // oldest Release Date of the indexes read
}

// AptParity computes what img_check's apt dry run would report offline.
func (f *Facts) AptParity() (*AptParity, error) {
	return memo(f, "apt-parity", func() (*AptParity, error) {
		db, err := f.Packages()
		if err != nil {
			return nil, err
		}
		srcs, err := f.configuredSources()
		if err != nil {
			return nil, err
		}
		idx, err := f.parityIndexes(db, srcs)
		if err != nil {
			return nil, err
		}
		res := &AptParity{Sources: len(srcs)}
		var rels []*aptRelease
		for _, ix := range idx {
			res.Indexes = append(res.Indexes, ix.File)
			if !slices.Contains(rels, ix.Release) {
				rels = append(rels, ix.Release)
			}
		}
		res.Date, _ = oldestDate(rels, f.opts.Now)
		res.Upgrades = upgradeSet(db, idx)
		for _, u := range res.Upgrades {
			inst := fmt.Sprintf("Inst %s [%s] (%s %s [%s])", u.Display(), u.Installed, u.Candidate, u.Origins, u.Arch)
			if strings.Contains(strings.ToLower(inst), "security") {
				res.Security = append(res.Security, u)
				res.Approximate = res.Approximate || u.SecurityFromVersion
			} else if strings.Contains(strings.ToLower(u.Name), "security") {
				res.Approximate = true
			}
		}
		slices.SortFunc(res.Security, func(a, b PendingUpdate) int { return strings.Compare(a.Display(), b.Display()) })
		return res, nil
	})
}

// parityIndexes reads the Packages indexes of the configured sources.
func (f *Facts) parityIndexes(db *PackageDB, srcs []aptSource) ([]*aptIndex, error) {
	l := f.lists()
	names, err := l.names()
	if err != nil {
		return nil, err
	}
	want := installedNames(db)
	var out []*aptIndex
	seen := map[string]bool{}
	for _, s := range srcs {
		sf := f.sourceFiles(s, l, names)
		dir := distDir(s)
		rel, err := readSourceRelease(sf, dir)
		if err != nil {
			return nil, err
		}
		rel.Host = uriHost(s.URI)
		var paths []string
		if strings.HasSuffix(s.Suite, "/") {
			paths = append(paths, dir+"Packages")
		} else {
			for _, c := range s.Components {
				for _, a := range sourceArchs(s, db) {
					paths = append(paths, dir+c+"/binary-"+a+"/Packages")
				}
			}
		}
		for _, p := range paths {
			if seen[sf.where(p)] {
				continue
			}
			seen[sf.where(p)] = true
			ix, err := readSourceIndex(sf, p, rel, want)
			if err != nil {
				return nil, err
			}
			if ix != nil {
				out = append(out, ix)
			}
		}
	}
	return out, nil
}

// sourceArchs are the binary-<arch> indexes apt uses for a source.
func sourceArchs(s aptSource, db *PackageDB) []string {
	if len(s.Archs) > 0 {
		return append(slices.Clone(s.Archs), "all")
	}
	return append([]string{db.NativeArch, "all"}, db.ForeignArch...)
}

// readSourceRelease reads InRelease, else Release; a source without
// either gets empty fields.
func readSourceRelease(sf sourceFiles, dir string) (*aptRelease, error) {
	for _, n := range []string{"InRelease", "Release"} {
		b, err := sf.read(dir+n, capConfig*16)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sf.where(dir+n), err)
		}
		if b == nil {
			continue
		}
		r, err := parseRelease(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sf.where(dir+n), err)
		}
		r.File = sf.where(dir + n)
		return r, nil
	}
	return &aptRelease{}, nil
}

// readSourceIndex reads the first present compression of a Packages file,
// or returns nil when there is none.
func readSourceIndex(sf sourceFiles, p string, rel *aptRelease, want map[string]bool) (*aptIndex, error) {
	for _, s := range indexSuffixes {
		b, err := sf.read(p+s, capIndex)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sf.where(p+s), err)
		}
		if b == nil {
			continue
		}
		plain, err := decompressIndex(p+s, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sf.where(p+s), err)
		}
		entries, err := parsePackagesIndex(plain, want)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sf.where(p+s), err)
		}
		return &aptIndex{File: sf.where(p + s), Arch: indexArch(strings.ReplaceAll(p, "/", "_")), Release: rel, Entries: entries}, nil
	}
	return nil, nil
}
