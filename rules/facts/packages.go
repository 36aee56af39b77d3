package facts

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

const (
	dpkgStatus  = "var/lib/dpkg/status"
	dpkgUpdates = "var/lib/dpkg/updates"
	dpkgArch    = "var/lib/dpkg/arch"
)

// Package is one package of the guest's package database.
type Package struct {
	Name, Arch string
	// Version is the full version: [epoch:]upstream[-revision] for dpkg,
	// [epoch:]version-release for rpm.
	Version string
	Source  string // dpkg Source field (name only)

	// dpkg only.
	Want, Flag, State string // the three words of Status:
	Provides          string
	Depends           string
	PreDepends        string
	Breaks, Conflicts string
}

// Installed reports whether the package is installed. rpm
// packages are always installed.
func (p *Package) Installed() bool {
	switch p.State {
	case "", "installed", "triggers-pending", "triggers-awaited":
		return true
	}
	return false
}

// Held reports whether dpkg's want is hold.
func (p *Package) Held() bool { return p.Want == "hold" }

// Upstream is the upstream version: the dpkg version
// without epoch and revision, or the rpm VERSION tag.
func (p *Package) Upstream() string {
	v := p.Version
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return v
}

// PackageDB is the guest's package database.
type PackageDB struct {
	Format      string // "dpkg", "rpm-sqlite", "rpm-bdb" or "rpm-ndb"; "" when the family has none
	Path        string // guest path of the database
	NativeArch  string // dpkg only
	ForeignArch []string
	Packages    []*Package // every entry, installed or not, in file order
	Journal     []string   // dpkg updates files applied, guest paths
	Reinstall   []string   // dpkg packages flagged reinstreq
	EnvFiles    []string   // rpm __db.* files (a host-specific BDB environment)
}

// Installed returns the installed packages called name.
func (db *PackageDB) Installed(name string) []*Package {
	var out []*Package
	for _, p := range db.Packages {
		if p.Name == name && p.Installed() {
			out = append(out, p)
		}
	}
	return out
}

// Packages reads the package database of the guest's family once:
// dpkg or rpm. An unknown family has an empty
// database. On a deb or rpm image a missing or corrupt database is an error.
func (f *Facts) Packages() (*PackageDB, error) {
	return Memo(f, "packages", func() (*PackageDB, error) {
		fam, err := f.Family()
		if err != nil {
			return nil, err
		}
		switch fam {
		case Deb:
			return f.readDpkg()
		case RPM:
			return f.readRPM()
		}
		return &PackageDB{}, nil
	})
}

// readDpkg reads the status file, then applies the updates journal.
func (f *Facts) readDpkg() (*PackageDB, error) {
	pkgs, err := f.streamDpkgStatus(dpkgStatus)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", dpkgStatus, err)
	}
	db := &PackageDB{Format: "dpkg", Path: "/" + dpkgStatus, Packages: pkgs}
	if err := f.applyJournal(db); err != nil {
		return nil, err
	}
	arch, err := ReadIfPresent(f.guest, dpkgArch, CapConfig)
	if err != nil {
		return nil, err
	}
	if lines := strings.Fields(string(arch)); len(lines) > 0 {
		db.NativeArch, db.ForeignArch = lines[0], lines[1:]
	} else if d := db.Installed("dpkg"); len(d) > 0 {
		db.NativeArch = d[0].Arch
	} else {
		db.NativeArch = commonArch(db.Packages)
	}
	for _, p := range db.Packages {
		if p.Flag == "reinstreq" {
			db.Reinstall = append(db.Reinstall, p.Name)
		}
	}
	return db, nil
}

// commonArch is the native-architecture guess of last resort, for trees
// with neither /var/lib/dpkg/arch nor a dpkg package: the architecture most
// installed packages carry ("all" aside; ties go to the lexically first).
func commonArch(pkgs []*Package) string {
	count := map[string]int{}
	best := ""
	for _, p := range pkgs {
		if !p.Installed() || p.Arch == "" || p.Arch == "all" {
			continue
		}
		count[p.Arch]++
		if n := count[p.Arch]; n > count[best] || (n == count[best] && p.Arch < best) {
			best = p.Arch
		}
	}
	return best
}

// applyJournal merges /var/lib/dpkg/updates/<digits> in numeric order.
func (f *Facts) applyJournal(db *PackageDB) error {
	ents, err := ReadDir(f.guest, dpkgUpdates)
	if err != nil {
		return err
	}
	type entry struct {
		n    int
		name string
	}
	var files []entry
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && strings.Trim(e.Name(), "0123456789") == "" {
			files = append(files, entry{n, e.Name()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].n < files[j].n })
	var index map[[2]string]int // name and arch -> position in db.Packages
	for _, e := range files {
		p := path.Join(dpkgUpdates, e.name)
		upd, err := f.streamDpkgStatus(p)
		if err != nil {
			return fmt.Errorf("/%s: %w", p, err)
		}
		if index == nil {
			index = make(map[[2]string]int, len(db.Packages))
			for i, p := range db.Packages {
				index[[2]string{p.Name, p.Arch}] = i
			}
		}
		for _, u := range upd {
			if i, ok := index[[2]string{u.Name, u.Arch}]; ok {
				db.Packages[i] = u
				continue
			}
			if len(db.Packages) >= maxPackages {
				return fmt.Errorf("/%s: more than %d packages: %w", p, maxPackages, fsinspect.ErrTooLarge)
			}
			index[[2]string{u.Name, u.Arch}] = len(db.Packages)
			db.Packages = append(db.Packages, u)
		}
		db.Journal = append(db.Journal, "/"+p)
	}
	return nil
}

