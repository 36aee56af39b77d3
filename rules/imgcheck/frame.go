package imgcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/rules"
)

// TextOptions control the img_check profile's text frame.
type TextOptions struct {
	// Color adds the script's ANSI escape codes; the default strips them.
	Color bool
	// ShowContents prints the raw bodies of the log files and
	// authorized_keys files the script would cat (--show-contents), read
	// from Contents (Image.Contents). Private keys are never printed.
	ShowContents bool
	Contents     map[string][]byte
	// Now is the time printed on the "Executed on:" line; zero means
	// time.Now().
	Now time.Time
}

// The script's fixed text (img_check.sh v1.8.1).
const (
	imgCheckTitle   = "DigitalOcean Marketplace Image Validation Tool v. 1.8.1"
	imgCheckDate    = "Mon Jan _2 15:04:05 MST 2006" // date(1) in the C locale
	imgCheckDashes  = "---------------------------------------------------------------------------------------------------"
	imgCheckAptHead = "Updating apt package database to check for security updates, this may take a minute..."
	imgCheckRPMHead = "Checking for available security updates, this may take a minute..."
	imgCheckAptList = "Here is a list of the security updates that are not installed:"
	paragraphPass   = "We did not detect any issues with this image. Please be sure to manually ensure that all software installed on the base system is functional, secure and properly configured (or facilities for configuration on first-boot have been created)."
	paragraphWarn   = "Please review all [WARN] items above and ensure they are intended or resolved.  If you do not have a specific requirement, we recommend resolving these items before image submission"
	paragraphFail   = "Some critical tests failed.  These items must be resolved and this scan re-run before you submit your image to the DigitalOcean Marketplace."
)

// MaxShownBody is the most of one file --show-contents prints.
const MaxShownBody = 64 << 20

// ANSI codes the script uses.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[93m"
	ansiRedBG  = "\x1b[41m"
)

// rhelNames are the OS names for which the script uses yum.
var rhelNames = []string{"CentOS Linux", "CentOS Stream", "Rocky Linux", "AlmaLinux", "CloudLinux"}

// WriteText writes the img_check profile's stdout: the frame of
// img_check.sh v1.8.1 with every check's lines in the
// script's order, the users regrouped per account, content blocks in
// place of file bodies, and the summary with the script's counters.
// [SKIP] and [ERROR] lines appear where their check would print.
func WriteText(w io.Writer, rs []rules.Result, o TextOptions) error {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	fr := &frame{w: bufio.NewWriter(w), o: o, by: map[string][]rules.Finding{}}
	for _, r := range rs {
		fr.by[r.Rule.ID] = append(fr.by[r.Rule.ID], r.Findings...)
	}
	fr.printf("%s\nExecuted on: %s\nChecking local system for Marketplace compatibility...\n",
		imgCheckTitle, o.Now.Format(imgCheckDate))
	osName, ver := "", ""
	if found := fr.by["os.supported"]; len(found) > 0 {
		osName, ver = frameLine(found[0].Get(rules.KeyOS)), frameLine(found[0].Get(rules.KeyRelease))
	}
	fr.printf("\n%s %s\n%s %s\n\n", fr.color(ansiBold, "Distribution:"), osName, fr.color(ansiBold, "Version:"), ver)
	fr.rule("os.supported")
	if Stops(rs) {
		fr.printf("Exiting...\n")
		return fr.w.Flush()
	}
	fr.rule("os.release")
	fr.rule("cloudinit.installed")
	fr.rule("fw.active")
	fr.updates(osName)
	fr.printf("\nChecking for log files in /var/log\n\n")
	for _, id := range []string{"logs.archive-dated", "logs.archive-numbered", "logs.uncleared"} {
		fr.rule(id)
	}
	fr.printf("\n\nChecking all user-created accounts...\n")
	fr.users()
	fr.printf("\n\nChecking the root account...\n")
	fr.root()
	fr.rule("agent.do-dir")
	fr.summary(rs)
	return fr.w.Flush()
}

