package imgcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// The img_check profile's user and root checks:
// /etc/passwd and /etc/shadow are read the script's way (awk fields, shell
// word splitting), homes are /home/<u> and /root, and the .ssh probes and
// size tests behave like ls, wc -c and the shell's -d and -f.

var usersPasswordRule = rules.Rule{ID: "users.password", Title: "User-created accounts have no password (img_check; the script does not count it)",
	Check: checkUsersPassword}

var usersSshRule = rules.Rule{ID: "users.ssh", Title: "User-created accounts have no SSH files (img_check; the script looks only when .ssh has an entry named '*')",
	Check: checkUsersSSH}

var usersHistoryRule = rules.Rule{ID: "users.history", Title: "User-created accounts have a cleared .bash_history (img_check; the script does not count it)",
	Check: checkUsersHistory}

var rootPasswordRule = rules.Rule{ID: "root.password", Title: "root has no password (img_check)",
	Check: checkRootPassword}

var rootSshRule = rules.Rule{ID: "root.ssh", Title: "root's .ssh holds no keys or other files (img_check)",
	Check: checkRootSSH}

var rootHistoryRule = rules.Rule{ID: "root.history", Title: "root's .bash_history is cleared (img_check)",
	Check: checkRootHistory}

// Thresholds of the script's wc -c tests.
const (
	parityKeyFileMin = 50  // authorized_keys and known_hosts: size > 50
	parityHistoryMax = 200 // .bash_history: size < 200 passes
)

// awkNumber is what awk treats as a numeric string: optional blanks, a
// sign, decimal digits with an optional fraction and exponent. mawk, the
// default awk of Debian and Ubuntu, reads fields with strtod and so also
// accepts hexadecimal ("0x3E8", "0x1p10"); awkHex matches those. Both are
// compiled on first use, so that start-up does not pay for them.
var (
	awkNumber = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[ \t\n]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n]*$`)
	})
	awkHex = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[ \t\n]*([+-]?0[xX])([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?[0-9]+)?[ \t\n]*$`)
	})
)

// AwkFlavor selects how ParityUsers reads numbers: Mawk (Debian, Ubuntu)
// also takes hexadecimal fields as numbers; Gawk (the RHEL family) does not.
type AwkFlavor int

// Awk flavours.
const (
	Gawk AwkFlavor = iota
	Mawk
)

// ParityUser is one account img_check.sh checks.
type ParityUser struct {
	Name string
	Line int // 1-based line in /etc/passwd
}

// KeyPasswdLine is the evidence key giving the /etc/passwd line of the
// account a users.* finding belongs to: the script checks an account once
// per passwd line, so a duplicated name is checked twice.
const KeyPasswdLine = "passwd_line"

// ParityUsers returns the accounts img_check.sh checks, in file order:
// awk -F: '$3 >= 1000 && $1 != "nobody"' over /etc/passwd, then without
// centos and nfsnobody. Field 3 is compared numerically when it looks like
// a number and otherwise as a string against "1000", as awk does.
func ParityUsers(passwd []byte, awk AwkFlavor) []ParityUser {
	var out []ParityUser
	for i, line := range strings.Split(strings.TrimSuffix(string(passwd), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, ":")
		name, uid := f[0], ""
		if len(f) >= 3 {
			uid = f[2]
		}
		if !awkAtLeast1000(uid, awk) || name == "nobody" || name == "centos" || name == "nfsnobody" {
			continue
		}
		out = append(out, ParityUser{Name: name, Line: i + 1})
	}
	return out
}

// parityAwk tells which awk runs the script's user selection: mawk when
// /usr/bin/awk resolves to it, as on Debian and Ubuntu.
func parityAwk(in *rules.Input) (AwkFlavor, error) {
	p, err := in.Guest.Resolve("usr/bin/awk")
	switch {
	case err != nil && !fsinspect.IsFact(err):
		return Gawk, err
	case err == nil && strings.Contains(p[strings.LastIndexByte(p, '/')+1:], "mawk"):
		return Mawk, nil
	}
	return Gawk, nil
}

