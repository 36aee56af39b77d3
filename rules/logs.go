package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// Log rules: /var/log is walked recursively and each
// leftover goes to one rule: rotated archives, journal files, login
// records, and the rest (logs.uncleared). The img_check profile's globs
// are in rules/imgcheck.

var logsUnclearedRule = Rule{ID: "logs.uncleared", Title: "Log files under /var/log are truncated",
	Check: checkUncleared}

var logsRotatedRule = Rule{ID: "logs.rotated", Title: "No rotated log archives under /var/log",
	Check: checkRotated}

var logsJournalRule = Rule{ID: "logs.journal", Title: "No systemd journal files from the build",
	Check: checkJournal}

var logsLoginRecordsRule = Rule{ID: "logs.login-records", Title: "lastlog, wtmp, btmp, faillog and tallylog are empty",
	Check: checkLoginRecords}

const (
	varLog       = "var/log"
	cpanelLog    = "cpanel-install.log"
	lfdLog       = "lfd.log"
	parityLogMin = 50 // the script's loop 3: size > 50
)

// lfdResetLine reports whether line is one csf's lfd writes when it
// resets: the script's grep -E -v '/var/log/messages has been reset|
// Watching /var/log/messages'.
func lfdResetLine(line []byte) bool {
	return bytes.Contains(line, []byte("/var/log/messages has been reset")) ||
		bytes.Contains(line, []byte(" Watching /var/log/messages"))
}

// grepBinaryWindow is how much of a file GNU grep reads before it
// decides: a NUL byte in it makes grep treat the whole file as binary.
const grepBinaryWindow = 32 << 10

// LFDOtherBytes, for logs.uncleared in both profiles, is
// `grep -E -v <reset lines> lfd.log | wc -c`: the bytes of the other lines, each with its newline (grep adds one to a last line
// without it). The file is streamed, so no read cap applies. GNU grep
// prints nothing more once it finds binary data, which in the C locale
// the script runs in is a NUL byte: nothing at all when one is in its
// first buffer, otherwise nothing from the line holding it (checked with
// grep 3.8). binary reports that this happened, which makes the answer
// approximate.
func LFDOtherBytes(g *fsinspect.Guest, p string) (n int64, binary bool, err error) {
	f, err := g.Open(p)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, grepBinaryWindow)
	if head, _ := r.Peek(grepBinaryWindow); bytes.IndexByte(head, 0) >= 0 {
		return 0, true, nil
	}
	// A line longer than the buffer comes in pieces; such a line is never
	// one of lfd's short reset lines.
	for cont := false; ; {
		line, err := r.ReadSlice('\n')
		long := err == bufio.ErrBufferFull || cont
		cont = err == bufio.ErrBufferFull
		if bytes.IndexByte(line, 0) >= 0 {
			return n, true, nil
		}
		if len(line) > 0 && (long || !lfdResetLine(line)) {
			n += int64(len(line))
			if err == io.EOF {
				n++ // grep ends the last line
			}
		}
		switch {
		case err == io.EOF:
			return n, false, nil
		case err != nil && err != bufio.ErrBufferFull:
			return 0, false, err
		}
	}
}

// compressionSuffixes are the extensions logrotate and friends add.
var compressionSuffixes = []string{".gz", ".xz", ".bz2", ".zst", ".lz4"}

// IsRotatedLog reports whether a file name is a rotated log (rule
// logs.rotated): it ends in a compression suffix or ".old", or in
// ".<digits>" or "-<8 digits>", either optionally followed by a
// compression suffix.
func IsRotatedLog(name string) bool {
	if strings.HasSuffix(name, ".old") {
		return true
	}
	for _, s := range compressionSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	end := len(name)
	i := end
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	digits := end - i
	if digits == 0 || i == 0 {
		return false
	}
	return name[i-1] == '.' || (name[i-1] == '-' && digits == 8)
}

// loginRecords are the binary login databases of logs.login-records.
var loginRecords = []string{"lastlog", "wtmp", "btmp", "faillog", "tallylog"}

// isJournalFile reports whether p is a journal file below /var/log/journal.
func isJournalFile(p string) bool {
	return strings.HasPrefix(p, varLog+"/journal/") && (strings.HasSuffix(p, ".journal") || strings.HasSuffix(p, ".journal~"))
}

// isLoginRecord reports whether p is one of the top-level login databases.
func isLoginRecord(p string) bool {
	for _, n := range loginRecords {
		if p == varLog+"/"+n {
			return true
		}
	}
	return false
}

func fileEvidence(p string, fi fs.FileInfo) []KV {
	return []KV{{KeyPath, "/" + p}, {KeySize, strconv.FormatInt(fi.Size(), 10)},
		{KeyMtime, fi.ModTime().UTC().Format(time.RFC3339)}}
}

// logAgeReference is the time "build" ages are measured from: the root
// filesystem's last write, or the run's clock for a directory scan.
func logAgeReference(in *Input) time.Time {
	if _, r := rootFS(in.Disk); r != nil && !r.LastWrite.IsZero() {
		return r.LastWrite
	}
	return in.Opts.Now
}

