package rules

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var motdExecutableRule = Rule{
	ID: "motd.executable", Title: "MOTD scripts are executable and named so run-parts runs them",
	Check: checkMOTD,
}

// motdDir is where pam_motd's update-motd runs scripts with run-parts.
const motdDir = "etc/update-motd.d"

// runPartsLSB are the name patterns run-parts --lsbsysinit accepts: LANANA,
// LSB hierarchical and Debian cron-script names.
var runPartsLSB = []func() *regexp.Regexp{
	lazyRegexp(`^[a-z0-9]+$`),
	lazyRegexp(`^_?([a-z0-9_.]+-)+[a-z0-9]+$`),
	lazyRegexp(`^[A-Za-z0-9_-]+$`),
}

// RunPartsRuns reports whether run-parts --lsbsysinit would run a file
// with this name.
func RunPartsRuns(name string) bool {
	for _, suffix := range []string{".dpkg-old", ".dpkg-dist", ".dpkg-new", ".dpkg-tmp"} {
		if strings.HasSuffix(name, suffix) {
			return false
		}
	}
	for _, re := range runPartsLSB {
		if re().MatchString(name) {
			return true
		}
	}
	return false
}

func checkMOTD(in *Input) []Finding {
	entries, err := facts.ReadDir(in.Guest, motdDir)
	if err != nil {
		return []Finding{in.Fault("/"+motdDir, err)}
	}
	if entries == nil {
		fam, err := in.Facts.Family()
		if err == nil && fam == facts.RPM {
			return []Finding{in.Skip(NotApplicable, "rpm family: the MOTD is static, not run by run-parts")}
		}
		return []Finding{in.Skip(NotApplicable, "no /etc/update-motd.d")}
	}
	var out []Finding
	for _, e := range entries {
		name := path.Join(motdDir, e.Name())
		display := "/" + name
		fi, err := facts.Stat(in.Guest, name)
		if err != nil {
			out = append(out, in.Fault(display, err))
			continue
		}
		if fi == nil || !fi.Mode().IsRegular() {
			continue
		}
		var problems []string
		if fi.Mode().Perm()&0o111 == 0 {
			problems = append(problems, fmt.Sprintf("mode %04o has no execute bit", fi.Mode().Perm()))
		}
		if !RunPartsRuns(e.Name()) {
			problems = append(problems, "run-parts --lsbsysinit skips this name")
		}
		head, err := readScriptHead(in, name)
		if err != nil {
			out = append(out, in.Fault(display, err))
			continue
		}
		if !bytes.HasPrefix(head, []byte("#!")) && !bytes.HasPrefix(head, []byte("\x7fELF")) {
			problems = append(problems, "does not start with #!")
		}
		ev := []KV{{KeyPath, display}, {KeyMode, fmt.Sprintf("%04o", fi.Mode().Perm())}}
		if len(problems) == 0 {
			out = append(out, in.New(Pass, display, display+" runs at login", ev...))
			continue
		}
		for _, p := range problems {
			ev = append(ev, KV{KeyReason, p})
		}
		f := in.New(Warn, display, fmt.Sprintf("MOTD script %s will not run: %s", display, strings.Join(problems, "; ")), ev...)
		f.Fix = "chmod 0755 " + display + ", start it with #!, and use a name of letters, digits, - and _ only"
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/"+motdDir, "No MOTD scripts in /"+motdDir))
	}
	return out
}