// forUser tags the findings made for one checked account with its name
// and passwd line, so the text frame can regroup them per account.
func forUser(u ParityUser, fs []rules.Finding) []rules.Finding {
	for i := range fs {
		if fs[i].Get(rules.KeyUser) == "" {
			fs[i].Evidence = append(fs[i].Evidence, rules.KV{Key: rules.KeyUser, Value: u.Name})
		}
		fs[i].Evidence = append(fs[i].Evidence, rules.KV{Key: KeyPasswdLine, Value: strconv.Itoa(u.Line)})
	}
	return fs
}

func awkAtLeast1000(field string, awk AwkFlavor) bool {
	if m := awkHex().FindStringSubmatch(field); awk == Mawk && m != nil {
		hex := strings.Trim(field, " \t\n")
		if m[3] == "" {
			hex += "p0"
		}
		v, err := strconv.ParseFloat(hex, 64)
		return err == nil && v >= 1000
	}
	if awkNumber().MatchString(field) {
		v, err := strconv.ParseFloat(strings.Trim(field, " \t\n"), 64)
		return err == nil && v >= 1000
	}
	return field >= "1000"
}

// ShadowWord is one word of /etc/shadow as the script's unquoted
// `for usr in $SHADOW` sees it, split on ':' by read -a.
type ShadowWord struct {
	Name  string // u[0]
	Field string // u[1], "" when absent; never printed
	Line  int    // 1-based line the word starts on
}

// ParityShadow splits /etc/shadow the way img_check.sh does: command
// substitution drops NUL bytes, then the text is split into words on
// blanks and newlines, and each word on ':'.
func ParityShadow(data []byte) []ShadowWord {
	data = bytes.ReplaceAll(data, []byte{0}, nil)
	var out []ShadowWord
	for i, line := range strings.Split(string(data), "\n") {
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' }) {
			name, rest, _ := strings.Cut(w, ":")
			field, _, _ := strings.Cut(rest, ":")
			out = append(out, ShadowWord{Name: name, Field: field, Line: i + 1})
		}
	}
	return out
}

// parityNoPassword is the script's test: field 2 is exactly !, !! or *.
func parityNoPassword(field string) bool { return field == "!" || field == "!!" || field == "*" }

// parityAccounts are the accounts the script checks and the words of
// its $SHADOW.
type parityAccounts struct {
	users  []ParityUser
	shadow []ShadowWord
}

// readParityAccounts reads /etc/passwd and /etc/shadow as the script
// does (a missing file reads as empty) and selects the users with the
// image's awk. A fault gives the ERROR finding naming the input.
func readParityAccounts(in *rules.Input) (parityAccounts, *rules.Finding) {
	fault := func(subject string, err error) (parityAccounts, *rules.Finding) {
		f := in.Fault(subject, err)
		return parityAccounts{}, &f
	}
	passwd, err := facts.ReadIfPresent(in.Guest, "etc/passwd", facts.CapConfig)
	if err != nil {
		return fault("/etc/passwd", err)
	}
	shadow, err := facts.ReadIfPresent(in.Guest, "etc/shadow", facts.CapConfig)
	if err != nil {
		return fault("/etc/shadow", err)
	}
	awk, err := parityAwk(in)
	if err != nil {
		return fault("/usr/bin/awk", err)
	}
	return parityAccounts{users: ParityUsers(passwd, awk), shadow: ParityShadow(shadow)}, nil
}

// silent is a finding for which the script prints nothing.
func silent(in *rules.Input, subject, msg string) rules.Finding {
	return in.New(rules.Pass, subject, msg, rules.KV{Key: KeyParity, Value: ParityNoLine})
}

func checkUsersPassword(in *rules.Input) []rules.Finding {
	acc, fault := readParityAccounts(in)
	if fault != nil {
		return []rules.Finding{*fault}
	}
	var out []rules.Finding
	for _, u := range acc.users {
		out = append(out, forUser(u, parityPassword(in, u.Name, acc.shadow, false))...)
	}
	if len(out) == 0 {
		out = append(out, silent(in, "/etc/shadow", "no shadow entry for a user-created account"))
	}
	return out
}

