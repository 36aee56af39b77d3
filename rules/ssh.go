package rules

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts"
)

var sshAuthorizedKeysRule = Rule{
	ID: "ssh.authorized-keys", Title: "No home ships authorized_keys with keys in them",
	Check: checkAuthorizedKeys,
}

var sshPrivateKeysRule = Rule{
	ID: "ssh.private-keys", Title: "No home holds a private key",
	Check: checkPrivateKeys,
}

var sshKnownHostsRule = Rule{
	ID: "ssh.known-hosts", Title: "No home ships known_hosts entries",
	Check: checkKnownHosts,
}

var sshDirOtherRule = Rule{
	ID: "ssh.dir-other", Title: "Other entries of each .ssh directory are listed",
	Check: checkSSHDirOther,
}

// sshWalkDepth is how deep private-key discovery descends into .ssh.
const sshWalkDepth = 3

// homesOrFault returns the home set, or the findings that report its fault
// and each home's own fault. Homes with a fault are left out of the list.
func homesOrFault(in *Input) ([]facts.Home, []Finding) {
	homes, err := in.Facts.Homes()
	if err != nil {
		return nil, []Finding{in.Fault(faultSubject(err, "/etc/passwd"), err)}
	}
	var ok []facts.Home
	var faults []Finding
	for _, h := range homes {
		if h.Err != nil {
			faults = append(faults, in.Fault(h.Display(), h.Err))
			continue
		}
		ok = append(ok, h)
	}
	return ok, faults
}

// keyFileCandidate is an authorized_keys file to check and whose it is.
type keyFileCandidate struct {
	name string // guest name
	user string
}

// authorizedKeyFiles lists the files sshd would read: each account's
// effective AuthorizedKeysFile, and .ssh/authorized_keys{,2} of every home.
func authorizedKeyFiles(a *facts.Accounts, homes []facts.Home, cfg *facts.SSHDConfig) []keyFileCandidate {
	var out []keyFileCandidate
	homeOf := map[string]string{} // user → home guest name
	for _, h := range homes {
		for _, u := range h.Users {
			homeOf[u] = h.Path
		}
	}
	if cfg != nil {
		for _, u := range a.Users {
			for _, pattern := range cfg.ForUser("AuthorizedKeysFile", u.Name).Args {
				if strings.EqualFold(pattern, "none") {
					continue
				}
				p := expandSSHDTokens(pattern, u)
				if !strings.HasPrefix(p, "/") {
					h, ok := homeOf[u.Name]
					if !ok {
						continue
					}
					p = "/" + h + "/" + p
				}
				if n, ok := facts.GuestName(p); ok {
					out = append(out, keyFileCandidate{n, u.Name})
				}
			}
		}
	}
	for _, h := range homes {
		for _, f := range []string{".ssh/authorized_keys", ".ssh/authorized_keys2"} {
			out = append(out, keyFileCandidate{path.Join(h.Path, f), h.User})
		}
	}
	return out
}

