package facts

import (
	"slices"
	"strings"
)

// depRelation is one alternative of a Depends-style field: name[:arch] [(op version)].
type depRelation struct {
	name, arch, op, version string
}

// parseRelations splits a Depends-style field into groups of alternatives.
func parseRelations(s string) [][]depRelation {
	var out [][]depRelation
	for _, group := range strings.Split(s, ",") {
		var alts []depRelation
		for _, a := range strings.Split(group, "|") {
			a = strings.TrimSpace(a)
			if i := strings.IndexAny(a, "[<"); i >= 0 && !strings.Contains(a[:i], "(") {
				a = strings.TrimSpace(a[:i]) // architecture or profile restrictions
			}
			if a == "" {
				continue
			}
			var r depRelation
			name, ver, _ := strings.Cut(a, "(")
			r.name = strings.TrimSpace(name)
			r.name, r.arch, _ = strings.Cut(r.name, ":")
			if ver != "" {
				ver = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(ver), ")"))
				i := strings.IndexFunc(ver, func(c rune) bool { return !strings.ContainsRune("<>=", c) })
				if i < 0 {
					i = len(ver)
				}
				r.op, r.version = ver[:i], strings.TrimSpace(ver[i:])
			}
			alts = append(alts, r)
		}
		if len(alts) > 0 {
			out = append(out, alts)
		}
	}
	return out
}

// versionOK reports whether version v satisfies the depRelation's constraint.
func (r depRelation) versionOK(v string) bool {
	if r.op == "" {
		return true
	}
	c := DebCompare(v, r.version)
	switch r.op {
	case "<<":
		return c < 0
	case "<=", "<":
		return c <= 0
	case "=":
		return c == 0
	case ">=", ">":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}

// archOK applies the :arch qualifier (":any" and ":native" are ignored).
func (r depRelation) archOK(arch string) bool {
	return r.arch == "" || r.arch == "any" || r.arch == "native" || r.arch == arch || arch == "all"
}

// priority is apt's default pin of an index.
func (r *aptRelease) priority() int {
	switch {
	case r.NotAutomatic && r.ButAutomaticUpgrades:
		return 100
	case r.NotAutomatic:
		return 1
	}
	return 500
}

// aptState is one installed package and what apt would make of it.
type aptState struct {
	inst *Package
	cand *Package // candidate entry, nil when none is newer
	up   bool     // in the upgrade set
	upd  PendingUpdate
}

// post is the package's version and fields after the upgrade.
func (s *aptState) post() *Package {
	if s.up {
		return s.cand
	}
	return s.inst
}

// upgradeSet emulates apt-get upgrade: newer candidates, minus held
// packages, minus those whose dependencies or conflicts would break.
func upgradeSet(db *PackageDB, idx []*aptIndex) []PendingUpdate {
	var states []*aptState
	for _, p := range db.Packages {
		if !p.Installed() {
			continue
		}
		s := &aptState{inst: p}
		states = append(states, s)
		type ver struct {
			v    string
			prio int
			pkg  *Package
		}
		best := ver{p.Version, 100, nil}
		var all []ver
		for _, ix := range idx {
			for _, e := range ix.Entries[p.Name] {
				if !archMatches(e.Arch, p.Arch) || DebCompare(e.Version, p.Version) < 0 {
					continue
				}
				all = append(all, ver{e.Version, ix.Release.priority(), e})
			}
		}
		for _, v := range all {
			if v.v == p.Version && v.prio > best.prio {
				best.prio = v.prio
			}
		}
		for _, v := range all {
			if v.prio > best.prio || (v.prio == best.prio && DebCompare(v.v, best.v) > 0) {
				best = v
			}
		}
		if best.pkg == nil || DebCompare(best.v, p.Version) <= 0 {
			continue
		}
		s.cand = best.pkg
		var origins []string
		for _, ix := range idx {
			for _, e := range ix.Entries[p.Name] {
				if e.Version == best.v && archMatches(e.Arch, p.Arch) && !slices.Contains(origins, ix.Release.origin()) {
					origins = append(origins, ix.Release.origin())
				}
			}
		}
		s.upd = PendingUpdate{
			Name: p.Name, Arch: firstNonEmpty(best.pkg.Arch, p.Arch), Installed: p.Version, Candidate: best.v,
			Origins: strings.Join(origins, ", "), Held: p.Held(),
			Foreign: p.Arch != db.NativeArch && p.Arch != "all" && db.NativeArch != "",
		}
		o := strings.ToLower(s.upd.Origins)
		s.upd.SecurityFromVersion = !strings.Contains(o, "security") &&
			(strings.Contains(strings.ToLower(p.Name), "security") || strings.Contains(strings.ToLower(p.Version), "security"))
		s.up = !p.Held()
	}
	for changed := true; changed; {
		changed = false
		for _, s := range states {
			if s.up && !depInstallable(s, states) {
				s.up, s.upd.KeptBack, changed = false, true, true
			}
		}
	}
	var out []PendingUpdate
	for _, s := range states {
		if s.up {
			out = append(out, s.upd)
		}
	}
	return out
}

// installable reports whether s's candidate can be installed alongside
// the post-upgrade aptState of every other package.
func depInstallable(s *aptState, states []*aptState) bool {
	c := s.cand
	for _, group := range append(parseRelations(c.PreDepends), parseRelations(c.Depends)...) {
		if !slices.ContainsFunc(group, func(r depRelation) bool { return depSatisfied(r, states) }) {
			return false
		}
	}
	for _, q := range states {
		if q == s || q.inst.Name == s.inst.Name {
			continue
		}
		if depConflicts(c, q.post()) || depConflicts(q.post(), c) {
			return false
		}
	}
	return true
}

// satisfied reports whether an installed package, in its post-upgrade
// aptState, satisfies the alternative r by name or by Provides.
func depSatisfied(r depRelation, states []*aptState) bool {
	for _, q := range states {
		if depMatches(r, q.post()) {
			return true
		}
	}
	return false
}

// matches reports whether package p satisfies r, by name or by Provides.
func depMatches(r depRelation, p *Package) bool {
	if p.Name == r.name && r.archOK(p.Arch) && r.versionOK(p.Version) {
		return true
	}
	for _, g := range parseRelations(p.Provides) {
		pr := g[0]
		if pr.name != r.name {
			continue
		}
		if r.op == "" || (pr.op == "=" && r.versionOK(pr.version)) {
			return true
		}
	}
	return false
}

// conflicts reports whether a's Breaks or Conflicts match b.
func depConflicts(a, b *Package) bool {
	for _, g := range append(parseRelations(a.Breaks), parseRelations(a.Conflicts)...) {
		for _, r := range g {
			if depMatches(r, b) {
				return true
			}
		}
	}
	return false
}
