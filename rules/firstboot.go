package rules

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var firstbootExecutableRule = Rule{
	ID: "firstboot.executable", Title: "First-boot scripts are executable and have a valid interpreter",
	Check: checkFirstBootExecutable,
}

var firstbootSshLockRule = Rule{
	ID: "firstboot.ssh-lock", Title: "The first-boot SSH lock has an executable removal script",
	Check: checkFirstBootSSHLock,
}

// firstBootDirs are cloud-init's script directories.
var firstBootDirs = []string{
	"var/lib/cloud/scripts/per-instance",
	"var/lib/cloud/scripts/per-boot",
	"var/lib/cloud/scripts/per-once",
}

// scriptHead is how much of a script is read to check its first line.
const scriptHead = 512

// readScriptHead returns the first bytes of a guest file.
func readScriptHead(in *Input, name string) ([]byte, error) {
	f, err := in.Guest.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, scriptHead)
	n, err := io.ReadFull(f, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return buf[:n], err
}

// scriptProblems returns why a regular file would not run as a script:
// no execute bit, neither "#!" nor ELF magic, a CRLF "#!" line, or an
// interpreter that is not an executable in the guest ("#!/usr/bin/env X"
// also needs X on root's PATH).
func scriptProblems(in *Input, name string, fi fs.FileInfo) ([]string, error) {
	var out []string
	if fi.Mode().Perm()&0o111 == 0 {
		out = append(out, fmt.Sprintf("mode %04o has no execute bit", fi.Mode().Perm()))
	}
	head, err := readScriptHead(in, name)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(head, []byte("\x7fELF")) {
		return out, nil
	}
	line, ok := bytes.CutPrefix(head, []byte("#!"))
	if !ok {
		return append(out, "starts with neither #! nor an ELF header"), nil
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if bytes.HasSuffix(line, []byte("\r")) {
		out = append(out, "the #! line ends in CR (CRLF line endings)")
		line = bytes.TrimSuffix(line, []byte("\r"))
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return append(out, "the #! line names no interpreter"), nil
	}
	interp := fields[0]
	gn, valid := facts.GuestName(interp)
	ok = false
	if valid {
		if ok, err = in.Facts.Executable(gn); err != nil {
			return nil, err
		}
	}
	if !ok {
		return append(out, fmt.Sprintf("interpreter %s is not an executable in the image", interp)), nil
	}
	if path.Base(interp) == "env" && len(fields) > 1 && !strings.HasPrefix(fields[1], "-") {
		cmd, err := in.Facts.LookPath(fields[1])
		if err != nil {
			return nil, err
		}
		if cmd == "" {
			out = append(out, fmt.Sprintf("env finds no %s on root's PATH in the image", fields[1]))
		}
	}
	return out, nil
}

func checkFirstBootExecutable(in *Input) []Finding {
	var out []Finding
	for _, dir := range firstBootDirs {
		entries, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			out = append(out, in.Fault("/"+dir, err))
			continue
		}
		for _, e := range entries {
			out = append(out, firstBootEntry(in, path.Join(dir, e.Name())))
		}
	}
	if len(out) == 0 {
		return []Finding{in.Skip(NotApplicable, "no first-boot scripts in /var/lib/cloud/scripts")}
	}
	return out
}

// firstBootEntry judges one entry of a script directory.
func firstBootEntry(in *Input, name string) Finding {
	display := "/" + name
	fi, err := facts.Stat(in.Guest, name)
	if err != nil {
		return in.Fault(display, err)
	}
	fix := "chmod 0755 " + display + " and give it a valid #! line with LF endings"
	switch {
	case fi == nil:
		f := in.New(Fail, display, display+" is a dangling link: cloud-init cannot run it", KV{KeyPath, display})
		f.Fix = "fix or remove the link " + display
		return f
	case fi.IsDir():
		return in.New(Info, display, display+" is a directory: cloud-init does not run it", KV{KeyPath, display})
	case !fi.Mode().IsRegular():
		return in.New(Info, display, display+" is not a regular file", KV{KeyPath, display})
	}
	problems, err := scriptProblems(in, name, fi)
	if err != nil {
		return in.Fault(display, err)
	}
	ev := []KV{{KeyPath, display}, {KeyMode, fmt.Sprintf("%04o", fi.Mode().Perm())}}
	if len(problems) == 0 {
		return in.New(Pass, display, display+" is an executable script", ev...)
	}
	for _, p := range problems {
		ev = append(ev, KV{KeyReason, p})
	}
	f := in.New(Fail, display, fmt.Sprintf("First-boot script %s will not run: %s", display, strings.Join(problems, "; ")), ev...)
	f.Fix = fix
	return f
}

// sshLockMarkers identify DigitalOcean's "please wait" root lock.
var sshLockMarkers = []string{"droplet", "please wait"}

func checkFirstBootSSHLock(in *Input) []Finding {
	cfg, stop := sshdConfig(in)
	if stop != nil {
		return stop
	}
	lock := cfg.ForUser("ForceCommand", "root")
	low := strings.ToLower(lock.Raw)
	if !lock.Set() || !slices.ContainsFunc(sshLockMarkers, func(m string) bool { return strings.Contains(low, m) }) {
		return []Finding{in.Skip(NotApplicable, "no first-boot SSH lock (ForceCommand for root) in the sshd configuration")}
	}
	ev := []KV{{"keyword", "ForceCommand"}, {KeySource, lock.Source}}
	if lock.Match != "" {
		ev = append(ev, KV{"match", lock.Match})
	}
	var notExec []string
	for _, dir := range firstBootDirs[:2] { // per-instance, per-boot
		entries, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			return []Finding{in.Fault("/"+dir, err)}
		}
		for _, e := range entries {
			name := path.Join(dir, e.Name())
			fi, err := facts.Stat(in.Guest, name)
			if err != nil {
				return []Finding{in.Fault("/"+name, err)}
			}
			if fi == nil || !fi.Mode().IsRegular() {
				continue
			}
			data, err := in.Guest.ReadFileLimit(name, facts.CapConfig)
			if err != nil {
				return []Finding{in.Fault("/"+name, err)}
			}
			if !removesSSHLock(data) {
				continue
			}
			if fi.Mode().Perm()&0o111 != 0 {
				return []Finding{in.New(Pass, facts.SSHDConfigPath, fmt.Sprintf("The SSH lock (%s) is removed at first boot by /%s", lock.Source, name),
					append(ev, KV{KeyPath, "/" + name})...)}
			}
			notExec = append(notExec, "/"+name)
		}
	}
	msg := fmt.Sprintf("The first-boot SSH lock (%s) has no first-boot script that removes it: root would be locked out for good", lock.Source)
	if len(notExec) > 0 {
		msg = fmt.Sprintf("The first-boot SSH lock (%s) is removed only by %s, which is not executable: root would be locked out for good",
			lock.Source, strings.Join(notExec, ", "))
		for _, p := range notExec {
			ev = append(ev, KV{KeyPath, p})
		}
	}
	f := in.New(Fail, facts.SSHDConfigPath, msg, ev...)
	f.Fix = "ship an executable per-instance script that removes the Match/ForceCommand lock from sshd_config"
	return []Finding{f}
}

// removesSSHLock reports whether a script edits sshd_config to remove the lock.
func removesSSHLock(script []byte) bool {
	s := string(script)
	return strings.Contains(s, "sshd_config") && (strings.Contains(s, "ForceCommand") || strings.Contains(s, "Match User root"))
}