// checkUncleared reports every non-empty regular file under
// /var/log that no other log rule owns.
func checkUncleared(in *Input) []Finding {
	files, err := in.Facts.VarLogFiles()
	if err != nil {
		return []Finding{in.Fault("/var/log", err)}
	}
	ref := logAgeReference(in)
	var out []Finding
	for _, lf := range files {
		name := lf.Path[strings.LastIndexByte(lf.Path, '/')+1:]
		if lf.Info.Size() == 0 || IsRotatedLog(name) || isJournalFile(lf.Path) || isLoginRecord(lf.Path) {
			continue
		}
		display := "/" + lf.Path
		ev := fileEvidence(lf.Path, lf.Info)
		age := "older"
		if mt := lf.Info.ModTime(); !mt.After(ref) && ref.Sub(mt) <= 24*time.Hour {
			age = "build"
		}
		ev = append(ev, KV{"age", age})
		switch {
		case lf.Path == varLog+"/"+cpanelLog:
			out = append(out, in.New(Info, display, display+" is not truncated; exempt by agreement with DigitalOcean (issue #75)", ev...))
			continue
		case lf.Path == varLog+"/"+lfdLog:
			n, _, err := LFDOtherBytes(in.Guest, lf.Path)
			if err != nil {
				out = append(out, in.Fault(display, err))
				continue
			}
			if n == 0 {
				continue
			}
		}
		msg := fmt.Sprintf("log file %s is not truncated (%d bytes)", display, lf.Info.Size())
		if name == "auth.log" || name == "ufw.log" {
			msg += "; DigitalOcean's README accepts a regenerated " + name + ", but truncate it before the snapshot"
		}
		f := in.New(Warn, display, msg, ev...)
		f.Fix = "truncate " + display + " to 0 bytes"
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/var/log", "every log file under /var/log is empty"))
	}
	return out
}

func checkRotated(in *Input) []Finding {
	files, err := in.Facts.VarLogFiles()
	if err != nil {
		return []Finding{in.Fault("/var/log", err)}
	}
	var out []Finding
	for _, lf := range files {
		name := lf.Path[strings.LastIndexByte(lf.Path, '/')+1:]
		if !IsRotatedLog(name) || isJournalFile(lf.Path) {
			continue
		}
		display := "/" + lf.Path
		f := in.New(Warn, display, "rotated log archive "+display, fileEvidence(lf.Path, lf.Info)...)
		f.Fix = "delete " + display
		if strings.Count(lf.Path, "/") > 2 {
			f.Fix = "delete " + display + " (cleanup.sh only deletes top-level archives)"
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/var/log", "no rotated log archives under /var/log"))
	}
	return out
}

// checkJournal reports one WARN per machine-id directory holding non-empty
// journal files.
func checkJournal(in *Input) []Finding {
	files, err := in.Facts.VarLogFiles()
	if err != nil {
		return []Finding{in.Fault("/var/log/journal", err)}
	}
	type group struct {
		count int
		bytes int64
	}
	var order []string
	groups := map[string]*group{}
	for _, lf := range files {
		if !isJournalFile(lf.Path) || lf.Info.Size() == 0 {
			continue
		}
		dir := varLog + "/journal"
		if rest := lf.Path[len(dir)+1:]; strings.Contains(rest, "/") {
			dir += "/" + rest[:strings.IndexByte(rest, '/')]
		}
		g, ok := groups[dir]
		if !ok {
			g = &group{}
			groups[dir] = g
			order = append(order, dir)
		}
		g.count++
		g.bytes += lf.Info.Size()
	}
	var out []Finding
	for _, dir := range order {
		g := groups[dir]
		display := "/" + dir
		f := in.New(Warn, display, fmt.Sprintf("%d journal files with %d bytes in %s", g.count, g.bytes, display),
			KV{KeyPath, display}, KV{KeyCount, strconv.Itoa(g.count)}, KV{KeySize, strconv.FormatInt(g.bytes, 10)})
		f.Fix = "remove the journal files in " + display + " (journalctl --rotate; journalctl --vacuum-time=1s)"
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/var/log/journal", "no non-empty journal files"))
	}
	return out
}

func checkLoginRecords(in *Input) []Finding {
	var out []Finding
	for _, n := range loginRecords {
		p := varLog + "/" + n
		display := "/" + p
		fi, err := facts.Stat(in.Guest, p)
		if err != nil {
			out = append(out, in.Fault(display, err))
			continue
		}
		if fi == nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			continue
		}
		msg := fmt.Sprintf("login records in %s (%d bytes)", display, fi.Size())
		fix := "truncate " + display + " to 0 bytes"
		switch n {
		case "btmp":
			msg += "; failed logins can contain passwords typed as user names"
		case "lastlog", "wtmp":
			fix = "truncate " + display + " to 0 bytes"
		}
		f := in.New(Warn, display, msg, fileEvidence(p, fi)...)
		f.Fix = fix
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/var/log", "login records are empty"))
	}
	return out
}

// FileType names the type of a file mode for evidence ("file",
// "directory", "symlink", ...).
func FileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "other"
}