// expandSSHDTokens expands %%, %h, %u and %U in an AuthorizedKeysFile.
func expandSSHDTokens(p string, u facts.Account) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+1 == len(p) {
			b.WriteByte(p[i])
			continue
		}
		i++
		switch p[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(strings.TrimSuffix(u.Home, "/"))
		case 'u':
			b.WriteString(u.Name)
		case 'U':
			b.WriteString(strconv.Itoa(u.UID))
		default:
			b.WriteByte('%')
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

func checkAuthorizedKeys(in *Input) []Finding {
	homes, out := homesOrFault(in)
	a, err := in.Facts.Accounts()
	if err != nil {
		return append(out, accountsFault(in, err)...)
	}
	cfg, err := in.Facts.SSHD()
	if err != nil {
		out = append(out, in.Fault(faultSubject(err, facts.SSHDConfigPath), err))
	}
	seen := map[string]bool{}
	bad := len(out) > 0
	for _, c := range authorizedKeyFiles(a, homes, cfg) {
		p, err := in.Guest.Resolve(c.name)
		if err != nil {
			if !fsinspect.IsFact(err) {
				out, bad = append(out, in.Fault("/"+c.name, err)), true
			}
			continue
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		data, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
		if err != nil {
			out, bad = append(out, in.Fault("/"+p, err)), true
			continue
		}
		if f, ok := authorizedKeysFinding(in, "/"+p, c.user, data); ok {
			out, bad = append(out, f), true
		}
	}
	if !bad {
		out = append(out, in.New(Pass, "authorized_keys", "No authorized_keys file holds a key"))
	}
	return out
}

// authorizedKeysFinding judges one authorized_keys file: FAIL with every
// key's fingerprint, WARN for content without a parsable key.
func authorizedKeysFinding(in *Input, p, user string, data []byte) (Finding, bool) {
	keys, bad := facts.ParseAuthorizedKeys(data)
	fix := "delete " + p + " (Packer: ssh_clear_authorized_keys)"
	if p == "/root/.ssh/authorized_keys" || user == "root" {
		fix = "delete " + p + " (Packer: ssh_clear_authorized_keys)"
	}
	if len(keys) == 0 {
		if len(bad) == 0 {
			return Finding{}, false
		}
		f := in.New(Warn, p, fmt.Sprintf("%s has %d non-comment line(s) but no parsable key", p, len(bad)),
			KV{KeyPath, p}, KV{KeyUser, user}, KV{KeyCount, "0"}, KV{KeyLine, strconv.Itoa(bad[0])})
		f.Fix = fix
		return f, true
	}
	ev := []KV{{KeyPath, p}, {KeyUser, user}, {KeyCount, strconv.Itoa(len(keys))}}
	for _, k := range keys {
		ev = append(ev, KV{KeyLine, strconv.Itoa(k.Line)}, KV{KeyKeyType, k.Type}, KV{KeyFingerprint, k.Fingerprint},
			KV{"comment", k.Comment}, KV{"options", yesNo(k.Options)})
	}
	f := in.New(Fail, p, fmt.Sprintf("User %s has %d authorized key(s) in %s", user, len(keys), p), ev...)
	f.Fix = fix
	return f, true
}

// sshFile is a regular file found in a home.
type sshFile struct {
	name  string // guest name as found (links not resolved)
	info  fs.FileInfo
	inSSH bool // below the home's .ssh directory
}

// walkSSHDir lists the regular files under dir to the given depth, dot
// entries included, following links to files but not into directories.
func walkSSHDir(g *fsinspect.Guest, dir string, depth int) ([]sshFile, error) {
	entries, err := facts.ReadDir(g, dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = path.Join(dir, e.Name())
	}
	fis, errs := facts.StatEach(g, names)
	var out []sshFile
	for i, e := range entries {
		name, fi, err := names[i], fis[i], errs[i]
		if err != nil {
			return out, err
		}
		switch {
		case fi == nil:
		case fi.Mode().IsRegular():
			out = append(out, sshFile{name, fi, true})
		case fi.IsDir() && e.Type()&fs.ModeSymlink == 0 && depth > 1:
			sub, err := walkSSHDir(g, name, depth-1)
			out = append(out, sub...)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// sniffSize is read first from files that may be binaries.
const sniffSize = 4096

// keyStreamLimit is how far into a file readKeyHead looks for the first
// line of a private key: ssh-keygen loads a key after any amount of
// leading text, so the search goes past facts.KeyScanLimit, and a file that
// ends later without a key line seen is an error ("cap reached"), never
// a pass.
const keyStreamLimit = 64 << 20

// errKeyCap is readKeyHead's error for a file longer than keyStreamLimit
// with no private-key line in the part it read.
var errKeyCap = fmt.Errorf("cap reached: no private-key line in the first %d MiB, and the file is longer", keyStreamLimit>>20)

// readKeyHead returns up to facts.KeyScanLimit bytes of name from its first
// private-key line on (a PEM, OpenSSH, SSH2 or PGP BEGIN line, or PuTTY's
// header), streaming through at most keyStreamLimit bytes with a
// bounded buffer; nil when the file has no such line, or holds a NUL in
// its first 4 KiB (a binary is never a key file).
func readKeyHead(g *fsinspect.Guest, name string) ([]byte, error) {
	f, err := g.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.LimitReader(f, keyStreamLimit+1), sniffSize)
	if head, _ := r.Peek(sniffSize); bytes.IndexByte(head, 0) >= 0 {
		return nil, nil
	}
	var read int64
	lineStart := true
	for {
		line, err := r.ReadSlice('\n')
		read += int64(len(line))
		if lineStart && keyLine(line) {
			rest, rerr := io.ReadAll(io.LimitReader(r, facts.KeyScanLimit-int64(len(line))))
			if rerr != nil {
				return nil, rerr
			}
			return append(bytes.Clone(line), rest...), nil
		}
		lineStart = err == nil
		switch {
		case err == bufio.ErrBufferFull:
		case err == io.EOF && read > keyStreamLimit:
			return nil, errKeyCap
		case err == io.EOF:
			return nil, nil
		case err != nil:
			return nil, err
		}
	}
}

// keyLine reports whether line starts a private key.
func keyLine(line []byte) bool {
	t := bytes.TrimSpace(line)
	return bytes.HasPrefix(t, []byte("PuTTY-User-Key-File-")) || bytes.HasPrefix(t, []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY")) ||
		bytes.HasPrefix(t, []byte("-----BEGIN ")) && bytes.Contains(t, []byte("PRIVATE KEY"))
}

// privateKeyCandidates lists the files of one home checked for keys: every
// regular file under .ssh to depth 3, and regular files of at most 1 MiB
// directly in the home. At the top level, files with an execute bit are
// skipped: system accounts have homes such as /usr/bin, where reading the
// head of every binary would cost tens of MiB of image reads.
func privateKeyCandidates(g *fsinspect.Guest, h facts.Home) ([]sshFile, error) {
	files, err := walkSSHDir(g, path.Join(h.Path, ".ssh"), sshWalkDepth)
	if err != nil {
		return files, err
	}
	entries, err := facts.ReadDir(g, h.Path)
	if err != nil {
		return files, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, path.Join(h.Path, e.Name()))
		}
	}
	fis, errs := facts.StatEach(g, names)
	for i, name := range names {
		fi, err := fis[i], errs[i]
		if err != nil {
			return files, err
		}
		if fi != nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 == 0 && fi.Size() > 0 && fi.Size() <= facts.CapConfig {
			files = append(files, sshFile{name, fi, false})
		}
	}
	return files, nil
}

func checkPrivateKeys(in *Input) []Finding {
	homes, out := homesOrFault(in)
	bad := len(out) > 0
	seen := map[string]bool{}
	type candidates struct {
		files []sshFile
		err   error
	}
	cands := make([]candidates, len(homes))
	facts.Each(len(homes), func(i int) {
		cands[i].files, cands[i].err = privateKeyCandidates(in.Guest, homes[i])
	})
	for i, h := range homes {
		files, err := cands[i].files, cands[i].err
		if err != nil {
			out, bad = append(out, in.Fault(faultSubject(err, h.Display()), err)), true
		}
		for _, file := range files {
			p, err := in.Guest.Resolve(file.name)
			if err != nil {
				if !fsinspect.IsFact(err) {
					out, bad = append(out, in.Fault("/"+file.name, err)), true
				}
				continue
			}
			if seen[p] || strings.HasPrefix(p, "etc/ssh/") { // host keys: clean.ssh-host-keys
				continue
			}
			seen[p] = true
			f, ok := privateKeyFinding(in, h, file, "/"+file.name)
			if ok {
				out, bad = append(out, f), true
			}
		}
	}
	if !bad {
		out = append(out, in.New(Pass, "private keys", "No private key found in any home"))
	}
	return out
}

// privateKeyFinding judges one file: FAIL for a private key, WARN for an
// empty id_* file; the key body is never part of the finding.
func privateKeyFinding(in *Input, h facts.Home, file sshFile, display string) (Finding, bool) {
	base := path.Base(file.name)
	if file.info.Size() == 0 {
		if file.inSSH && strings.HasPrefix(base, "id_") && !strings.HasSuffix(base, ".pub") {
			f := in.New(Warn, display, "Empty private key file "+display, KV{KeyPath, display}, KV{KeyUser, h.User}, KV{KeySize, "0"})
			f.Fix = "delete " + display
			return f, true
		}
		return Finding{}, false
	}
	head, err := readKeyHead(in.Guest, file.name)
	if err != nil {
		return in.Fault(display, err), true
	}
	k, ok := facts.DetectPrivateKey(head)
	if !ok {
		return Finding{}, false
	}
	kev, err := keyEvidence(in, file.name, k)
	if err != nil {
		return in.Fault(display, err), true
	}
	ev := append([]KV{{KeyPath, display}, {KeyUser, h.User}}, kev...)
	f := in.New(Fail, display, fmt.Sprintf("Private key (%s) in %s", k.Format, display), ev...)
	f.Fix = "delete " + display
	return f, true
}

// keyEvidence describes a private key found in name: format, encryption,
// and the public half's type and fingerprint, or when none can be derived
// the SHA-256 digest of the file. Never the key itself.
func keyEvidence(in *Input, name string, k facts.PrivateKey) ([]KV, error) {
	ev := []KV{{"format", k.Format}, {"encrypted", k.Encrypted}}
	if k.Fingerprint != "" {
		return append(ev, KV{KeyKeyType, k.Type}, KV{KeyFingerprint, k.Fingerprint}), nil
	}
	data, err := in.Guest.ReadFileLimit(name, facts.CapConfig)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return append(ev, KV{KeyDigest, "sha256:" + hex.EncodeToString(sum[:])}), nil
}

func checkKnownHosts(in *Input) []Finding {
	homes, out := homesOrFault(in)
	bad := len(out) > 0
	for _, h := range homes {
		for _, n := range []string{"known_hosts", "known_hosts2"} {
			name := path.Join(h.Path, ".ssh", n)
			data, err := facts.ReadIfPresent(in.Guest, name, facts.CapConfig)
			if err != nil {
				out, bad = append(out, in.Fault("/"+name, err)), true
				continue
			}
			entries, hashed := 0, 0
			for _, l := range strings.Split(string(data), "\n") {
				l = strings.TrimSpace(l)
				if l == "" || strings.HasPrefix(l, "#") {
					continue
				}
				entries++
				if strings.HasPrefix(l, "|1|") {
					hashed++
				}
			}
			if entries == 0 {
				continue
			}
			f := in.New(Warn, "/"+name, fmt.Sprintf("%s has %d entries: it reveals the hosts the build contacted", "/"+name, entries),
				KV{KeyPath, "/" + name}, KV{KeyUser, h.User}, KV{KeyCount, strconv.Itoa(entries)}, KV{"hashed", hashedWord(hashed, entries)})
			f.Fix = "delete /" + name
			out, bad = append(out, f), true
		}
	}
	if !bad {
		out = append(out, in.New(Pass, "known_hosts", "No known_hosts file has entries"))
	}
	return out
}

func hashedWord(hashed, total int) string {
	switch hashed {
	case 0:
		return "no"
	case total:
		return "yes"
	}
	return "mixed"
}

// sshKnownNames are the .ssh entries other rules report.
var sshKnownNames = map[string]bool{
	"authorized_keys": true, "authorized_keys2": true, "known_hosts": true, "known_hosts2": true,
}

func checkSSHDirOther(in *Input) []Finding {
	homes, out := homesOrFault(in)
	bad := len(out) > 0
	for _, h := range homes {
		dir := path.Join(h.Path, ".ssh")
		entries, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			out, bad = append(out, in.Fault("/"+dir, err)), true
			continue
		}
		for _, e := range entries {
			if sshKnownNames[e.Name()] {
				continue
			}
			p := "/" + path.Join(dir, e.Name())
			kind := "file"
			switch {
			case e.IsDir():
				kind = "directory"
			case e.Type()&fs.ModeSymlink != 0:
				kind = "symlink"
			}
			ev := []KV{{KeyPath, p}, {KeyUser, h.User}, {"type", kind}}
			if fi, err := e.Info(); err == nil && kind == "file" {
				ev = append(ev, KV{KeySize, strconv.FormatInt(fi.Size(), 10)})
			}
			out, bad = append(out, in.New(Info, p, fmt.Sprintf("%s in %s's .ssh directory: %s", kind, h.User, p), ev...)), true
		}
	}
	if !bad {
		out = append(out, in.New(Pass, ".ssh", "No other entries in any .ssh directory"))
	}
	return out
}

// yesNo is the evidence text of a boolean.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
