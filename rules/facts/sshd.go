package facts

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// SSHDConfigPath is where sshd's configuration starts.
const SSHDConfigPath = "/etc/ssh/sshd_config"

// sshdMaxDepth is OpenSSH's limit on nested Include directives.
const sshdMaxDepth = 16

// Errors for Include directives that sshd could not load either.
var (
	// ErrIncludeDepth: Include directives nest deeper than 16.
	ErrIncludeDepth = errors.New("sshd_config: too many recursive Include directives (depth 16)")
	// ErrIncludeCount: Include directives bring in more than 4096 files.
	ErrIncludeCount = errors.New("sshd_config: Include directives bring in more than 4096 files")
)

// sshdDefaults are the values sshd uses when a keyword is unset.
var sshdDefaults = map[string]string{
	"passwordauthentication":       "yes",
	"permitrootlogin":              "prohibit-password",
	"permitemptypasswords":         "no",
	"authorizedkeysfile":           ".ssh/authorized_keys .ssh/authorized_keys2",
	"revokedkeys":                  "none",
	"kbdinteractiveauthentication": "yes",
}

// SSHDSetting is the effective value of one sshd keyword.
type SSHDSetting struct {
	Args []string // the arguments, quotes removed
	Raw  string   // the rest of the line after the keyword, as ForceCommand takes it
	// Source is "file:line", or "default" when the keyword is unset.
	Source string
	// Match is the criteria of the Match block it came from, "" for a global line.
	Match string
}

// Value returns the arguments joined by single spaces.
func (s SSHDSetting) Value() string { return strings.Join(s.Args, " ") }

// Set reports whether the value came from the configuration, not a default.
func (s SSHDSetting) Set() bool { return s.Source != "default" }

// SSHDConfig is sshd's effective configuration, read offline.
type SSHDConfig struct {
	// Present is false when /etc/ssh/sshd_config does not exist; every
	// keyword then has its default.
	Present bool
	lines   []sshdLine
}

// sshdLine is one keyword line with the Match block it belongs to.
type sshdLine struct {
	keyword string // lower case
	SSHDSetting
	match *sshdMatch // nil outside Match blocks
}

// sshdMatch is the criteria of one Match line.
type sshdMatch struct {
	text      string   // the criteria as written
	users     []string // User pattern lists; all must match
	evaluable bool     // only All and User criteria
}

// appliesTo reports whether an evaluable Match block applies to user.
func (m *sshdMatch) appliesTo(user string) bool {
	if !m.evaluable {
		return false
	}
	for _, list := range m.users {
		if !matchPatternList(user, list) {
			return false
		}
	}
	return true
}

// Global returns the effective value of keyword outside any Match block:
// the first global line setting it, or the default.
func (c *SSHDConfig) Global(keyword string) SSHDSetting {
	return c.lookup(keyword, func(l *sshdLine) bool { return l.match == nil })
}

// ForUser returns the effective value of keyword for a connection as user:
// the first value in a Match block whose User/All criteria apply, else the
// global value, else the default. Blocks with other criteria are not
// evaluated (see Conditional).
func (c *SSHDConfig) ForUser(keyword, user string) SSHDSetting {
	if s := c.lookup(keyword, func(l *sshdLine) bool { return l.match != nil && l.match.appliesTo(user) }); s.Set() {
		return s
	}
	return c.Global(keyword)
}

// Conditional returns the values of keyword set inside Match blocks whose
// criteria cannot be evaluated offline (Host, Address, Group, ...).
func (c *SSHDConfig) Conditional(keyword string) []SSHDSetting {
	var out []SSHDSetting
	kw := strings.ToLower(keyword)
	for _, l := range c.lines {
		if l.keyword == kw && l.match != nil && !l.match.evaluable {
			out = append(out, l.SSHDSetting)
		}
	}
	return out
}

func (c *SSHDConfig) lookup(keyword string, ok func(*sshdLine) bool) SSHDSetting {
	kw := strings.ToLower(keyword)
	for i := range c.lines {
		if l := &c.lines[i]; l.keyword == kw && ok(l) {
			return l.SSHDSetting
		}
	}
	d := sshdDefaults[kw]
	return SSHDSetting{Args: strings.Fields(d), Raw: d, Source: "default"}
}

// SSHD returns the effective sshd configuration. An unreadable
// sshd_config or included file, or Include nesting deeper than 16, is an
// error; a missing sshd_config gives the defaults with Present false.
func (f *Facts) SSHD() (*SSHDConfig, error) {
	return Memo(f, "sshd", func() (*SSHDConfig, error) {
		data, err := ReadIfPresent(f.guest, strings.TrimPrefix(SSHDConfigPath, "/"), CapConfig)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SSHDConfigPath, err)
		}
		p := &sshdParser{
			read: func(name string) ([]byte, error) {
				return ReadIfPresent(f.guest, strings.TrimPrefix(name, "/"), CapConfig)
			},
			glob: func(pattern string) ([]string, error) { return Glob(f.guest, pattern) },
		}
		c := &SSHDConfig{Present: data != nil}
		if data != nil {
			if err := p.parse(c, SSHDConfigPath, data, 0, nil); err != nil {
				return nil, err
			}
		}
		return c, nil
	})
}

// sshdParser reads sshd configuration files through the guest.
type sshdParser struct {
	read  func(name string) ([]byte, error)      // absolute guest path; nil data when absent
	glob  func(pattern string) ([]string, error) // absolute pattern → sorted absolute paths
	files int                                    // files parsed so far
}