// parityPassword prints one result per shadow word named user (P4).
func parityPassword(in *rules.Input, user string, words []ShadowWord, counted bool) []rules.Finding {
	var out []rules.Finding
	for _, w := range words {
		if w.Name != user {
			continue
		}
		ev := []rules.KV{{Key: rules.KeyUser, Value: user}, {Key: rules.KeyPath, Value: "/etc/shadow"}, {Key: rules.KeyLine, Value: strconv.Itoa(w.Line)}}
		var f rules.Finding
		switch {
		case parityNoPassword(w.Field):
			f = in.New(rules.Pass, user, fmt.Sprintf("User %s has no password set.", user), ev...)
		case counted:
			f = in.New(rules.Fail, user, fmt.Sprintf("User %s has a password set on their account.", user), ev...)
		default:
			f = in.New(rules.Fail, user, fmt.Sprintf("User %s has a password set on their account. Only system users are allowed on the image.", user), ev...)
		}
		if f.Level == rules.Fail {
			f.Fix = fmt.Sprintf("lock the password: usermod -p '*' %s", user)
		}
		out = append(out, f)
	}
	return out
}

func checkRootPassword(in *rules.Input) []rules.Finding {
	shadow, err := facts.ReadIfPresent(in.Guest, "etc/shadow", facts.CapConfig)
	if err != nil {
		return []rules.Finding{in.Fault("/etc/shadow", err)}
	}
	out := parityPassword(in, "root", ParityShadow(shadow), true)
	if len(out) == 0 {
		out = append(out, silent(in, "/etc/shadow", "no shadow entry named root"))
	}
	return out
}

func checkUsersSSH(in *rules.Input) []rules.Finding {
	acc, fault := readParityAccounts(in)
	if fault != nil {
		return []rules.Finding{*fault}
	}
	var out []rules.Finding
	for _, u := range acc.users {
		out = append(out, forUser(u, paritySSH(in, u.Name))...)
	}
	if len(out) == 0 {
		out = append(out, silent(in, "/etc/passwd", "no user-created accounts"))
	}
	return out
}

func checkRootSSH(in *rules.Input) []rules.Finding { return paritySSH(in, "root") }

// parityHome is the script's home for user: /root for root, otherwise
// /home/<u> whatever passwd says. ok is false for a name that cannot be a
// single path element.
func parityHome(user string) (home string, ok bool) {
	if user == "root" {
		return "root", true
	}
	home = "home/" + user
	return home, user != "" && !strings.Contains(user, "/") && fs.ValidPath(home)
}

