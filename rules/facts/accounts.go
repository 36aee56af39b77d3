package facts

import (
	"bytes"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// Account is one /etc/passwd entry. Password is field 2 and may hold a
// hash: it is for classification only and must never be printed.
type Account struct {
	Name     string
	Password string
	UID      int // -1 when field 3 is not a number
	GID      string
	Home     string // as written, e.g. "/home/alice"
	Shell    string
	Line     int // 1-based line in /etc/passwd
}

// ShadowEntry is one /etc/shadow line. Password must never be printed.
type ShadowEntry struct {
	Name     string
	Password string
	Line     int
}

// Group is one /etc/group entry.
type Group struct {
	Name    string
	GID     int // -1 when not a number
	Members []string
}

// Accounts holds the account databases of the guest.
type Accounts struct {
	Users  []Account     // /etc/passwd, in file order
	Shadow []ShadowEntry // /etc/shadow, in file order
	// ShadowPresent is false when /etc/shadow does not exist.
	ShadowPresent bool
	Groups        []Group
	// UIDMin is UID_MIN from /etc/login.defs, default 1000.
	UIDMin int
}

// ShadowFor returns the first shadow entry named name.
func (a *Accounts) ShadowFor(name string) (ShadowEntry, bool) {
	for _, s := range a.Shadow {
		if s.Name == name {
			return s, true
		}
	}
	return ShadowEntry{}, false
}

// ByUID returns the name of the first account with the given UID.
func (a *Accounts) ByUID(uid int) (string, bool) {
	for _, u := range a.Users {
		if u.UID == uid {
			return u.Name, true
		}
	}
	return "", false
}

// Credential is the password field that decides whether an account can log
// in with a password: its shadow field, or its passwd field when it has no
// shadow line. Field must never be printed.
type Credential struct {
	User   string
	UID    int // -1 for a shadow line without a passwd entry
	Field  string
	Source string // "/etc/shadow" or "/etc/passwd"
	Line   int
}

// Credentials returns one Credential per passwd account, in passwd order,
// followed by shadow lines whose name has no passwd entry.
func (a *Accounts) Credentials() []Credential {
	var out []Credential
	seen := map[string]bool{}
	for _, u := range a.Users {
		seen[u.Name] = true
		if s, ok := a.ShadowFor(u.Name); ok {
			out = append(out, Credential{u.Name, u.UID, s.Password, "/etc/shadow", s.Line})
		} else if u.Password != "x" {
			out = append(out, Credential{u.Name, u.UID, u.Password, "/etc/passwd", u.Line})
		}
	}
	for _, s := range a.Shadow {
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, Credential{s.Name, -1, s.Password, "/etc/shadow", s.Line})
		}
	}
	return out
}

// Accounts returns the guest's accounts. A missing /etc/passwd gives no
// accounts; an unreadable one, or an unreadable /etc/shadow, is a fault.
func (f *Facts) Accounts() (*Accounts, error) {
	return Memo(f, "accounts", func() (*Accounts, error) {
		a := &Accounts{UIDMin: 1000}
		files, errs := readEach(f.guest, []string{"etc/passwd", "etc/shadow", "etc/group", "etc/login.defs"}, CapConfig)
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		passwd, shadow, group, defs := files[0], files[1], files[2], files[3]
		a.Users = ParsePasswd(passwd)
		a.Shadow, a.ShadowPresent = ParseShadow(shadow), shadow != nil
		a.Groups = ParseGroup(group)
		if v, ok := loginDefsUIDMin(defs); ok {
			a.UIDMin = v
		}
		return a, nil
	})
}

