package facts

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// AptDryRun is `apt-get --just-print upgrade` emulated offline on the
// image's lists.
type AptDryRun struct {
	Sources int      // configured deb sources
	Indexes []string // Packages indexes of configured sources
	// Upgrades is the upgrade set. It stays nil when no index whose origin
	// text mentions security offers anything newer: no Inst line can then
	// mention security, and the other indexes are not read.
	Upgrades    []PendingUpdate
	Security    []PendingUpdate // upgrades whose Inst line mentions security, sorted by display name
	Approximate bool            // a line-count artefact of the script could shift its number (P6)
	Date        string          // oldest Release Date of the configured sources with indexes
}

// AptDryRun computes the dry run once: what img_check.sh's apt test would see.
func (f *Facts) AptDryRun() (*AptDryRun, error) {
	return Memo(f, "apt-dry-run", func() (*AptDryRun, error) {
		db, err := f.Packages()
		if err != nil {
			return nil, err
		}
		srcs, err := f.configuredSources()
		if err != nil {
			return nil, err
		}
		refs, err := f.dryRunRefs(db, srcs)
		if err != nil {
			return nil, err
		}
		res := &AptDryRun{Sources: len(srcs)}
		var rels []*aptRelease
		for _, r := range refs {
			res.Indexes = append(res.Indexes, r.sf.where(r.file))
			if !slices.Contains(rels, r.rel) {
				rels = append(rels, r.rel)
			}
		}
		res.Date, _ = oldestDate(rels, f.opts.Now)
		want := installedNames(db)
		var idx []*aptIndex
		read := func(security bool) error {
			for _, r := range refs {
				if r.rel.originSecurity() != security {
					continue
				}
				ix, err := r.read(want)
				if err != nil {
					return err
				}
				idx = append(idx, ix)
			}
			return nil
		}
		if err := read(true); err != nil {
			return nil, err
		}
		if len(newerIn(db, idx)) == 0 && !securityNamed(db) {
			return res, nil
		}
		if err := read(false); err != nil {
			return nil, err
		}
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

// originSecurity reports whether apt's origin text for the release
// mentions security, which is what the script's grep sees.
func (r *aptRelease) originSecurity() bool {
	return strings.Contains(strings.ToLower(r.origin()), "security")
}

// securityNamed reports whether an installed package's name or version
// mentions security: its Inst line then matches whatever its origin.
func securityNamed(db *PackageDB) bool {
	for _, p := range db.Packages {
		if p.Installed() && strings.Contains(strings.ToLower(p.Name+" "+p.Version), "security") {
			return true
		}
	}
	return false
}

// parityRef is a present Packages file of a configured source, not yet read.
type parityRef struct {
	sf   sourceFiles
	file string // path relative to the source URI, with its compression suffix
	rel  *aptRelease
}

// read decompresses and parses the index, keeping the wanted packages.
func (r parityRef) read(want map[string]bool) (*aptIndex, error) {
	b, err := r.sf.read(r.file, capIndexFile)
	if err == nil && b == nil {
		err = fs.ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.sf.where(r.file), err)
	}
	entries, err := streamIndex(r.file, b, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.sf.where(r.file), err)
	}
	return &aptIndex{File: r.sf.where(r.file), Arch: indexArch(strings.ReplaceAll(r.file, "/", "_")), Release: r.rel, Entries: entries}, nil
}

// dryRunRefs finds the Packages files of the configured sources and reads
// their Release files (which must decode).
func (f *Facts) dryRunRefs(db *PackageDB, srcs []aptSource) ([]parityRef, error) {
	l := f.lists()
	names, err := l.names()
	if err != nil {
		return nil, err
	}
	var out []parityRef
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
			for _, suffix := range indexSuffixes {
				ok, err := sf.exists(p + suffix)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", sf.where(p+suffix), err)
				}
				if ok {
					out = append(out, parityRef{sf: sf, file: p + suffix, rel: rel})
					break
				}
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
		b, err := sf.read(dir+n, CapConfig*16)
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
