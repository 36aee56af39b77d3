package facts

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// AptUpdates is the marketplace view of pending security updates.
type AptUpdates struct {
	Evaluable bool            // at least one relevant security index was found
	Pending   []PendingUpdate // sorted by name
	Date      string          // oldest Date of the security Release files used
	AgeDays   int
	Indexes   []string // security indexes used, for evidence
}

// AptSecurity computes pending security updates the marketplace way. The
// security indexes are read first; the other relevant indexes are read
// only when a security index offers something newer than what is
// installed, and then only for those packages, because only they can be
// pending (a distribution's main index is the bulk of the work).
func (f *Facts) AptSecurity() (*AptUpdates, error) {
	return Memo(f, "apt-security", func() (*AptUpdates, error) {
		db, err := f.Packages()
		if err != nil {
			return nil, err
		}
		osr, err := f.OSRelease()
		if err != nil {
			return nil, err
		}
		refs, err := f.marketIndexes(db, osr.Codename)
		if err != nil {
			return nil, err
		}
		l := f.lists()
		var idx []*aptIndex
		for _, r := range refs {
			if !r.rel.security() {
				continue
			}
			ix, err := readIndex(l, r.base, r.rel, installedNames(db))
			if err != nil {
				return nil, err
			}
			idx = append(idx, ix)
		}
		if newer := newerIn(db, idx); len(newer) > 0 {
			for _, r := range refs {
				if r.rel.security() || r.rel.NotAutomatic {
					continue
				}
				ix, err := readIndex(l, r.base, r.rel, newer)
				if err != nil {
					return nil, err
				}
				idx = append(idx, ix)
			}
		}
		return pendingSecurity(db, idx, f.opts.Now), nil
	})
}

// newerIn returns the names of installed packages for which some index
// holds a newer version.
func newerIn(db *PackageDB, idx []*aptIndex) map[string]bool {
	out := map[string]bool{}
	for _, p := range db.Packages {
		if !p.Installed() {
			continue
		}
		for _, ix := range idx {
			for _, e := range ix.Entries[p.Name] {
				if archMatches(e.Arch, p.Arch) && DebCompare(e.Version, p.Version) > 0 {
					out[p.Name] = true
				}
			}
		}
	}
	return out
}

// indexRef is a Packages list file paired with its Release, not yet read.
type indexRef struct {
	base string // list name without compression suffix
	rel  *aptRelease
}

// marketIndexes pairs the Packages files of the list directory with their
// Release by name prefix: native and all
// architectures only, whose Release codename or suite matches the image
// codename. Every Release file is read and must decode.
func (f *Facts) marketIndexes(db *PackageDB, codename string) ([]indexRef, error) {
	l := f.lists()
	names, err := l.names()
	if err != nil {
		return nil, err
	}
	releases := map[string]*aptRelease{} // prefix → release
	for _, n := range names {
		prefix, ok := strings.CutSuffix(n, "InRelease")
		if !ok {
			if prefix, ok = strings.CutSuffix(n, "Release"); !ok {
				continue
			}
			if _, have := releases[prefix]; have {
				continue // InRelease preferred
			}
		}
		b, err := l.read(n, CapConfig*16)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.where(n), err)
		}
		r, err := parseRelease(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.where(n), err)
		}
		r.File = l.where(n)
		releases[prefix] = r
	}
	seen := map[string]bool{}
	var out []indexRef
	for _, n := range names {
		base, ok := stripIndexSuffix(n)
		if !ok || seen[base] {
			continue
		}
		arch := indexArch(n)
		if arch != "" && arch != db.NativeArch && arch != "all" {
			continue
		}
		rel := longestPrefix(releases, n)
		if rel == nil || !relevant(rel, codename) {
			continue
		}
		seen[base] = true
		out = append(out, indexRef{base, rel})
	}
	return out, nil
}