// colonFields splits data into lines of colon-separated fields, skipping
// empty lines and lines starting with '#'. line is 1-based.
func colonFields(data []byte, each func(fields []string, line int)) {
	for i, raw := range bytes.Split(data, []byte("\n")) {
		l := strings.TrimSuffix(string(raw), "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		each(strings.Split(l, ":"), i+1)
	}
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// ParsePasswd parses /etc/passwd. Lines with fewer than 7 fields are
// ignored, as by getpwent.
func ParsePasswd(data []byte) []Account {
	var out []Account
	colonFields(data, func(f []string, line int) {
		if len(f) < 7 {
			return
		}
		out = append(out, Account{Name: f[0], Password: f[1], UID: atoiOr(f[2], -1), GID: f[3],
			Home: f[5], Shell: f[6], Line: line})
	})
	return out
}

// ParseShadow parses /etc/shadow: name and password field of each line.
func ParseShadow(data []byte) []ShadowEntry {
	var out []ShadowEntry
	colonFields(data, func(f []string, line int) {
		if len(f) < 2 {
			return
		}
		out = append(out, ShadowEntry{Name: f[0], Password: f[1], Line: line})
	})
	return out
}

// ParseGroup parses /etc/group.
func ParseGroup(data []byte) []Group {
	var out []Group
	colonFields(data, func(f []string, _ int) {
		if len(f) < 4 {
			return
		}
		g := Group{Name: f[0], GID: atoiOr(f[2], -1)}
		for _, m := range strings.Split(f[3], ",") {
			if m != "" {
				g.Members = append(g.Members, m)
			}
		}
		out = append(out, g)
	})
	return out
}

// loginDefsUIDMin returns UID_MIN from /etc/login.defs.
func loginDefsUIDMin(data []byte) (int, bool) {
	for _, raw := range bytes.Split(data, []byte("\n")) {
		f := strings.Fields(string(raw))
		if len(f) >= 2 && f[0] == "UID_MIN" {
			if n, err := strconv.Atoi(f[1]); err == nil && n >= 0 {
				return n, true
			}
		}
	}
	return 0, false
}

// PasswordClass is the class of a password field.
type PasswordClass int

// Password field classes.
const (
	NoPassword    PasswordClass = iota // "!", "*", "x", "!!", "*LK*", ...
	EmptyPassword                      // an empty field: password-less login
	UsableHash                         // a crypt(3) hash that logs in
	LockedHash                         // "!" or "*" prefixes a usable hash
)

// hashSchemes maps crypt(3) scheme IDs to scheme names.
var hashSchemes = map[string]string{
	"1": "md5crypt", "2a": "bcrypt", "2b": "bcrypt", "2x": "bcrypt", "2y": "bcrypt",
	"5": "sha256crypt", "6": "sha512crypt", "7": "scrypt", "y": "yescrypt",
	"gy": "gost-yescrypt", "md5": "sun-md5", "sha1": "sha1crypt",
}

// ClassifyPassword returns the class of a shadow or passwd password field
// and, for a usable or locked hash, the name of its scheme.
func ClassifyPassword(field string) (PasswordClass, string) {
	if field == "" {
		return EmptyPassword, ""
	}
	if s, ok := hashScheme(field); ok {
		return UsableHash, s
	}
	if rest := strings.TrimLeft(field, "!"); rest != field {
		if s, ok := hashScheme(rest); ok {
			return LockedHash, s
		}
	}
	if rest, ok := strings.CutPrefix(field, "*"); ok {
		if s, ok := hashScheme(rest); ok {
			return LockedHash, s
		}
	}
	return NoPassword, ""
}

// hashScheme recognises a usable crypt(3) hash.
func hashScheme(h string) (string, bool) {
	if rest, ok := strings.CutPrefix(h, "$"); ok {
		id, body, ok := strings.Cut(rest, "$")
		if id, _, rounds := strings.Cut(id, ","); rounds && id == "md5" { // "$md5,rounds=N$"
			return hashSchemes[id], body != ""
		}
		s, known := hashSchemes[id]
		return s, ok && known && body != ""
	}
	switch {
	case len(h) == 13 && isCryptChars(h):
		return "descrypt", true
	case len(h) == 20 && h[0] == '_' && isCryptChars(h[1:]):
		return "bsdicrypt", true
	}
	return "", false
}

func isCryptChars(s string) bool {
	for _, c := range s {
		if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// Home is one member of the home set.
type Home struct {
	// Path is the link-free guest name ("home/alice", "root").
	Path string
	// User is the account the home belongs to: the first passwd account
	// naming it, the owner of an orphan /home directory, or "(unowned)".
	User string
	// Users lists every passwd account whose home resolves here.
	Users []string
	// Orphan is set for a /home directory with no passwd entry.
	Orphan bool
	// Err is an image fault met while resolving this home; rules report
	// ERROR for it.
	Err error
}

// Display returns the home's path as shown in findings ("/home/alice", "/").
func (h Home) Display() string {
	if h.Path == "." {
		return "/"
	}
	return "/" + h.Path
}

// Unowned is the user of an orphan /home directory whose UID no account has.
const Unowned = "(unowned)"

// Homes returns the home set: every passwd home that resolves to a
// directory, /root, and every directory directly under /home, deduplicated
// by resolved path, in that order. A home that cannot be read (an image
// fault on it, or on /home itself) is in the set with Err set.
func (f *Facts) Homes() ([]Home, error) {
	return Memo(f, "homes", func() ([]Home, error) {
		a, err := f.Accounts()
		if err != nil {
			return nil, err
		}
		// The candidates are resolved at once, then taken in order.
		type candidate struct {
			name, user string
			orphan     bool
		}
		var cands []candidate
		for _, u := range a.Users {
			if name, ok := GuestName(u.Home); ok {
				cands = append(cands, candidate{name, u.Name, false})
			}
		}
		root := "root"
		if n, ok := a.ByUID(0); ok {
			root = n
		}
		cands = append(cands, candidate{"root", root, false})
		entries, homeErr := ReadDir(f.guest, "home")
		for _, e := range entries {
			cands = append(cands, candidate{"home/" + e.Name(), "", true})
		}
		type resolved struct {
			p     string
			isDir bool
			err   error
		}
		res := make([]resolved, len(cands))
		Each(len(cands), func(i int) {
			r := &res[i]
			r.p, r.isDir, r.err = resolveDir(f.guest, cands[i].name)
		})
		var homes []Home
		index := map[string]int{}
		for i, c := range cands {
			r := res[i]
			if r.err != nil {
				homes = append(homes, Home{Path: c.name, User: c.user, Err: r.err})
				continue
			}
			if !r.isDir {
				continue
			}
			if j, ok := index[r.p]; ok {
				if !c.orphan && !slices.Contains(homes[j].Users, c.user) {
					homes[j].Users = append(homes[j].Users, c.user)
				}
				continue
			}
			h := Home{Path: r.p, User: c.user, Orphan: c.orphan}
			if !c.orphan {
				h.Users = []string{c.user}
			}
			index[r.p] = len(homes)
			homes = append(homes, h)
		}
		if homeErr != nil { // then there are no entries of /home
			homes = append(homes, Home{Path: "home", User: Unowned, Err: homeErr})
		}
		Each(len(homes), func(i int) {
			if homes[i].Orphan && homes[i].User == "" {
				homes[i].User = orphanOwner(f.guest, a, homes[i].Path)
			}
		})
		return homes, nil
	})
}

// GuestName turns an absolute guest path from a config file into a
// fs.ValidPath name; "/" becomes ".". Relative paths are refused.
func GuestName(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	n := strings.Trim(cleanSlash(p), "/")
	if n == "" {
		return ".", true
	}
	return n, fs.ValidPath(n)
}

// cleanSlash collapses repeated slashes and "." and ".." elements of an
// absolute path without leaving the root.
func cleanSlash(p string) string {
	var out []string
	for _, e := range strings.Split(p, "/") {
		switch e {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, e)
		}
	}
	return "/" + strings.Join(out, "/")
}

// resolveDir resolves name in the guest and reports whether it is a
// directory. Guest facts (missing, dangling, loop) give isDir=false.
func resolveDir(g *fsinspect.Guest, name string) (p string, isDir bool, err error) {
	p, err = g.Resolve(name)
	if err != nil {
		if fsinspect.IsFact(err) {
			return "", false, nil
		}
		return "", false, err
	}
	fi, err := Stat(g, p)
	if err != nil || fi == nil {
		return "", false, err
	}
	return p, fi.IsDir(), nil
}

// orphanOwner names the account owning an orphan /home directory by UID.
func orphanOwner(g *fsinspect.Guest, a *Accounts, p string) string {
	fi, err := g.Stat(p)
	if err != nil {
		return Unowned
	}
	if st, ok := fi.Sys().(*fsinspect.Stat); ok {
		if n, ok := a.ByUID(int(st.Uid)); ok {
			return n
		}
	}
	return Unowned
}
