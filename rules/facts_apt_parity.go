package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// aptSource is one configured `deb` source: a URI and a suite, with the
// components and architectures it asks for.
type aptSource struct {
	URI        string
	Suite      string
	Components []string
	Archs      []string // arch= option; empty means native, all and foreign
	Where      string   // file:line, for evidence
}

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
	c := debCompare(v, r.version)
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

// parseSourcesList reads one-line `deb` entries (sources.list format).
func parseSourcesList(b []byte, file string) []aptSource {
	var out []aptSource
	n := 0
	for line := range strings.Lines(string(b)) {
		n++
		line, _, _ = strings.Cut(line, "#")
		var opts string
		if i := strings.Index(line, "["); i >= 0 {
			if j := strings.Index(line[i:], "]"); j >= 0 {
				opts, line = line[i+1:i+j], line[:i]+" "+line[i+j+1:]
			}
		}
		w := strings.Fields(line)
		if len(w) < 3 || w[0] != "deb" {
			continue
		}
		s := aptSource{URI: w[1], Suite: w[2], Components: w[3:], Where: fmt.Sprintf("%s:%d", file, n)}
		for _, o := range strings.Fields(opts) {
			if k, v, ok := strings.Cut(o, "="); ok && (k == "arch" || k == "arch+") {
				s.Archs = append(s.Archs, strings.Split(v, ",")...)
			}
		}
		out = append(out, s)
	}
	return out
}

// parseDeb822Sources reads `.sources` stanzas with Types: deb.
func parseDeb822Sources(b []byte, file string) ([]aptSource, error) {
	var out []aptSource
	err := parseStanzas(b, func(line int, fl map[string]string) error {
		if !slices.Contains(strings.Fields(fl["types"]), "deb") || strings.EqualFold(fl["enabled"], "no") {
			return nil
		}
		for _, uri := range strings.Fields(fl["uris"]) {
			for _, suite := range strings.Fields(fl["suites"]) {
				out = append(out, aptSource{
					URI: uri, Suite: suite, Components: strings.Fields(fl["components"]),
					Archs: strings.Fields(fl["architectures"]), Where: fmt.Sprintf("%s:%d", file, line),
				})
			}
		}
		return nil
	})
	return out, err
}

// configuredSources reads /etc/apt/sources.list and sources.list.d.
func (f *Facts) configuredSources() ([]aptSource, error) {
	b, err := readIfPresent(f.guest, "etc/apt/sources.list", capConfig)
	if err != nil {
		return nil, err
	}
	out := parseSourcesList(b, "/etc/apt/sources.list")
	ents, err := readDirFact(f.guest, "etc/apt/sources.list.d")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		p := path.Join("etc/apt/sources.list.d", e.Name())
		list, sources := strings.HasSuffix(e.Name(), ".list"), strings.HasSuffix(e.Name(), ".sources")
		if !list && !sources {
			continue
		}
		b, err := readIfPresent(f.guest, p, capConfig)
		if err != nil {
			return nil, err
		}
		if list {
			out = append(out, parseSourcesList(b, "/"+p)...)
			continue
		}
		s, err := parseDeb822Sources(b, "/"+p)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		out = append(out, s...)
	}
	return out, nil
}

// uriToFileName is apt's list-file name for a URI: scheme and credentials
// dropped, unsafe characters percent-encoded, "/" turned into "_".
func uriToFileName(uri string) string {
	rest := uri
	if i := strings.Index(rest, ":"); i > 0 && !strings.Contains(rest[:i], "/") {
		rest = rest[i+1:]
	}
	if r, ok := strings.CutPrefix(rest, "//"); ok {
		host, p, _ := strings.Cut(r, "/")
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
		rest = host + "/" + p
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("\\|{}[]<>\"^~_=!@#$%&*", c) >= 0 {
			fmt.Fprintf(&b, "%%%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return strings.ReplaceAll(b.String(), "/", "_")
}

// uriHost is the host apt shows when a Release has no Suite.
func uriHost(uri string) string {
	if strings.HasPrefix(uri, "file:") {
		return "localhost"
	}
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	host, _, _ = strings.Cut(host, ":")
	return host
}

// sourceFiles reads the files of one source, by path relative to its URI:
// from the list directory, or, for a file: source without list files,
// from the repository inside the guest.
type sourceFiles struct {
	read  func(rel string, max int64) ([]byte, error)
	where func(rel string) string
}

func (f *Facts) sourceFiles(s aptSource, l listReader, names []string) sourceFiles {
	uri := strings.TrimSuffix(s.URI, "/") + "/"
	listed := sourceFiles{
		read:  func(rel string, max int64) ([]byte, error) { return l.read(uriToFileName(uri+rel), max) },
		where: func(rel string) string { return l.where(uriToFileName(uri + rel)) },
	}
	if !strings.HasPrefix(uri, "file:") {
		return listed
	}
	prefix := uriToFileName(uri + distDir(s))
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return listed
		}
	}
	root := strings.TrimPrefix(uri, "file:")
	root = strings.TrimLeft(root, "/")
	return sourceFiles{
		read:  func(rel string, max int64) ([]byte, error) { return readIfPresent(f.guest, path.Join(root, rel), max) },
		where: func(rel string) string { return "/" + path.Join(root, rel) },
	}
}

// distDir is the directory of a source's Release file relative to its
// URI: "dists/<suite>/", or the suite itself for a flat repository.
func distDir(s aptSource) string {
	if strings.HasSuffix(s.Suite, "/") {
		if s.Suite == "./" {
			return ""
		}
		return strings.TrimPrefix(s.Suite, "./")
	}
	return "dists/" + s.Suite + "/"
}

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

// priority is apt's default pin of an index (RULES.md §4.4 "Parity" step 3).
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
				if !archMatches(e.Arch, p.Arch) || debCompare(e.Version, p.Version) < 0 {
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
			if v.prio > best.prio || (v.prio == best.prio && debCompare(v.v, best.v) > 0) {
				best = v
			}
		}
		if best.pkg == nil || debCompare(best.v, p.Version) <= 0 {
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