// streamDpkgStatus parses the status (or journal) file name as it reads
// it, never holding the file whole: memory grows with the packages kept,
// at most maxPackages.
func (f *Facts) streamDpkgStatus(name string) ([]*Package, error) {
	file, err := f.guest.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > capDpkgStatus {
		return nil, fmt.Errorf("%d bytes, over the %d-byte cap: %w", fi.Size(), capDpkgStatus, fsinspect.ErrTooLarge)
	}
	return readDpkgStatus(io.LimitReader(file, capDpkgStatus))
}

// parseDpkgStatus parses a dpkg status file (or an updates journal file):
// stanzas separated by blank lines, continuation lines starting with a
// blank, case-insensitive field names.
func parseDpkgStatus(b []byte) ([]*Package, error) { return readDpkgStatus(bytes.NewReader(b)) }

// readDpkgStatus is parseDpkgStatus over a stream; more than maxPackages
// stanzas are an error.
func readDpkgStatus(r io.Reader) ([]*Package, error) {
	var out []*Package
	err := scanStanzas(r, func(line int, fields map[string]string) error {
		if len(out) >= maxPackages {
			return fmt.Errorf("more than %d packages: %w", maxPackages, fsinspect.ErrTooLarge)
		}
		p := &Package{
			Name: fields["package"], Arch: fields["architecture"], Version: fields["version"],
			Provides: fields["provides"], Depends: fields["depends"], PreDepends: fields["pre-depends"],
			Breaks: fields["breaks"], Conflicts: fields["conflicts"],
		}
		if p.Name == "" {
			return fmt.Errorf("stanza at line %d has no Package field", line)
		}
		p.Source, _, _ = strings.Cut(fields["source"], " ")
		st := strings.Fields(fields["status"])
		if len(st) != 3 {
			return fmt.Errorf("package %s (line %d): malformed Status %q", p.Name, line, fields["status"])
		}
		p.Want, p.Flag, p.State = st[0], st[1], st[2]
		out = append(out, p)
		return nil
	})
	return out, err
}

// parseStanzas splits deb822 text into stanzas and calls fn with each
// stanza's first line and its fields, keyed by lower-cased name.
func parseStanzas(b []byte, fn func(line int, fields map[string]string) error) error {
	return scanStanzas(bytes.NewReader(b), fn)
}

// scanStanzas is parseStanzas over a reader, for large package indexes.
// fn must not keep the map: it is cleared for the next stanza.
func scanStanzas(r io.Reader, fn func(line int, fields map[string]string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4<<10), 16<<20) // grows to the longest line; most stanzas are small
	fields := map[string]string{}
	keys := map[string]string{} // field names as written → lower-cased, so each is made once
	// The value of field last is built in val and stored when the next
	// field or the stanza's end comes: appending each continuation line
	// to the map's string would copy a long field (a Release file's
	// checksum list) once per line.
	var last string
	var val []byte
	store := func() {
		if last != "" {
			fields[last] = string(val)
		}
	}
	start, n := 0, 0
	flush := func() error {
		store()
		if len(fields) == 0 {
			return nil
		}
		err := fn(start, fields)
		clear(fields)
		last = ""
		return err
	}
	for sc.Scan() {
		n++
		line := sc.Bytes()
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			if err := flush(); err != nil {
				return err
			}
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return fmt.Errorf("line %d: continuation line outside a field", n)
			}
			val = append(val, '\n')
			val = append(val, bytes.TrimSpace(line)...)
		case line[0] == '#':
		default:
			k, v, ok := bytes.Cut(line, []byte(":"))
			if !ok || len(k) == 0 || bytes.IndexByte(k, ' ') >= 0 || bytes.IndexByte(k, '\t') >= 0 {
				return fmt.Errorf("line %d: not a field", n)
			}
			store()
			if len(fields) == 0 {
				start = n
			}
			lower, known := keys[string(k)]
			if !known {
				lower = strings.ToLower(string(k))
				if len(keys) < maxFieldNames {
					keys[string(k)] = lower
				}
			}
			last = lower
			val = append(val[:0], bytes.TrimSpace(v)...)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return flush()
}

// maxFieldNames bounds the field names scanStanzas remembers lower-cased:
// a real index has a few dozen, a hostile one may have a new one per line.
const maxFieldNames = 256
