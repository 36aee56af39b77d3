package rules

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
	"gopkg.in/yaml.v3"
)

var cleanSshHostKeysRule = Rule{
	ID: "clean.ssh-host-keys", Title: "No SSH host keys are baked into the image",
	Check: checkSSHHostKeys,
}

var cleanRevokedKeysRule = Rule{
	ID: "clean.revoked-keys", Title: "The RevokedKeys file sshd names exists",
	Check: checkRevokedKeys,
}

var sshdPasswordAuthRule = Rule{
	ID: "sshd.password-auth", Title: "Effective sshd PasswordAuthentication",
	Check: checkSSHDPasswordAuth,
}

var sshdRootLoginRule = Rule{
	ID: "sshd.root-login", Title: "sshd lets root log in with a key",
	Check: checkSSHDRootLogin,
}

var sshdEmptyPasswordsRule = Rule{
	ID: "sshd.empty-passwords", Title: "sshd refuses empty passwords",
	Check: checkSSHDEmptyPasswords,
}

// sshdConfig returns the effective sshd configuration, or the findings to
// return instead: SKIP when openssh-server is absent, ERROR on a fault.
func sshdConfig(in *Input) (*facts.SSHDConfig, []Finding) {
	cmd, err := in.Facts.LookPath("sshd")
	if err != nil {
		return nil, []Finding{in.Fault(faultSubject(err, "/usr/sbin/sshd"), err)}
	}
	if cmd == "" {
		db, err := in.Facts.Packages()
		if err != nil {
			return nil, []Finding{in.Fault(faultSubject(err, "package database"), err)}
		}
		if len(db.Installed("openssh-server")) == 0 {
			return nil, []Finding{in.Skip(NotApplicable, "openssh-server is not installed")}
		}
	}
	cfg, err := in.Facts.SSHD()
	if err != nil {
		return nil, []Finding{in.Fault(faultSubject(err, facts.SSHDConfigPath), err)}
	}
	return cfg, nil
}

// settingEvidence is the evidence of an effective sshd value.
func settingEvidence(keyword string, s facts.SSHDSetting) []KV {
	ev := []KV{{"keyword", keyword}, {KeyValue, s.Value()}, {KeySource, s.Source}}
	if s.Match != "" {
		ev = append(ev, KV{"match", s.Match})
	}
	return ev
}

// conditionalInfos reports values of keyword in Match blocks that offline
// evaluation cannot decide.
func conditionalInfos(in *Input, cfg *facts.SSHDConfig, keyword string) []Finding {
	var out []Finding
	for _, s := range cfg.Conditional(keyword) {
		out = append(out, in.New(Info, s.Source,
			fmt.Sprintf("%s %s applies only under \"Match %s\" (%s), which is not evaluated offline", keyword, s.Value(), s.Match, s.Source),
			settingEvidence(keyword, s)...))
	}
	return out
}

func checkSSHDPasswordAuth(in *Input) []Finding {
	cfg, stop := sshdConfig(in)
	if stop != nil {
		return stop
	}
	s := cfg.Global("PasswordAuthentication")
	f := in.New(Info, facts.SSHDConfigPath, fmt.Sprintf("PasswordAuthentication %s (%s); cloud-init may rewrite it at first boot", s.Value(), s.Source),
		settingEvidence("PasswordAuthentication", s)...)
	f.Fix = "set PasswordAuthentication explicitly if the image depends on it"
	return append([]Finding{f}, conditionalInfos(in, cfg, "PasswordAuthentication")...)
}

func checkSSHDRootLogin(in *Input) []Finding {
	cfg, stop := sshdConfig(in)
	if stop != nil {
		return stop
	}
	s := cfg.ForUser("PermitRootLogin", "root")
	ev := settingEvidence("PermitRootLogin", s)
	var f Finding
	switch v := strings.ToLower(s.Value()); v {
	case "prohibit-password", "without-password":
		f = in.New(Pass, facts.SSHDConfigPath, fmt.Sprintf("PermitRootLogin %s (%s): root logs in with a key", v, s.Source), ev...)
	case "yes":
		f = in.New(Info, facts.SSHDConfigPath, fmt.Sprintf("PermitRootLogin yes (%s): root may also log in with a password", s.Source), ev...)
	default:
		f = in.New(Warn, facts.SSHDConfigPath, fmt.Sprintf("PermitRootLogin %s (%s): DigitalOcean customers log in as root by default", s.Value(), s.Source), ev...)
		f.Fix = "set PermitRootLogin prohibit-password (at " + s.Source + ")"
	}
	return append([]Finding{f}, conditionalInfos(in, cfg, "PermitRootLogin")...)
}

