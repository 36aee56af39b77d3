package facts

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
	b, err := ReadIfPresent(f.guest, "etc/apt/sources.list", CapConfig)
	if err != nil {
		return nil, err
	}
	out := parseSourcesList(b, "/etc/apt/sources.list")
	ents, err := ReadDir(f.guest, "etc/apt/sources.list.d")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		p := path.Join("etc/apt/sources.list.d", e.Name())
		list, sources := strings.HasSuffix(e.Name(), ".list"), strings.HasSuffix(e.Name(), ".sources")
		if !list && !sources {
			continue
		}
		b, err := ReadIfPresent(f.guest, p, CapConfig)
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
	read   func(rel string, max int64) ([]byte, error)
	exists func(rel string) (bool, error)
	where  func(rel string) string
}

// sourceFiles returns how to read the files of source s.
func (f *Facts) sourceFiles(s aptSource, l listReader, names []string) sourceFiles {
	uri := strings.TrimSuffix(s.URI, "/") + "/"
	listed := sourceFiles{
		read:   func(rel string, max int64) ([]byte, error) { return l.read(uriToFileName(uri+rel), max) },
		exists: func(rel string) (bool, error) { return slices.Contains(names, uriToFileName(uri+rel)), nil },
		where:  func(rel string) string { return l.where(uriToFileName(uri + rel)) },
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
		read: func(rel string, max int64) ([]byte, error) { return ReadIfPresent(f.guest, path.Join(root, rel), max) },
		exists: func(rel string) (bool, error) {
			return IsRegular(f.guest, path.Join(root, rel))
		},
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