// frame writes the img_check text. Write errors stick in the
// bufio.Writer and are returned by Flush.
type frame struct {
	w  *bufio.Writer
	o  TextOptions
	by map[string][]rules.Finding
}

func (fr *frame) printf(format string, a ...any) { fmt.Fprintf(fr.w, format, a...) }

// color wraps s in an ANSI code when colour is on.
func (fr *frame) color(code, s string) string {
	if !fr.o.Color {
		return s
	}
	return code + s + ansiReset
}

// tag is the bracketed level as the script prints it; INFO is its "[ OK ]".
func (fr *frame) tag(l rules.Level) string {
	switch l {
	case rules.Pass:
		return fr.color(ansiGreen, "[PASS]")
	case rules.Info:
		return fr.color(ansiGreen, "[ OK ]")
	case rules.Warn:
		return fr.color(ansiYellow, "[WARN]")
	case rules.Fail:
		return fr.color(ansiRedBG, "[FAIL]")
	}
	return l.Tag()
}

// rule prints every finding of one rule in order.
func (fr *frame) rule(id string) {
	for _, f := range fr.by[id] {
		fr.finding(f)
	}
}

// finding prints one finding's line, the hint lines that follow it and
// its content block. It reports whether anything was printed.
func (fr *frame) finding(f rules.Finding) bool {
	if Silent(f) {
		return false
	}
	fr.printf("%s %s\n", fr.tag(f.Level), fr.message(f))
	for _, kv := range f.Evidence {
		if kv.Key == KeyHint {
			fr.printf("%s\n", rules.Redact(frameLine(kv.Value)))
		}
	}
	fr.block(f)
	return true
}

// message is the finding's text; in colour, the .ssh messages show the
// user in bold and the path in yellow, as the script does.
func (fr *frame) message(f rules.Finding) string {
	msg := rules.Redact(frameLine(f.Message))
	if !fr.o.Color || (f.Rule != "root.ssh" && f.Rule != "users.ssh") || f.Level == rules.Error || f.Level == rules.Skip {
		return msg
	}
	if u := frameLine(f.Get(rules.KeyUser)); u != "" {
		if rest, ok := strings.CutPrefix(msg, "User "+u+" "); ok {
			msg = "User " + ansiBold + u + ansiReset + " " + rest
		}
	}
	if p := frameLine(f.Get(rules.KeyPath)); p != "" {
		if head, ok := strings.CutSuffix(msg, " "+p); ok {
			msg = head + " " + ansiYellow + p + ansiReset
		}
	}
	return msg
}

// block prints what replaces the script's cat after a finding: after a
// log WARN, the file (with ShowContents) or a withheld line, and nothing
// where cat prints nothing; after the authorized_keys and id_rsa FAILs,
// the "File Contents:" block.
func (fr *frame) block(f rules.Finding) {
	p := f.Get(rules.KeyPath)
	switch {
	case strings.HasPrefix(f.Rule, "logs.") && f.Level == rules.Warn:
		size, _ := strconv.ParseInt(f.Get(rules.KeySize), 10, 64)
		if size <= 0 {
			return
		}
		if body, ok := fr.body(p); ok {
			fr.printf("%s", rules.EscapeBody(rules.Redact(string(body))))
			return
		}
		fr.printf("%s\n", withheld(size))
	case (f.Rule == "root.ssh" || f.Rule == "users.ssh") && f.Level == rules.Fail:
		fr.printf("File Contents:\n")
		if strings.HasSuffix(p, "/authorized_keys") {
			fr.keysBody(f, p)
		} else {
			size, _ := strconv.ParseInt(f.Get(rules.KeySize), 10, 64)
			fr.printf("%s\n", withheld(size))
		}
		fr.printf("--------------\n")
	}
}

// frameLine keeps a message on one line without trimming it, escaping
// control characters and bytes that are not UTF-8 (rules.Escape): the
// script's lines may end in a space (an empty OS or version).
func frameLine(s string) string { return rules.Escape(s) }

func withheld(size int64) string { return fmt.Sprintf("[imgcheck: contents withheld, %d bytes]", size) }