// hasLoginShell reports whether shell lets the account log in.
func hasLoginShell(shell string) bool {
	b := path.Base(shell)
	return b != "nologin" && b != "false"
}

func checkSSHDEmptyPasswords(in *Input) []Finding {
	cfg, stop := sshdConfig(in)
	if stop != nil {
		return stop
	}
	a, err := in.Facts.Accounts()
	if err != nil {
		return accountsFault(in, err)
	}
	var out []Finding
	shells := map[string]string{}
	for _, u := range a.Users {
		if _, ok := shells[u.Name]; !ok {
			shells[u.Name] = u.Shell
		}
	}
	for _, c := range a.Credentials() {
		shell, ok := shells[c.User]
		if class, _ := facts.ClassifyPassword(c.Field); class != facts.EmptyPassword || !ok || !hasLoginShell(shell) {
			continue
		}
		s := cfg.ForUser("PermitEmptyPasswords", c.User)
		if !strings.EqualFold(s.Value(), "yes") {
			continue
		}
		f := in.New(Fail, c.User, fmt.Sprintf("PermitEmptyPasswords yes (%s) and %s has an empty password and shell %s: anyone can log in",
			s.Source, c.User, shell), append(settingEvidence("PermitEmptyPasswords", s), KV{KeyUser, c.User})...)
		f.Fix = "set PermitEmptyPasswords no, and lock the account (usermod -p '*' " + c.User + ")"
		out = append(out, f)
	}
	if len(out) == 0 {
		s := cfg.Global("PermitEmptyPasswords")
		if strings.EqualFold(s.Value(), "yes") {
			f := in.New(Warn, facts.SSHDConfigPath, fmt.Sprintf("PermitEmptyPasswords yes (%s)", s.Source), settingEvidence("PermitEmptyPasswords", s)...)
			f.Fix = "set PermitEmptyPasswords no (at " + s.Source + ")"
			out = append(out, f)
		} else {
			out = append(out, in.New(Pass, facts.SSHDConfigPath, fmt.Sprintf("PermitEmptyPasswords %s (%s)", s.Value(), s.Source),
				settingEvidence("PermitEmptyPasswords", s)...))
		}
	}
	return append(out, conditionalInfos(in, cfg, "PermitEmptyPasswords")...)
}

func checkRevokedKeys(in *Input) []Finding {
	cfg, stop := sshdConfig(in)
	if stop != nil {
		return stop
	}
	s := cfg.Global("RevokedKeys")
	ev := settingEvidence("RevokedKeys", s)
	v := s.Value()
	if v == "" || strings.EqualFold(v, "none") {
		return append([]Finding{in.New(Pass, facts.SSHDConfigPath, "RevokedKeys is not set", ev...)}, conditionalInfos(in, cfg, "RevokedKeys")...)
	}
	if !strings.HasPrefix(v, "/") {
		v = "/" + v // sshd runs from /
	}
	name, _ := facts.GuestName(v)
	display := "/" + name
	fi, err := facts.Stat(in.Guest, name)
	if err != nil {
		return []Finding{in.Fault(display, err)}
	}
	fix := "recreate " + display + " empty, with mode 0600"
	if fi == nil || !fi.Mode().IsRegular() {
		f := in.New(Fail, display, fmt.Sprintf("RevokedKeys %s (%s) is missing or not a regular file: sshd refuses every public key", display, s.Source),
			append(ev, KV{KeyPath, display})...)
		f.Fix = fix
		return []Finding{f}
	}
	ev = append(ev, KV{KeyPath, display}, KV{KeyMode, fmt.Sprintf("%04o", fi.Mode().Perm())}, KV{KeySize, strconv.FormatInt(fi.Size(), 10)})
	var notes []string
	if fi.Mode().Perm() != 0o600 {
		notes = append(notes, fmt.Sprintf("mode %04o, not 0600", fi.Mode().Perm()))
	}
	if fi.Size() > 0 {
		data, err := in.Guest.ReadFileLimit(name, facts.CapConfig)
		if err != nil {
			return []Finding{in.Fault(display, err)}
		}
		if bytes.HasPrefix(data, []byte("SSHKRL\n\x00")) {
			notes = append(notes, "holds a binary key revocation list")
		} else {
			keys, _ := facts.ParseAuthorizedKeys(data)
			ev = append(ev, KV{KeyCount, strconv.Itoa(len(keys))})
			notes = append(notes, fmt.Sprintf("holds %d revoked key(s)", len(keys)))
		}
	}
	if len(notes) == 0 {
		return []Finding{in.New(Pass, display, display+" exists, empty, mode 0600", ev...)}
	}
	f := in.New(Info, display, display+": "+strings.Join(notes, "; "), ev...)
	f.Fix = fix
	return []Finding{f}
}

