package facts

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// aptListsDir is where apt keeps downloaded indexes in the guest.
const aptListsDir = "var/lib/apt/lists"

// indexSuffixes are the compressions apt may leave on a Packages file, in
// the order a duplicate is preferred.
var indexSuffixes = []string{"", ".xz", ".gz", ".zst", ".lz4", ".bz2"}

// aptRelease is the header of one Release or InRelease file.
type aptRelease struct {
	File                               string // where it was read, for evidence
	Origin, Label, Suite, Codename     string
	Version, Date, ValidUntil          string
	NotAutomatic, ButAutomaticUpgrades bool
	Host                               string // URI host for origin text; "localhost" for file:
}

// security reports whether the release describes a security archive.
func (r *aptRelease) security() bool {
	return strings.Contains(strings.ToLower(r.Label+" "+r.Suite+" "+r.Codename+" "+r.Origin), "security")
}

// origin is apt's origin text for one index.
func (r *aptRelease) origin() string {
	var b strings.Builder
	if r.Label != "" {
		b.WriteString(r.Label + ":")
	}
	switch {
	case r.Suite == "":
		b.WriteString(r.Host)
	case r.Version != "":
		b.WriteString(r.Version + "/" + r.Suite)
	default:
		b.WriteString(r.Suite)
	}
	return b.String()
}

// aptIndex is one Packages index: the entries of installed package names
// only, with the Release it belongs to.
type aptIndex struct {
	File    string // for evidence
	Arch    string // from binary-<arch>; "" for flat repositories
	Release *aptRelease
	Entries map[string][]*Package
}

// listReader reads apt list files from the guest's /var/lib/apt/lists or,
// with --apt-lists, from the user's directory.
type listReader struct {
	g    *fsinspect.Guest
	user fs.FS
}

// lists reads the guest's list directory, or the --apt-lists one.
func (f *Facts) lists() listReader { return listReader{g: f.guest, user: f.opts.AptLists} }

