package report

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

// maxContents caps the body --show-contents prints for one file.
const maxContents = 64 << 10

// contentRules are the rules whose files --show-contents may print: logs
// and authorized_keys. Nothing else is ever shown.
var contentRules = map[string]bool{
	"logs.uncleared":      true,
	"logs.rotated":        true,
	"ssh.authorized-keys": true,
}

// A ContentFile is a guest file whose body a report may print with
// --show-contents, and how many bytes of it the report can use.
type ContentFile struct {
	Path string // guest path, as the finding's path evidence names it
	Max  int64
	// Whole files only: a file over Max is not shown at all (and need not
	// be read); otherwise its first Max bytes are shown.
	Whole bool
}

// ContentFiles lists the files whose bodies the text reports of results
// may print: what Image.Contents must hold. The text report prints the
// logs and authorized_keys files of WARN and FAIL findings; the img_check
// frame, the files the script would cat.
func ContentFiles(results []rules.Result) []ContentFile {
	var out []ContentFile
	for _, r := range results {
		for _, f := range r.Findings {
			p := f.Get(rules.KeyPath)
			switch {
			case p == "":
			case strings.HasPrefix(f.Rule, "logs.") && f.Level == rules.Warn, (f.Rule == "root.ssh" || f.Rule == "users.ssh") && f.Level == rules.Fail:
				out = append(out, ContentFile{Path: p, Max: imgcheck.MaxShownBody, Whole: true})
			case contentRules[f.Rule] && (f.Level == rules.Warn || f.Level == rules.Fail):
				out = append(out, ContentFile{Path: p, Max: maxContents})
			}
		}
	}
	return out
}

// writeContents prints the body of the file f names, indented, capped at
// maxContents and redacted. A file that holds a private key is withheld
// whatever its rule.
func writeContents(w *bufio.Writer, contents map[string][]byte, f rules.Finding) {
	p := f.Get(rules.KeyPath)
	if !contentRules[f.Rule] || p == "" || (f.Level != rules.Warn && f.Level != rules.Fail) {
		return
	}
	body := contents[p]
	if len(body) == 0 {
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
		w.WriteString(indent + Escape(rules.Redact(strings.TrimRight(line, "\r\n"))) + "\n")
	}
	if truncated {
		w.WriteString(indent + "[... truncated]\n")
	}
}
