package report

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
)

// maxContents caps the body --show-contents prints for one file.
const maxContents = 64 << 10

// contentRules are the rules whose files --show-contents may print: logs
// and authorized_keys (RULES.md §1.2). Nothing else is ever shown.
var contentRules = map[string]bool{
	"logs.uncleared":      true,
	"logs.rotated":        true,
	"ssh.authorized-keys": true,
}

// writeContents prints the body of the file f names, indented, capped at
// maxContents and redacted. A file that holds a private key is withheld
// whatever its rule.
func writeContents(w *bufio.Writer, files fs.FS, f rules.Finding) {
	p := f.Get(rules.KeyPath)
	if !contentRules[f.Rule] || p == "" || (f.Level != rules.Warn && f.Level != rules.Fail) {
		return
	}
	fh, err := files.Open(strings.TrimPrefix(p, "/"))
	if err != nil {
		return
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !st.Mode().IsRegular() {
		return
	}
	body, err := io.ReadAll(io.LimitReader(fh, maxContents+1))
	if err != nil || len(body) == 0 {
		return
	}
	const indent = "        | "
	if bytes.Contains(body, []byte("PRIVATE KEY")) || bytes.Contains(body, []byte("PuTTY-User-Key-File")) {
		w.WriteString(indent + "[contents withheld: holds a private key]\n")
		return
	}
	truncated := len(body) > maxContents
	if truncated {
		body = body[:maxContents]
	}
	for _, line := range strings.SplitAfter(strings.TrimRight(string(body), "\n"), "\n") {
		w.WriteString(indent + redact(strings.TrimRight(line, "\r\n")) + "\n")
	}
	if truncated {
		w.WriteString(indent + "[... truncated]\n")
	}
}
