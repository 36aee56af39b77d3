package rules

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var secretsDbaasCredentialsRule = Rule{
	ID: "secrets.dbaas-credentials", Title: "No managed-database credentials file from the build Droplet",
	Check: func(in *Input) []Finding {
		return checkSecretFile(in, "root/.digitalocean_dbaas_credentials", "the build Droplet's managed-database credentials")
	},
}

var secretsDatabaseUrlRule = Rule{
	ID: "secrets.database-url", Title: "No DATABASE_URL is baked into the environment",
	Check: checkDatabaseURL,
}

var secretsDoPasswordRule = Rule{
	ID: "secrets.do-password", Title: "No build-time passwords file",
	Check: func(in *Input) []Finding {
		return checkSecretFile(in, "root/.digitalocean_password", "passwords generated at build time, shared by every Droplet")
	},
}

var secretsTlsPrivateKeysRule = Rule{
	ID: "secrets.tls-private-keys", Title: "TLS private keys generated at build time are listed",
	Check: checkTLSPrivateKeys,
}

// secretNames returns the variable names of a "name=value" or
// "name: value" file, never the values. Names are short identifiers, so
// a bare token or URL on a line of its own is never taken for a name.
func secretNames(data []byte) []string {
	var out []string
	for _, raw := range strings.Split(string(data), "\n") {
		l := strings.TrimPrefix(strings.TrimSpace(raw), "export ")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, _, ok := strings.Cut(l, "=")
		if yamlName, _, isYAML := strings.Cut(l, ": "); !ok || isYAML && len(yamlName) < len(name) {
			name, ok = yamlName, isYAML
		}
		if name = strings.TrimSpace(name); ok && identifier().MatchString(name) {
			out = append(out, name)
		}
	}
	return out
}

var identifier = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// checkSecretFile FAILs when name exists; the evidence gives its size,
// mtime and variable names, never a value.
func checkSecretFile(in *Input, name, what string) []Finding {
	display := "/" + name
	fi, err := facts.Stat(in.Guest, name)
	if err != nil {
		return []Finding{in.Fault(display, err)}
	}
	if fi == nil {
		return []Finding{in.New(Pass, display, display+" is not present")}
	}
	ev := []KV{{KeyPath, display}, {KeySize, strconv.FormatInt(fi.Size(), 10)}, {KeyMtime, fi.ModTime().UTC().Format(time.RFC3339)}}
	if fi.Mode().IsRegular() {
		data, err := in.Guest.ReadFileLimit(name, facts.CapConfig)
		if err != nil {
			return []Finding{in.Fault(display, err)}
		}
		for _, n := range secretNames(data) {
			ev = append(ev, KV{"name", n})
		}
	}
	f := in.New(Fail, display, fmt.Sprintf("%s holds %s", display, what), ev...)
	f.Fix = "delete " + display + " and generate credentials at first boot"
	return []Finding{f}
}

// databaseURL matches a DATABASE_URL assignment: shell, environment and
// systemd "DATABASE_URL=", or pam_environment "DATABASE_URL DEFAULT=".
var databaseURL = lazyRegexp(`(?:^|[^A-Za-z0-9_])DATABASE_URL(?:=|\s+(?:DEFAULT|OVERRIDE)=)`)

// urlAssignment is one DATABASE_URL found, already redacted.
type urlAssignment struct {
	line     int
	redacted string
	password bool
}

// findDatabaseURLs returns the DATABASE_URL assignments of a file. For a
// systemd unit only Environment= lines count.
func findDatabaseURLs(data []byte, unit bool) []urlAssignment {
	var out []urlAssignment
	for i, raw := range bytes.Split(data, []byte("\n")) {
		if !bytes.Contains(raw, []byte("DATABASE_URL")) {
			continue // every match holds the name
		}
		l := strings.TrimSpace(string(raw))
		if strings.HasPrefix(l, "#") || unit && !strings.HasPrefix(l, "Environment=") {
			continue
		}
		loc := databaseURL().FindStringIndex(l)
		if loc == nil {
			continue
		}
		v := assignedValue(l[loc[1]:])
		if v == "" {
			continue
		}
		red, pw := RedactURL(v)
		out = append(out, urlAssignment{i + 1, red, pw})
	}
	return out
}

// assignedValue reads a shell-like value: quoted, or up to a blank or quote.
func assignedValue(s string) string {
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		if end := strings.IndexByte(s[1:], s[0]); end >= 0 {
			return s[1 : 1+end]
		}
		return s[1:]
	}
	if end := strings.IndexAny(s, " \t\"';"); end >= 0 {
		return s[:end]
	}
	return s
}

// RedactURL replaces the password of a URL's user information with "****"
// and reports whether there was a literal one (a "$VAR" reference is not).
// A value that is not a URL is replaced by "(not a URL)", since it may be a
// keyword/value DSN holding a password.
func RedactURL(v string) (redacted string, password bool) {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return "(not a URL)", false
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return v, false
	}
	user, pass, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return v, false
	}
	return scheme + "://" + user + ":****@" + rest[at+1:], pass != "" && !strings.HasPrefix(pass, "$")
}