// keysBody prints an authorized_keys file as one line per key, or its raw
// text with ShowContents (trailing newlines removed plus one, as the
// script's echo "$(cat f)" does).
func (fr *frame) keysBody(f rules.Finding, p string) {
	if body, ok := fr.body(p); ok {
		fr.printf("%s\n", rules.EscapeBody(rules.Redact(string(bytes.TrimRight(body, "\n")))))
		return
	}
	var lines []string
	for _, kv := range f.Evidence {
		switch kv.Key {
		case rules.KeyKeyType:
			lines = append(lines, kv.Value)
		case rules.KeyFingerprint, "comment":
			if len(lines) > 0 && kv.Value != "" {
				lines[len(lines)-1] += " " + kv.Value
			}
		}
	}
	if len(lines) == 0 {
		size, _ := strconv.ParseInt(f.Get(rules.KeySize), 10, 64)
		lines = []string{withheld(size)}
	}
	for _, l := range lines {
		fr.printf("%s\n", rules.Redact(frameLine(l)))
	}
}

// body returns the raw file p from Contents when ShowContents is on; a
// file over the cap is not shown at all.
func (fr *frame) body(p string) ([]byte, bool) {
	if !fr.o.ShowContents || p == "" {
		return nil, false
	}
	b, ok := fr.o.Contents[p]
	if !ok || len(b) > MaxShownBody {
		return nil, false
	}
	return b, true
}

// updates prints the security-updates block with the script's apt or yum
// framing, chosen by OS as the script does.
func (fr *frame) updates(osName string) {
	apt := osName == "Ubuntu" || strings.Contains(osName, "Debian")
	rpm := false
	for _, n := range rhelNames {
		rpm = rpm || osName == n
	}
	switch {
	case apt:
		fr.printf("\n%s\n\n", imgCheckAptHead)
	case rpm:
		fr.printf("\n%s\n\n", imgCheckRPMHead)
	}
	for _, f := range fr.by["pkg.security-updates"] {
		if !fr.finding(f) {
			continue
		}
		switch {
		case apt && f.Level == rules.Pass:
			fr.printf("\n")
		case apt && f.Level == rules.Fail:
			fr.printf("%s\n", imgCheckAptList)
			for _, kv := range f.Evidence {
				if kv.Key == rules.KeyPackage {
					fr.printf("%s\n", rules.Redact(frameLine(kv.Value)))
				}
			}
		}
	}
}

// users prints the per-account blocks of checkUsers: the users.*
// findings regrouped by account (name and passwd line), in the order the
// script meets the accounts.
func (fr *frame) users() {
	ids := []string{"users.password", "users.ssh", "users.history"}
	account := func(f rules.Finding) string {
		if f.Get(KeyPasswdLine) == "" {
			return ""
		}
		return f.Get(rules.KeyUser) + "\x00" + f.Get(KeyPasswdLine)
	}
	var order []string
	seen := map[string]bool{}
	for _, id := range []string{"users.ssh", "users.password", "users.history"} {
		for _, f := range fr.by[id] {
			if a := account(f); a != "" && !seen[a] {
				seen[a] = true
				order = append(order, a)
			}
		}
	}
	for _, id := range ids {
		for _, f := range fr.by[id] {
			if account(f) == "" {
				fr.finding(f)
			}
		}
	}
	for _, a := range order {
		name, _, _ := strings.Cut(a, "\x00")
		fr.printf("\nChecking user: %s...\n", frameLine(name))
		history := false
		for _, id := range ids {
			for _, f := range fr.by[id] {
				if account(f) == a && fr.finding(f) && id == "users.history" {
					history = true
				}
			}
		}
		if history {
			fr.printf("\n\n")
		}
	}
}

// root prints checkRoot: password, .ssh and history lines, then two empty
// lines unless /root/.bash_history is a regular file (the script returns
// early then; root.history's finding carries the file's size only in that
// case).
func (fr *frame) root() {
	fr.rule("root.password")
	fr.rule("root.ssh")
	early := false
	for _, f := range fr.by["root.history"] {
		if fr.finding(f) && f.Level != rules.Error && f.Get(rules.KeySize) != "" {
			early = true
		}
	}
	if !early {
		fr.printf("\n\n")
	}
}

