package rules

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var historyShellRule = Rule{
	ID: "history.shell", Title: "No shell or REPL history is left in any home",
	Check: checkHistory,
}

// historyFiles are the history files checked in each home, the listed ones and the optional extras.
var historyFiles = []string{
	".bash_history", ".zsh_history", ".zhistory", ".local/share/fish/fish_history",
	".mysql_history", ".psql_history", ".python_history", ".lesshst", ".viminfo",
	".sqlite_history", ".node_repl_history", ".rediscli_history",
}

// bashHistoryLimit is the size from which .bash_history FAILs, as img_check.
const bashHistoryLimit = 200

// credentialPatterns mark history lines that carry a credential; they are
// matched case-insensitively.
var credentialPatterns = []string{"identified by", "password=", "--password", "pgpassword=", "mysql_pwd="}

// credentialLines returns the 1-based numbers of lines matching a pattern.
func credentialLines(data []byte) []int {
	var out []int
	for i, l := range bytes.Split(data, []byte("\n")) {
		low := strings.ToLower(string(l))
		for _, p := range credentialPatterns {
			if strings.Contains(low, p) {
				out = append(out, i+1)
				break
			}
		}
	}
	return out
}

func checkHistory(in *Input) []Finding {
	homes, out := homesOrFault(in)
	var clean []KV // the homes without history: one PASS names them all
	for _, h := range homes {
		var found []Finding
		for _, rel := range historyFiles {
			if f, ok := historyFinding(in, h, path.Join(h.Path, rel)); ok {
				found = append(found, f)
			}
		}
		if len(found) == 0 {
			clean = append(clean, KV{KeyPath, h.Display()})
		}
		out = append(out, found...)
	}
	switch {
	case len(clean) == 1:
		out = append(out, in.New(Pass, clean[0].Value, "No shell history in "+clean[0].Value, clean...))
	case len(clean) > 1:
		out = append(out, in.New(Pass, "homes", fmt.Sprintf("No shell history in %d homes", len(clean)), clean...))
	case len(out) == 0:
		out = append(out, in.New(Pass, "homes", "No home directory to check"))
	}
	return out
}

// historyFinding judges one history file. Missing, empty and /dev/null
// files give no finding. Contents are never reported, only line numbers.
func historyFinding(in *Input, h facts.Home, name string) (Finding, bool) {
	display := "/" + name
	fi, err := facts.Stat(in.Guest, name)
	if err != nil {
		return in.Fault(display, err), true
	}
	if fi == nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return Finding{}, false // missing, dangling, a link to /dev/null, empty
	}
	size := strconv.FormatInt(fi.Size(), 10)
	ev := []KV{{KeyPath, display}, {KeyUser, h.User}, {KeySize, size}}
	fix := "truncate or delete " + display
	isBash := path.Base(name) == ".bash_history"
	if isBash && h.Path == "root" {
		fix = "truncate /root/.bash_history to 0 bytes (and clear root's shell history)"
	}
	data, err := in.Guest.ReadFileLimit(name, facts.CapConfig)
	big := isBash && fi.Size() >= bashHistoryLimit
	if err != nil && !big { // a bash history over the cap FAILs on its size alone
		return in.Fault(display, err), true
	}
	var f Finding
	switch lines := credentialLines(data); {
	case len(lines) > 0:
		for _, n := range lines {
			ev = append(ev, KV{KeyLine, strconv.Itoa(n)})
		}
		f = in.New(Fail, display, fmt.Sprintf("%s contains what looks like a credential at line %d", display, lines[0]), ev...)
	case big:
		f = in.New(Fail, display, fmt.Sprintf("%s has %s bytes of shell history", display, size), ev...)
	default:
		f = in.New(Warn, display, fmt.Sprintf("%s is not empty (%s bytes)", display, size), ev...)
	}
	f.Fix = fix
	return f, true
}