// names lists the list files, sorted. A missing directory has none.
func (l listReader) names() ([]string, error) {
	var ents []fs.DirEntry
	var err error
	if l.user != nil {
		ents, err = fs.ReadDir(l.user, ".")
	} else {
		ents, err = ReadDir(l.g, aptListsDir)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// where names a list file for evidence.
func (l listReader) where(name string) string {
	if l.user != nil {
		return "--apt-lists " + name
	}
	return "/" + path.Join(aptListsDir, name)
}

// read returns the named list file, or nil when it does not exist.
func (l listReader) read(name string, max int64) ([]byte, error) {
	if l.user == nil {
		return ReadIfPresent(l.g, path.Join(aptListsDir, name), max)
	}
	fi, err := fs.Stat(l.user, name)
	if err != nil {
		if fsinspect.IsFact(err) {
			return nil, nil
		}
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %w", name, fsinspect.ErrTooLarge)
	}
	return fs.ReadFile(l.user, name)
}

// parseRelease reads the header fields of a Release or (clear-signed)
// InRelease file. Signatures are not verified.
func parseRelease(b []byte) (*aptRelease, error) {
	if bytes.HasPrefix(b, []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		_, body, ok := bytes.Cut(b, []byte("\n\n"))
		if !ok {
			return nil, fmt.Errorf("clear-signed message without a body")
		}
		body, _, _ = bytes.Cut(body, []byte("\n-----BEGIN PGP SIGNATURE-----"))
		b = body
	}
	// Only the first stanza matters; the checksum lists are continuation lines.
	var r *aptRelease
	err := parseStanzas(b, func(_ int, fl map[string]string) error {
		if r == nil {
			r = &aptRelease{
				Origin: fl["origin"], Label: fl["label"], Suite: fl["suite"], Codename: fl["codename"],
				Version: fl["version"], Date: fl["date"], ValidUntil: fl["valid-until"],
				NotAutomatic:         strings.EqualFold(fl["notautomatic"], "yes"),
				ButAutomaticUpgrades: strings.EqualFold(fl["butautomaticupgrades"], "yes"),
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("no Release fields")
	}
	return r, nil
}

// decompressIndex undoes the compression named by the file's suffix,
// reading at most capIndex bytes of output.
func decompressIndex(name string, b []byte) ([]byte, error) {
	r, done, err := decompressReader(name, b)
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := io.ReadAll(capReader(r))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decompressReader returns the decompressed stream of the index file b,
// by the compression its name's suffix names, and the function that
// releases the decompressor. An uncompressed index over capIndex is
// refused here; a decompressed stream is bounded by its reader
// (capReader).
func decompressReader(name string, b []byte) (io.Reader, func(), error) {
	var r io.Reader
	var err error
	done := func() {}
	switch {
	case strings.HasSuffix(name, ".gz"):
		r, err = gzip.NewReader(bytes.NewReader(b))
	case strings.HasSuffix(name, ".xz"):
		r, err = xz.NewReader(bytes.NewReader(b))
	case strings.HasSuffix(name, ".bz2"):
		r = bzip2.NewReader(bytes.NewReader(b))
	case strings.HasSuffix(name, ".lz4"):
		r = lz4.NewReader(bytes.NewReader(b))
	case strings.HasSuffix(name, ".zst"):
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderMaxMemory(capIndex))
		if err == nil {
			r, done = d, d.Close
		}
	default:
		if len(b) > capIndex {
			return nil, nil, fsinspect.ErrTooLarge
		}
		return bytes.NewReader(b), done, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("decompress: %w", err)
	}
	return r, done, nil
}

// capReader reads r to its end, failing once it yields more than
// capIndex bytes, and names decompression errors.
func capReader(r io.Reader) io.Reader { return &cappedIndex{r: r} }

type cappedIndex struct {
	r io.Reader
	n int64
}

func (c *cappedIndex) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > capIndex {
		return n, fmt.Errorf("decompressed index over %d bytes: %w", capIndex, fsinspect.ErrTooLarge)
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("decompress: %w", err)
	}
	return n, err
}

// streamIndex decompresses the index file b named name and parses it as
// it decompresses, keeping the wanted packages: the decompressed text is
// never held whole.
func streamIndex(name string, b []byte, want map[string]bool) (map[string][]*Package, error) {
	r, done, err := decompressReader(name, b)
	if err != nil {
		return nil, err
	}
	defer done()
	return readPackagesIndex(capReader(r), want)
}

// parsePackagesIndex keeps the stanzas of the named packages only. Other
// stanzas are skipped by their Package line without being parsed, since a
// distribution's index holds tens of thousands of them.
func parsePackagesIndex(b []byte, want map[string]bool) (map[string][]*Package, error) {
	return readPackagesIndex(bytes.NewReader(b), want)
}

// readPackagesIndex is parsePackagesIndex over a stream, holding one
// stanza at a time (at most 16 MiB).
func readPackagesIndex(r io.Reader, want map[string]bool) (map[string][]*Package, error) {
	out := map[string][]*Package{}
	line := 1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if end := bytes.Index(data, []byte("\n\n")); end >= 0 {
			return end + 2, data[:end+1], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		st := sc.Bytes()
		start := line
		line += bytes.Count(st, []byte("\n")) + 1
		if len(bytes.TrimSpace(st)) == 0 {
			continue
		}
		if name, ok := stanzaPackage(st); ok && !want[name] {
			continue
		}
		err := parseStanzas(st, func(_ int, fl map[string]string) error {
			name := fl["package"]
			if name == "" {
				return fmt.Errorf("stanza at line %d has no Package field", start)
			}
			if !want[name] {
				return nil
			}
			if fl["version"] == "" {
				return fmt.Errorf("package %s (line %d) has no Version", name, start)
			}
			out[name] = append(out[name], &Package{
				Name: name, Arch: fl["architecture"], Version: fl["version"],
				Provides: fl["provides"], Depends: fl["depends"], PreDepends: fl["pre-depends"],
				Breaks: fl["breaks"], Conflicts: fl["conflicts"],
			})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line, err)
	}
	return out, nil
}

// stanzaPackage returns the value of a stanza's leading "Package:" line,
// the form every Packages index uses; ok is false for any other shape,
// which is then parsed in full.
func stanzaPackage(st []byte) (string, bool) {
	first, _, _ := bytes.Cut(st, []byte("\n"))
	name, ok := bytes.CutPrefix(first, []byte("Package:"))
	if !ok {
		return "", false
	}
	name = bytes.TrimSpace(name)
	return string(name), len(name) > 0
}

// indexArch returns the architecture of a Packages list file from its
// binary-<arch> component, or "" for a flat repository.
func indexArch(name string) string {
	i := strings.Index(name, "binary-")
	if i < 0 {
		return ""
	}
	a, _, _ := strings.Cut(name[i+len("binary-"):], "_")
	a, _, _ = strings.Cut(a, "/")
	return a
}

// stripIndexSuffix removes a compression suffix from a Packages file name
// and reports whether the rest names a Packages index.
func stripIndexSuffix(name string) (string, bool) {
	for _, s := range indexSuffixes[1:] {
		if strings.HasSuffix(name, s) {
			name = strings.TrimSuffix(name, s)
			break
		}
	}
	return name, strings.HasSuffix(name, "Packages")
}

// installedNames is the set of names of installed packages.
func installedNames(db *PackageDB) map[string]bool {
	m := map[string]bool{}
	for _, p := range db.Packages {
		if p.Installed() {
			m[p.Name] = true
		}
	}
	return m
}

// archMatches reports whether an index entry of arch a can replace an
// installed package of arch b ("all" matches any).
func archMatches(a, b string) bool { return a == b || a == "all" || b == "all" }

// releaseDate parses a Release Date field.
func releaseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// oldestDate returns the oldest Date of the releases, as written, with its age in days at now.
func oldestDate(rels []*aptRelease, now time.Time) (string, int) {
	var best string
	var bestT time.Time
	for _, r := range rels {
		t, ok := releaseDate(r.Date)
		if !ok {
			continue
		}
		if best == "" || t.Before(bestT) {
			best, bestT = r.Date, t
		}
	}
	if best == "" {
		return "", 0
	}
	return best, int(now.Sub(bestT).Hours() / 24)
}

// PendingUpdate is one installed package with a newer candidate.
type PendingUpdate struct {
	Name, Arch          string
	Installed           string // installed version
	Candidate           string
	Suite               string // suite (or codename) of the security index carrying the candidate
	Origins             string // apt's origin text, parity only
	Held, KeptBack      bool
	Foreign             bool // a foreign-architecture package, written name:arch
	SecurityFromVersion bool // parity: "security" appears only in the name or installed version
}

// Display is the name apt prints: name, or name:arch for a foreign architecture.
func (u PendingUpdate) Display() string {
	if u.Foreign {
		return u.Name + ":" + u.Arch
	}
	return u.Name
}
