package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var accountsPasswordRule = Rule{
	ID: "accounts.password", Title: "No account ships a usable password hash",
	Check: checkAccountsPassword,
}

var accountsLockedHashRule = Rule{
	ID: "accounts.locked-hash", Title: "No locked account keeps its old password hash",
	Check: checkAccountsLockedHash,
}

var accountsEmptyPasswordRule = Rule{
	ID: "accounts.empty-password", Title: "No account has an empty password",
	Check: checkAccountsEmptyPassword,
}

var accountsUid0Rule = Rule{
	ID: "accounts.uid0", Title: "Only root has UID 0",
	Check: checkAccountsUID0,
}

var accountsUsersRule = Rule{
	ID: "accounts.users", Title: "User-created accounts (UID >= UID_MIN) are listed",
	Check: checkAccountsUsers,
}

var accountsShadowBackupRule = Rule{
	ID: "accounts.shadow-backup", Title: "Backup account files hold no password hash",
	Check: checkShadowBackup,
}

// accountsFault turns a failed accounts fact into an ERROR naming the file.
func accountsFault(in *Input, err error) []Finding {
	return []Finding{in.Fault(faultSubject(err, "/etc/shadow"), err)}
}

// faultSubject names the guest path an error is about, or fallback.
func faultSubject(err error, fallback string) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok && pe.Path != "" {
		return "/" + pe.Path
	}
	return fallback
}

// credentialEvidence is the evidence of a password finding: never the field.
func credentialEvidence(c facts.Credential, scheme string) []KV {
	ev := []KV{{KeyUser, c.User}}
	if c.UID >= 0 {
		ev = append(ev, KV{KeyUID, strconv.Itoa(c.UID)})
	}
	if scheme != "" {
		ev = append(ev, KV{KeyScheme, scheme})
	}
	return append(ev, KV{KeyPath, c.Source}, KV{KeyLine, strconv.Itoa(c.Line)})
}

// checkCredentials reports every credential of class want, or one PASS.
func checkCredentials(in *Input, want facts.PasswordClass, level Level, msg func(c facts.Credential, scheme string) string,
	fix func(user string) string, pass string) []Finding {
	a, err := in.Facts.Accounts()
	if err != nil {
		return accountsFault(in, err)
	}
	var out []Finding
	if !a.ShadowPresent {
		out = append(out, in.New(Info, "/etc/shadow", "no /etc/shadow: password fields read from /etc/passwd",
			KV{KeyPath, "/etc/shadow"}))
	}
	found := false
	for _, c := range a.Credentials() {
		class, scheme := facts.ClassifyPassword(c.Field)
		if class != want {
			continue
		}
		found = true
		f := in.New(level, c.User, msg(c, scheme), credentialEvidence(c, scheme)...)
		f.Fix = fix(c.User)
		out = append(out, f)
	}
	if !found {
		out = append(out, in.New(Pass, "/etc/shadow", pass))
	}
	return out
}

func checkAccountsPassword(in *Input) []Finding {
	return checkCredentials(in, facts.UsableHash, Fail,
		func(c facts.Credential, scheme string) string {
			return fmt.Sprintf("User %s has a password set (%s hash in %s line %d)", c.User, scheme, c.Source, c.Line)
		},
		func(u string) string { return "remove the password hash before the snapshot: usermod -p '*' " + u },
		"No account has a usable password hash")
}

func checkAccountsLockedHash(in *Input) []Finding {
	return checkCredentials(in, facts.LockedHash, Warn,
		func(c facts.Credential, scheme string) string {
			return fmt.Sprintf("User %s is locked but still ships its %s hash (%s line %d); unlocking restores it",
				c.User, scheme, c.Source, c.Line)
		},
		func(u string) string { return "replace the locked hash: usermod -p '*' " + u },
		"No locked account keeps a password hash")
}

func checkAccountsEmptyPassword(in *Input) []Finding {
	return checkCredentials(in, facts.EmptyPassword, Fail,
		func(c facts.Credential, _ string) string {
			return fmt.Sprintf("User %s has an empty password field (%s line %d): password-less login is possible",
				c.User, c.Source, c.Line)
		},
		func(u string) string { return "lock the account: usermod -p '*' " + u },
		"No account has an empty password")
}

func checkAccountsUID0(in *Input) []Finding {
	a, err := in.Facts.Accounts()
	if err != nil {
		return accountsFault(in, err)
	}
	var out []Finding
	for _, u := range a.Users {
		if u.UID == 0 && u.Name != "root" {
			f := in.New(Fail, u.Name, fmt.Sprintf("Account %s has UID 0: a second root account", u.Name),
				KV{KeyUser, u.Name}, KV{KeyUID, "0"}, KV{KeyPath, "/etc/passwd"}, KV{KeyLine, strconv.Itoa(u.Line)})
			f.Fix = "remove the account (userdel " + u.Name + ") or give it its own UID"
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/etc/passwd", "Only root has UID 0"))
	}
	return out
}

func checkAccountsUsers(in *Input) []Finding {
	a, err := in.Facts.Accounts()
	if err != nil {
		return accountsFault(in, err)
	}
	var out []Finding
	for _, u := range a.Users {
		if u.UID < a.UIDMin || u.Name == "nobody" || u.Name == "nfsnobody" {
			continue
		}
		f := in.New(Info, u.Name, fmt.Sprintf("User-created account %s (UID %d, shell %s, home %s)", u.Name, u.UID, u.Shell, u.Home),
			KV{KeyUser, u.Name}, KV{KeyUID, strconv.Itoa(u.UID)}, KV{"shell", u.Shell}, KV{"home", u.Home},
			KV{KeyPath, "/etc/passwd"}, KV{KeyLine, strconv.Itoa(u.Line)})
		f.Fix = "DigitalOcean expects only system users: remove it (userdel -r " + u.Name + ") unless the image needs it"
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/etc/passwd", fmt.Sprintf("No user-created accounts (UID >= %d)", a.UIDMin)))
	}
	return out
}

func checkShadowBackup(in *Input) []Finding {
	var out []Finding
	for _, name := range []string{"etc/shadow-", "etc/passwd-"} {
		data, err := facts.ReadIfPresent(in.Guest, name, facts.CapConfig)
		if err != nil {
			out = append(out, in.Fault("/"+name, err))
			continue
		}
		var users []string
		if name == "etc/shadow-" {
			for _, s := range facts.ParseShadow(data) {
				if c, _ := facts.ClassifyPassword(s.Password); c == facts.UsableHash {
					users = append(users, s.Name)
				}
			}
		} else {
			for _, u := range facts.ParsePasswd(data) {
				if c, _ := facts.ClassifyPassword(u.Password); c == facts.UsableHash {
					users = append(users, u.Name)
				}
			}
		}
		if len(users) == 0 {
			continue
		}
		ev := []KV{{KeyPath, "/" + name}, {KeyCount, strconv.Itoa(len(users))}}
		for _, u := range users {
			ev = append(ev, KV{KeyUser, u})
		}
		f := in.New(Warn, "/"+name, fmt.Sprintf("/%s holds %d password hash(es): old hashes leak through backups", name, len(users)), ev...)
		f.Fix = "delete /etc/shadow- and /etc/passwd-"
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/etc/shadow-", "No password hash in /etc/shadow- or /etc/passwd-"))
	}
	return out
}