// summary prints the script's closing block for its STATUS.
func (fr *frame) summary(rs []rules.Result) {
	pass, warn, fail, status := Counts(rs)
	fr.printf("\n\n%s\n", imgCheckDashes)
	switch status {
	case 0:
		fr.printf("Scan Complete.\n%s\n", fr.color(ansiGreen, "All Tests Passed!"))
	case 1:
		text := "Some non-critical tests failed.  Please review these items."
		if fr.o.Color {
			text = ansiYellow + text + ansiReset + ansiReset
		}
		fr.printf("Scan Complete. \n%s\n", text)
	default:
		fr.printf("Scan Complete. \n%s\n", fr.color(ansiRedBG, "One or more tests failed.  Please review these items and re-test."))
	}
	fr.printf("%s\n", imgCheckDashes)
	fr.printf("%s\n", fr.color(ansiBold, fmt.Sprintf("%d Tests PASSED", pass)))
	fr.printf("%s\n", fr.color(ansiBold, fmt.Sprintf("%d WARNINGS", warn)))
	fr.printf("%s\n", fr.color(ansiBold, fmt.Sprintf("%d Tests FAILED", fail)))
	fr.printf("%s\n", imgCheckDashes)
	paragraph := map[int]string{0: paragraphPass, 1: paragraphWarn}[status]
	if status >= 2 {
		paragraph = paragraphFail
	}
	fr.printf("%s\n\n", paragraph)
}

// WriteNotes writes the img_check profile's stderr block: findings that
// rest on an offline approximation, script results that do not count (Q1)
// or do not change STATUS (Q3), and the disk rules, which the script does
// not have. It writes nothing when there is nothing to note.
func WriteNotes(w io.Writer, rs []rules.Result) error {
	var notes []string
	for _, r := range rs {
		for _, f := range r.Findings {
			if Silent(f) {
				continue
			}
			line := fmt.Sprintf("%s %s: %s", f.Level.Tag(), f.Rule, rules.Redact(frameLine(f.Message)))
			switch {
			case strings.HasPrefix(f.Rule, "disk."):
				if f.SkipReason != rules.NotApplicable {
					notes = append(notes, line)
				}
			case f.Approximate:
				var why []string
				if r := f.Get(rules.KeyReason); r != "" {
					why = append(why, rules.Redact(frameLine(r)))
				}
				if d := f.Get(rules.KeyDate); d != "" {
					why = append(why, "dated "+rules.Redact(frameLine(d)))
				}
				if len(why) > 0 {
					line += " (" + strings.Join(why, "; ") + ")"
				}
				notes = append(notes, "approximate: "+line)
			case strings.HasPrefix(f.Rule, "users.") && (f.Level == rules.Warn || f.Level == rules.Fail) && !Counted(f):
				notes = append(notes, "not counted by img_check.sh; the marketplace profile counts it: "+line)
			case (f.Rule == "users.ssh" || f.Rule == "root.ssh") && f.Level == rules.Info && f.Get(rules.KeyReason) != "":
				notes = append(notes, "not inspected by img_check.sh; the marketplace profile inspects it: "+line+" ("+rules.Redact(frameLine(f.Get(rules.KeyReason)))+")")
			case f.Rule == "logs.archive-dated" && f.Level == rules.Warn && !rules.IsRotatedLog(path.Base(f.Get(rules.KeyPath))):
				notes = append(notes, "the script's *-???????? glob also matches live logs and directories; the marketplace profile does not call this an archive: "+line)
			case f.Rule == "fw.active" && f.Level == rules.Warn:
				notes = append(notes, "counted as a warning but does not change the script's status: "+line)
			}
		}
	}
	if len(notes) == 0 {
		return nil
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "imgcheck notes (not printed by img_check.sh):")
	for _, n := range notes {
		fmt.Fprintln(bw, "  "+n)
	}
	return bw.Flush()
}