// readIndex reads the first present compression of the Packages list base.
func readIndex(l listReader, base string, rel *aptRelease, want map[string]bool) (*aptIndex, error) {
	for _, s := range indexSuffixes {
		n := base + s
		b, err := l.read(n, capIndexFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.where(n), err)
		}
		if b == nil {
			continue
		}
		entries, err := streamIndex(n, b, want)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.where(n), err)
		}
		return &aptIndex{File: l.where(n), Arch: indexArch(n), Release: rel, Entries: entries}, nil
	}
	return nil, fmt.Errorf("%s: %w", l.where(base), fs.ErrNotExist)
}

// longestPrefix returns the release whose list-name prefix is the
// longest prefix of name.
func longestPrefix(rels map[string]*aptRelease, name string) *aptRelease {
	var best *aptRelease
	bestLen := -1
	for p, r := range rels {
		if strings.HasPrefix(name, p) && len(p) > bestLen {
			best, bestLen = r, len(p)
		}
	}
	return best
}

// relevant is step 3 of the security-update selection.
func relevant(r *aptRelease, codename string) bool {
	if codename == "" {
		return false
	}
	cut := func(s string) string {
		i := strings.IndexAny(s, "-/")
		if i >= 0 {
			return s[:i]
		}
		return s
	}
	return cut(r.Codename) == codename || cut(r.Suite) == codename
}

// pendingSecurity applies steps 5–8.
func pendingSecurity(db *PackageDB, idx []*aptIndex, now time.Time) *AptUpdates {
	u := &AptUpdates{}
	var secRels []*aptRelease
	for _, ix := range idx {
		if ix.Release.security() {
			u.Evaluable = true
			u.Indexes = append(u.Indexes, ix.File)
			if !slices.Contains(secRels, ix.Release) {
				secRels = append(secRels, ix.Release)
			}
		}
	}
	if !u.Evaluable {
		return u
	}
	u.Date, u.AgeDays = oldestDate(secRels, now)
	for _, p := range db.Packages {
		if !p.Installed() {
			continue
		}
		cand := p.Version
		for _, ix := range idx {
			if ix.Release.NotAutomatic {
				continue
			}
			for _, e := range ix.Entries[p.Name] {
				if archMatches(e.Arch, p.Arch) && DebCompare(e.Version, cand) > 0 {
					cand = e.Version
				}
			}
		}
		if cand == p.Version {
			continue
		}
		var suite string
		var candPkg *Package
		for _, ix := range idx {
			for _, e := range ix.Entries[p.Name] {
				if e.Version == cand && archMatches(e.Arch, p.Arch) {
					if candPkg == nil {
						candPkg = e
					}
					if ix.Release.security() && suite == "" {
						suite = firstNonEmpty(ix.Release.Suite, ix.Release.Codename)
					}
				}
			}
		}
		if suite == "" {
			continue
		}
		u.Pending = append(u.Pending, PendingUpdate{
			Name: p.Name, Arch: p.Arch, Installed: p.Version, Candidate: cand, Suite: suite,
			Held: p.Held(), KeptBack: !dependsInstalled(candPkg, db),
		})
	}
	slices.SortFunc(u.Pending, func(a, b PendingUpdate) int { return strings.Compare(a.Name+":"+a.Arch, b.Name+":"+b.Arch) })
	return u
}

// dependsInstalled reports whether every Depends and Pre-Depends group of
// p has an alternative that is installed or provided by an installed
// package, versions aside (the marketplace kept-back tag).
func dependsInstalled(p *Package, db *PackageDB) bool {
	names := map[string]bool{}
	for _, q := range db.Packages {
		if !q.Installed() {
			continue
		}
		names[q.Name] = true
		for _, r := range parseRelations(q.Provides) {
			names[r[0].name] = true
		}
	}
	for _, group := range append(parseRelations(p.PreDepends), parseRelations(p.Depends)...) {
		ok := false
		for _, alt := range group {
			ok = ok || names[alt.name]
		}
		if !ok {
			return false
		}
	}
	return true
}