// paritySSH is the .ssh part of checkRoot and checkUsers. Root's findings
// are counted; a user's are not (Q1), and a user's directory is inspected
// only when it holds an entry literally named "*" (Q2).
func paritySSH(in *rules.Input, user string) []rules.Finding {
	root := user == "root"
	home, valid := parityHome(user)
	note := func(level rules.Level, msg string) rules.Finding {
		f := in.New(level, "/"+home, fmt.Sprintf("User %s %s", user, msg), rules.KV{Key: rules.KeyUser, Value: user}, rules.KV{Key: rules.KeyPath, Value: "/" + home})
		return f
	}
	if !valid {
		f := note(rules.Info, "does not have a directory in /home")
		f.Approximate = true
		return []rules.Finding{f}
	}
	if ok, err := facts.IsDir(in.Guest, home); err != nil {
		return []rules.Finding{in.Fault("/"+home, err)}
	} else if !ok {
		return []rules.Finding{note(rules.Info, "does not have a directory in /home")}
	}
	sshDir := home + "/.ssh"
	if ok, err := facts.IsDir(in.Guest, sshDir); err != nil {
		return []rules.Finding{in.Fault("/"+sshDir, err)}
	} else if !ok {
		return []rules.Finding{note(rules.Info, "does not have an .ssh directory")}
	}
	ents, err := in.Guest.ReadDir(sshDir)
	if err != nil {
		return []rules.Finding{in.Fault("/"+sshDir, err)}
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	probe := names
	if !root {
		probe = nil
		for _, n := range names {
			if n == "*" {
				probe = []string{n}
			}
		}
	}
	lsOK, fault := parityLs(in, sshDir, probe)
	if fault != nil {
		return []rules.Finding{*fault}
	}
	if !lsOK {
		f := note(rules.Info, "has no SSH keys present")
		switch {
		case len(probe) > 0:
			f.Evidence = append(f.Evidence, rules.KV{Key: rules.KeyCount, Value: strconv.Itoa(len(names))},
				rules.KV{Key: rules.KeyReason, Value: fmt.Sprintf("the script's ls probe fails (a symlink loop or a path through a non-directory), so the %d entries of /%s are not inspected", len(names), sshDir)})
		case len(names) > 0:
			f.Evidence = append(f.Evidence, rules.KV{Key: rules.KeyCount, Value: strconv.Itoa(len(names))},
				rules.KV{Key: rules.KeyReason, Value: fmt.Sprintf("without an entry named '*' the script never looks inside /%s, so its %d entries are not inspected", sshDir, len(names))})
		}
		return []rules.Finding{f}
	}
	var out []rules.Finding
	for _, n := range names {
		f, ok := paritySSHEntry(in, user, sshDir+"/"+n)
		if ok {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, silent(in, "/"+sshDir, "only small authorized_keys or known_hosts files"))
	}
	return out
}

// parityLs is the script's `ls` probe over the named entries of dir: it
// fails when there is nothing to list, and when any entry cannot be
// stat'ed for a reason other than a dangling link (GNU ls then falls back
// to the link itself), or is a directory that cannot be read.
func parityLs(in *rules.Input, dir string, names []string) (bool, *rules.Finding) {
	if len(names) == 0 {
		return false, nil
	}
	for _, n := range names {
		p := dir + "/" + n
		fi, err := in.Guest.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			if _, err := in.Guest.ReadDir(p); err != nil {
				if !fsinspect.IsFact(err) {
					f := in.Fault("/"+p, err)
					return false, &f
				}
				return false, nil
			}
		case err == nil:
		case !fsinspect.IsFact(err):
			f := in.Fault("/"+p, err)
			return false, &f
		case errors.Is(err, fs.ErrNotExist):
		default:
			return false, nil
		}
	}
	return true, nil
}

// parityWCSize is `wc -c < p`: the size of a regular file after
// resolution, 0 for a directory, and ok false when the redirection fails
// (dangling link, loop), so that every numeric test on it is false.
func parityWCSize(in *rules.Input, p string) (size int64, ok bool, err error) {
	fi, err := facts.Stat(in.Guest, p)
	switch {
	case err != nil || fi == nil:
		return 0, false, err
	case fi.Mode().IsRegular():
		return fi.Size(), true, nil
	case fi.IsDir():
		return 0, true, nil
	}
	return 0, false, nil
}

// paritySSHEntry judges one entry of a .ssh directory (the
// script's tables for keys and other entries). ok is false where the script prints nothing.
func paritySSHEntry(in *rules.Input, user, p string) (rules.Finding, bool) {
	root := user == "root"
	display := "/" + p
	size, sized, err := parityWCSize(in, p)
	if err != nil {
		return in.Fault(display, err), true
	}
	ev := []rules.KV{{Key: rules.KeyUser, Value: user}, {Key: rules.KeyPath, Value: display}}
	if sized {
		ev = append(ev, rules.KV{Key: rules.KeySize, Value: strconv.FormatInt(size, 10)})
	}
	var f rules.Finding
	name := p[strings.LastIndexByte(p, '/')+1:]
	switch name {
	case "authorized_keys":
		if !sized || size <= parityKeyFileMin {
			return rules.Finding{}, false
		}
		f = in.New(rules.Fail, display, fmt.Sprintf("User %s has a populated authorized_keys file in %s", user, display),
			append(ev, parityKeyEvidence(in, p)...)...)
		f.Fix = "delete " + display
		if root {
			f.Fix = "delete " + display
		}
	case "id_rsa":
		if sized && size > 0 {
			f = in.New(rules.Fail, display, fmt.Sprintf("User %s has a private key file in %s", user, display), ev...)
		} else {
			f = in.New(rules.Warn, display, fmt.Sprintf("User %s has empty private key file in %s", user, display), ev...)
		}
		f.Fix = "delete " + display
	case "known_hosts":
		if !sized || size <= parityKeyFileMin {
			return rules.Finding{}, false
		}
		msg := fmt.Sprintf("User %s has a known_hosts file in %s", user, display)
		if root {
			msg = fmt.Sprintf("User %s has a populated known_hosts file in %s", user, display)
		}
		f = in.New(rules.Warn, display, msg, ev...)
		f.Fix = "delete " + display
	default:
		msg := fmt.Sprintf("User %s has a file in their .ssh directory named %s", user, display)
		if root {
			msg = fmt.Sprintf("User %s has a file in their .ssh directory at %s", user, display)
		}
		f = in.New(rules.Warn, display, msg, ev...)
		f.Fix = "remove " + display + " unless every Droplet needs it"
	}
	return f, true
}