// sshdMaxFiles bounds the files one configuration may include in total, so
// that Include lines naming a file several times cannot nest exponentially.
const sshdMaxFiles = 4096

// parse appends the lines of one file to c. match is the context of the
// Include line that brought the file in; the file's own Match blocks end
// with it.
func (p *sshdParser) parse(c *SSHDConfig, name string, data []byte, depth int, match *sshdMatch) error {
	if depth > sshdMaxDepth {
		return fmt.Errorf("%s: %w", name, ErrIncludeDepth)
	}
	if p.files++; p.files > sshdMaxFiles {
		return fmt.Errorf("%s: %w", name, ErrIncludeCount)
	}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		src := fmt.Sprintf("%s:%d", name, i+1)
		kw, rest := sshdKeyword(string(raw))
		if kw == "" {
			continue
		}
		args := sshdArgs(rest)
		switch kw {
		case "match":
			match = newSSHDMatch(args)
		case "include":
			for _, a := range args {
				if !strings.HasPrefix(a, "/") {
					a = "/etc/ssh/" + a
				}
				files, err := p.glob(a)
				if err != nil {
					return fmt.Errorf("%s: Include %s: %w", src, a, err)
				}
				for _, inc := range files {
					body, err := p.read(inc)
					if err != nil {
						return fmt.Errorf("%s: %w", inc, err)
					}
					if body == nil {
						continue
					}
					if err := p.parse(c, inc, body, depth+1, match); err != nil {
						return err
					}
				}
			}
		default:
			l := sshdLine{keyword: kw, SSHDSetting: SSHDSetting{Args: args, Raw: rest, Source: src}, match: match}
			if match != nil {
				l.Match = match.text
			}
			c.lines = append(c.lines, l)
		}
	}
	return nil
}

// sshdKeyword splits a line into its lower-cased keyword and the rest.
// The keyword ends at whitespace or '='; one '=' may separate it from its
// arguments. Blank and comment lines give "".
func sshdKeyword(line string) (kw, rest string) {
	line = strings.TrimRight(strings.TrimLeft(line, " \t"), " \t\r")
	if line == "" || line[0] == '#' {
		return "", ""
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return strings.ToLower(line), ""
	}
	kw, rest = strings.ToLower(line[:end]), strings.TrimLeft(line[end:], " \t")
	if r, ok := strings.CutPrefix(rest, "="); ok {
		rest = strings.TrimLeft(r, " \t")
	}
	return kw, rest
}

// sshdArgs splits arguments as OpenSSH's argv_split does: on blanks,
// with single or double quotes grouping, a backslash escaping a quote, a
// backslash or (outside quotes) a blank, and an unquoted token starting
// with '#' ending the line.
func sshdArgs(s string) []string {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == '#' {
			return out
		}
		var b strings.Builder
		var quote byte
		i := 0
	token:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (strings.IndexByte(`'"\\`, s[i+1]) >= 0 || quote == 0 && s[i+1] == ' '):
				i++
				b.WriteByte(s[i])
			case quote == 0 && (c == ' ' || c == '\t'):
				break token
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				b.WriteByte(c)
			}
		}
		out = append(out, b.String())
		s = s[i:]
	}
}

// newSSHDMatch parses Match criteria. Only All and User are evaluable.
func newSSHDMatch(args []string) *sshdMatch {
	m := &sshdMatch{text: strings.Join(args, " "), evaluable: true}
	for i := 0; i < len(args); i++ {
		crit, val, hasEq := strings.Cut(args[i], "=")
		switch strings.ToLower(crit) {
		case "all":
		case "user":
			if !hasEq {
				if i+1 >= len(args) {
					m.evaluable = false
					continue
				}
				i++
				val = args[i]
			}
			m.users = append(m.users, val)
		default:
			m.evaluable = false
			if !hasEq {
				i++
			}
		}
	}
	return m
}

// matchPatternList applies an OpenSSH pattern list ("root,adm*,!guest"):
// a matching negated pattern refuses, otherwise any positive match accepts.
func matchPatternList(s, list string) bool {
	found := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if wildcardMatch(p, s) {
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}

// wildcardMatch matches s against a pattern of '*' and '?' wildcards.
func wildcardMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && wildcardMatch(p[1:], s[1:])
}

// Glob expands an absolute glob pattern in the guest, like glob(3):
// '*' and '?' do not match a leading '.', results are sorted, and a pattern
// with no match gives none. Non-fact errors are returned.
func Glob(g *fsinspect.Guest, pattern string) ([]string, error) {
	if g == nil {
		return nil, ErrNoGuest
	}
	dirs := []string{"."}
	parts := strings.Split(strings.Trim(cleanSlash(pattern), "/"), "/")
	for i, part := range parts {
		last := i == len(parts)-1
		var next []string
		for _, d := range dirs {
			if !strings.ContainsAny(part, "*?[") {
				next = append(next, path.Join(d, part))
				continue
			}
			entries, err := g.ReadDir(d)
			if err != nil {
				if fsinspect.IsFact(err) {
					continue
				}
				return nil, err
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(part, ".") {
					continue
				}
				if ok, err := path.Match(part, e.Name()); err == nil && ok {
					next = append(next, path.Join(d, e.Name()))
				}
			}
		}
		if !last {
			dirs = next
			continue
		}
		var out []string
		for _, n := range next {
			if _, err := g.Lstat(n); err != nil {
				if fsinspect.IsFact(err) {
					continue
				}
				return nil, err
			}
			out = append(out, "/"+n)
		}
		slices.Sort(out)
		return out, nil
	}
	return nil, nil
}