// databaseURLFiles lists the files the rule reads, as guest names, with
// whether each is a systemd unit.
func databaseURLFiles(in *Input, homes []facts.Home) ([]string, map[string]bool, error) {
	files := []string{"etc/environment", "etc/profile"}
	units := map[string]bool{}
	listDir := func(dir string) error {
		entries, err := facts.ReadDir(in.Guest, dir)
		for _, e := range entries {
			files = append(files, path.Join(dir, e.Name()))
		}
		return err
	}
	if err := listDir("etc/profile.d"); err != nil {
		return nil, nil, err
	}
	files = append(files, "etc/bash.bashrc")
	if err := listDir("etc/default"); err != nil {
		return nil, nil, err
	}
	for _, h := range homes {
		for _, f := range []string{".bashrc", ".profile", ".bash_profile", ".zshrc", ".pam_environment"} {
			files = append(files, path.Join(h.Path, f))
		}
	}
	const sys = "etc/systemd/system"
	entries, err := facts.ReadDir(in.Guest, sys)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := path.Join(sys, e.Name())
		switch {
		case e.Type().IsRegular():
			files, units[name] = append(files, name), true
		case e.IsDir() && strings.HasSuffix(e.Name(), ".d"):
			drop, err := facts.ReadDir(in.Guest, name)
			if err != nil {
				return nil, nil, err
			}
			for _, d := range drop {
				if n := path.Join(name, d.Name()); d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".conf") {
					files, units[n] = append(files, n), true
				}
			}
		}
	}
	return files, units, nil
}

func checkDatabaseURL(in *Input) []Finding {
	homes, out := homesOrFault(in)
	files, units, err := databaseURLFiles(in, homes)
	if err != nil {
		return append(out, in.Fault(faultSubject(err, "/etc"), err))
	}
	bad := len(out) > 0
	seen := map[string]bool{}
	for _, name := range files {
		display := "/" + name
		fi, err := facts.Stat(in.Guest, name)
		if err != nil {
			out, bad = append(out, in.Fault(display, err)), true
			continue
		}
		if fi == nil || !fi.Mode().IsRegular() {
			continue
		}
		if p, err := in.Guest.Resolve(name); err == nil {
			if seen[p] {
				continue
			}
			seen[p] = true
		}
		data, err := in.Guest.ReadFileLimit(name, facts.CapConfig)
		if err != nil {
			out, bad = append(out, in.Fault(display, err)), true
			continue
		}
		found := findDatabaseURLs(data, units[name])
		if len(found) == 0 {
			continue
		}
		level, ev := Warn, []KV{{KeyPath, display}}
		for _, a := range found {
			if a.password {
				level = Fail
			}
			ev = append(ev, KV{KeyLine, strconv.Itoa(a.line)}, KV{KeyValue, a.redacted})
		}
		msg := fmt.Sprintf("%s sets DATABASE_URL (line %d): it points at the build Droplet's database", display, found[0].line)
		if level == Fail {
			msg = fmt.Sprintf("%s sets DATABASE_URL with a password (line %d)", display, found[0].line)
		}
		f := in.New(level, display, msg, ev...)
		f.Fix = "remove DATABASE_URL from " + display + " and set it at first boot"
		out, bad = append(out, f), true
	}
	if !bad {
		out = append(out, in.New(Pass, "DATABASE_URL", "No DATABASE_URL assignment in the environment files"))
	}
	return out
}

func checkTLSPrivateKeys(in *Input) []Finding {
	var out []Finding
	for _, dir := range []string{"etc/ssl/private", "etc/pki/tls/private"} {
		entries, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			out = append(out, in.Fault("/"+dir, err))
			continue
		}
		for _, e := range entries {
			name := path.Join(dir, e.Name())
			display := "/" + name
			fi, err := facts.Stat(in.Guest, name)
			if err != nil {
				out = append(out, in.Fault(display, err))
				continue
			}
			if fi == nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
				continue
			}
			head, err := readKeyHead(in.Guest, name)
			if err != nil {
				out = append(out, in.Fault(display, err))
				continue
			}
			k, ok := facts.DetectPrivateKey(head)
			if !ok {
				continue
			}
			kev, err := keyEvidence(in, name, k)
			if err != nil {
				out = append(out, in.Fault(display, err))
				continue
			}
			ev := append([]KV{{KeyPath, display}}, kev...)
			f := in.New(Info, display, fmt.Sprintf("TLS private key %s was generated at build time: every Droplet would share it", display), ev...)
			f.Fix = "regenerate it at first boot (e.g. make-ssl-cert generate-default-snakeoil --force-overwrite)"
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/etc/ssl/private", "No TLS private key in /etc/ssl/private or /etc/pki/tls/private"))
	}
	return out
}