// cloudDeleteKeys returns cloud-init's effective ssh_deletekeys and the
// file setting it: /etc/cloud/cloud.cfg, then cloud.cfg.d/*.cfg in lexical
// order, the last file wins. The default is true.
func cloudDeleteKeys(in *Input) (value bool, source string, err error) {
	files := []string{"/etc/cloud/cloud.cfg"}
	more, err := facts.Glob(in.Guest, "/etc/cloud/cloud.cfg.d/*.cfg")
	if err != nil {
		return false, "", err
	}
	value, source = true, "default"
	for _, f := range append(files, more...) {
		data, err := facts.ReadIfPresent(in.Guest, strings.TrimPrefix(f, "/"), facts.CapConfig)
		if err != nil {
			return false, "", fmt.Errorf("%s: %w", f, err)
		}
		if v, ok := yamlBool(data, "ssh_deletekeys"); ok {
			value, source = v, f
		}
	}
	return value, source, nil
}

// yamlBool reads a top-level YAML 1.1 boolean (cloud-init's PyYAML reads
// yes/no/on/off too). A file that does not parse is read line by line.
func yamlBool(data []byte, key string) (value, ok bool) {
	var doc map[string]yaml.Node
	raw := ""
	if err := yaml.Unmarshal(data, &doc); err == nil {
		n, found := doc[key]
		if !found {
			return false, false
		}
		raw = n.Value
	} else {
		for _, l := range strings.Split(string(data), "\n") {
			if v, found := strings.CutPrefix(l, key+":"); found {
				raw = strings.TrimSpace(strings.SplitN(v, "#", 2)[0])
			}
		}
	}
	switch strings.ToLower(raw) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

func checkSSHHostKeys(in *Input) []Finding {
	keys, err := facts.Glob(in.Guest, "/etc/ssh/ssh_host_*_key")
	if err != nil {
		return []Finding{in.Fault("/etc/ssh", err)}
	}
	deleteKeys, source, err := cloudDeleteKeys(in)
	if err != nil {
		return []Finding{in.Fault(faultSubject(err, "/etc/cloud/cloud.cfg"), err)}
	}
	var out []Finding
	for _, p := range keys {
		name := strings.TrimPrefix(p, "/")
		typ, fp, err := hostKeyFingerprint(in, name)
		if err != nil {
			out = append(out, in.Fault(p, err))
			continue
		}
		ev := []KV{{KeyPath, p}, {KeyKeyType, typ}, {KeyFingerprint, fp}, {"ssh_deletekeys", strconv.FormatBool(deleteKeys)}, {KeySource, source}}
		f := in.New(Warn, p, fmt.Sprintf("SSH host key %s is in the image; cloud-init regenerates it at first boot", p), ev...)
		if !deleteKeys {
			f = in.New(Fail, p, fmt.Sprintf("SSH host key %s is in the image and ssh_deletekeys is false (%s): every Droplet would share this host identity", p, source), ev...)
		}
		f.Fix = "delete /etc/ssh/ssh_host_*key* before the snapshot"
		if !deleteKeys {
			f.Fix += ", and remove ssh_deletekeys: false from " + source
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/etc/ssh", "No SSH host keys in the image"))
	}
	return out
}

// hostKeyFingerprint reads a host key's type and fingerprint from its
// .pub, or derives them from the private key.
func hostKeyFingerprint(in *Input, name string) (typ, fp string, err error) {
	pub, err := facts.ReadIfPresent(in.Guest, name+".pub", facts.CapConfig)
	if err != nil {
		return "", "", err
	}
	if keys, _ := facts.ParseAuthorizedKeys(pub); len(keys) > 0 {
		return keys[0].Type, keys[0].Fingerprint, nil
	}
	priv, err := facts.ReadIfPresent(in.Guest, name, facts.CapConfig)
	if err != nil {
		return "", "", err
	}
	k, _ := facts.DetectPrivateKey(priv)
	return k.Type, k.Fingerprint, nil
}