// parityKeyEvidence describes the keys of an authorized_keys file by type,
// fingerprint and comment, for the content block that replaces the
// script's cat. A file that cannot be read gets a reason instead: the
// decision was made on its size alone.
func parityKeyEvidence(in *rules.Input, p string) []rules.KV {
	data, err := in.Guest.ReadFileLimit(p, facts.CapConfig)
	if err != nil {
		return []rules.KV{{Key: rules.KeyReason, Value: "keys not listed: " + err.Error()}}
	}
	keys, _ := facts.ParseAuthorizedKeys(data)
	ev := []rules.KV{{Key: rules.KeyCount, Value: strconv.Itoa(len(keys))}}
	for _, k := range keys {
		ev = append(ev, rules.KV{Key: rules.KeyLine, Value: strconv.Itoa(k.Line)}, rules.KV{Key: rules.KeyKeyType, Value: k.Type},
			rules.KV{Key: rules.KeyFingerprint, Value: k.Fingerprint}, rules.KV{Key: "comment", Value: k.Comment})
	}
	return ev
}

func checkUsersHistory(in *rules.Input) []rules.Finding {
	acc, fault := readParityAccounts(in)
	if fault != nil {
		return []rules.Finding{*fault}
	}
	var out []rules.Finding
	for _, u := range acc.users {
		home, valid := parityHome(u.Name)
		if !valid {
			continue
		}
		if f, ok := parityHistory(in, u.Name, home+"/.bash_history"); ok {
			out = append(out, forUser(u, []rules.Finding{f})...)
		}
	}
	if len(out) == 0 {
		out = append(out, silent(in, "/home", "no user-created account has a .bash_history file"))
	}
	return out
}

// parityHistory is the script's .bash_history test: only a regular file is
// judged, by size. ok is false when it is not a regular file.
func parityHistory(in *rules.Input, user, p string) (rules.Finding, bool) {
	display := "/" + p
	fi, err := facts.Stat(in.Guest, p)
	if err != nil {
		return in.Fault(display, err), true
	}
	if fi == nil || !fi.Mode().IsRegular() {
		return rules.Finding{}, false
	}
	ev := []rules.KV{{Key: rules.KeyUser, Value: user}, {Key: rules.KeyPath, Value: display}, {Key: rules.KeySize, Value: strconv.FormatInt(fi.Size(), 10)}}
	root := user == "root"
	var f rules.Finding
	if fi.Size() < parityHistoryMax {
		f = in.New(rules.Pass, display, fmt.Sprintf("%s's Bash History appears to have been cleared", user), ev...)
	} else {
		f = in.New(rules.Fail, display, fmt.Sprintf("%s's Bash History should be cleared to prevent sensitive information from leaking", user), ev...)
		f.Fix = "truncate " + display + " to 0 bytes"
		if root {
			f.Fix = "truncate " + display + " to 0 bytes"
		}
	}
	return f, true
}

func checkRootHistory(in *rules.Input) []rules.Finding {
	if ok, err := facts.IsDir(in.Guest, "root"); err != nil {
		return []rules.Finding{in.Fault("/root", err)}
	} else if !ok {
		return []rules.Finding{silent(in, "/root", "no /root directory, so no history check")}
	}
	if f, ok := parityHistory(in, "root", "root/.bash_history"); ok {
		return []rules.Finding{f}
	}
	f := in.New(rules.Pass, "/root/.bash_history", "The Root User's Bash History is not present",
		rules.KV{Key: rules.KeyUser, Value: "root"}, rules.KV{Key: rules.KeyPath, Value: "/root/.bash_history"})
	return []rules.Finding{f}
}
