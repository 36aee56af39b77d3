package imgcheck

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

var logsArchiveDatedRule = rules.Rule{ID: "logs.archive-dated", Title: "No /var/log/*-???????? entries (img_check's glob, which also matches live logs)",
	Check: checkArchiveDated}

var logsArchiveNumberedRule = rules.Rule{ID: "logs.archive-numbered", Title: "No /var/log/*.[0-9] entries (img_check glob)",
	Check: checkArchiveNumbered}

// MatchDatedArchive is the glob *-???????? in the C locale: a name that is
// not a dot-name and ends in '-' followed by exactly 8 bytes.
func MatchDatedArchive(name string) bool {
	return !strings.HasPrefix(name, ".") && len(name) >= 9 && name[len(name)-9] == '-'
}

// MatchNumberedArchive is the glob *.[0-9]: not a dot-name, ending in '.'
// and one digit.
func MatchNumberedArchive(name string) bool {
	n := len(name)
	return !strings.HasPrefix(name, ".") && n >= 2 && name[n-2] == '.' && name[n-1] >= '0' && name[n-1] <= '9'
}

// MatchLogGlob is the glob *.log: not a dot-name, ending in ".log".
func MatchLogGlob(name string) bool {
	return !strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".log")
}

// parityLoop emulates `for f in /var/log/<glob>; do [[ -e $f ]] || break;
// ...; done`: matching entries in byte order, and the first one that does
// not exist after resolution ends the loop. judge returns the finding for
// one entry, if the script prints one.
func parityLoop(in *rules.Input, match func(string) bool, judge func(p string, fi fs.FileInfo) (rules.Finding, bool)) []rules.Finding {
	ents, err := facts.ReadDir(in.Guest, varLog)
	if err != nil {
		return []rules.Finding{in.Fault("/var/log", err)}
	}
	var out []rules.Finding
	for _, e := range ents {
		if !match(e.Name()) {
			continue
		}
		p := varLog + "/" + e.Name()
		fi, err := facts.Stat(in.Guest, p)
		if err != nil {
			out = append(out, in.Fault("/"+p, err))
			continue
		}
		if fi == nil {
			break
		}
		if f, ok := judge(p, fi); ok {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, silent(in, "/var/log", "no entry matched"))
	}
	return out
}

// parityLogWarn is the WARN of the log loops. Evidence carries the size of
// a regular file, which the text frame needs for its content block; the
// script's cat prints nothing for a directory.
func parityLogWarn(in *rules.Input, p string, fi fs.FileInfo, msg, fix string) rules.Finding {
	display := "/" + p
	ev := []rules.KV{{Key: rules.KeyPath, Value: display}}
	if fi.Mode().IsRegular() {
		ev = append(ev, rules.KV{Key: rules.KeySize, Value: strconv.FormatInt(fi.Size(), 10)})
	} else {
		ev = append(ev, rules.KV{Key: "type", Value: rules.FileType(fi.Mode())})
	}
	f := in.New(rules.Warn, display, fmt.Sprintf(msg, display), ev...)
	f.Fix = fix
	return f
}

func checkArchiveDated(in *rules.Input) []rules.Finding {
	return parityLoop(in, MatchDatedArchive, func(p string, fi fs.FileInfo) (rules.Finding, bool) {
		if p == varLog+"/"+cpanelLog {
			return rules.Finding{}, false
		}
		return parityLogWarn(in, p, fi, "Log archive %s found; Contents:", "delete /"+p), true
	})
}

func checkArchiveNumbered(in *rules.Input) []rules.Finding {
	return parityLoop(in, MatchNumberedArchive, func(p string, fi fs.FileInfo) (rules.Finding, bool) {
		return parityLogWarn(in, p, fi, "Log archive %s found; Contents:", "delete /"+p), true
	})
}

// checkUnclearedParity is loop 3: *.log files over 50 bytes; for lfd.log
// only the bytes of lines other than csf's reset and watch lines count;
// cpanel-install.log is exempt.
func checkUnclearedParity(in *rules.Input) []rules.Finding {
	return parityLoop(in, MatchLogGlob, func(p string, fi fs.FileInfo) (rules.Finding, bool) {
		name := p[len(varLog)+1:]
		if name == cpanelLog || !fi.Mode().IsRegular() {
			return rules.Finding{}, false
		}
		size, approximate := fi.Size(), false
		if name == lfdLog {
			n, binary, err := rules.LFDOtherBytes(in.Guest, p)
			if err != nil {
				return in.Fault("/"+p, err), true
			}
			size, approximate = n, binary
		}
		if size <= parityLogMin {
			return rules.Finding{}, false
		}
		f := parityLogWarn(in, p, fi, "un-cleared log file, %s found; Contents:", "truncate /"+p+" to 0 bytes")
		f.Approximate = approximate
		return f, true
	})
}
